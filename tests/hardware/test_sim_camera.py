"""The simulated camera: a real JPEG and a real MJPEG AVI, paced by the clock."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image

from pi_daemon.clock import ManualClock
from pi_daemon.hardware.base import Camera, CameraError
from pi_daemon.simulation.avi import MjpegAviWriter
from pi_daemon.simulation.camera import SimulatedCamera


def _chunks(data: bytes, start: int, end: int) -> list[tuple[bytes, bytes]]:
    """(fourcc, payload) of the RIFF chunks in data[start:end]; LISTs keep their type."""
    found = []
    while start < end:
        fourcc, size = struct.unpack_from("<4sI", data, start)
        found.append((fourcc, data[start + 8 : start + 8 + size]))
        start += 8 + size + size % 2
    return found


def _parse_avi(data: bytes) -> dict[str, object]:
    """An independent reading of the file, checking every size on the way."""
    riff, riff_size, form = struct.unpack_from("<4sI4s", data)
    assert (riff, form) == (b"RIFF", b"AVI ")
    assert riff_size == len(data) - 8
    top = _chunks(data, 12, len(data))
    assert [c[0] for c in top] == [b"LIST", b"LIST", b"idx1"]
    hdrl, movi, idx1 = top[0][1], top[1][1], top[2][1]
    assert hdrl[:4] == b"hdrl"
    assert movi[:4] == b"movi"
    avih, strl = _chunks(hdrl, 4, len(hdrl))
    assert avih[0] == b"avih"
    us_per_frame, _, _, flags, total_frames = struct.unpack_from("<5I", avih[1])
    width, height = struct.unpack_from("<2I", avih[1], 32)
    strh, strf = _chunks(strl[1], 4, len(strl[1]))
    kind, handler = struct.unpack_from("<4s4s", strh[1])
    scale, rate, _, length = struct.unpack_from("<4I", strh[1], 20)
    compression = struct.unpack_from("<4s", strf[1], 16)[0]
    frames = _chunks(movi, 4, len(movi))
    entries = [struct.unpack_from("<4sIII", idx1, i) for i in range(0, len(idx1), 16)]
    for (_, _, offset, size), (fourcc, payload) in zip(entries, frames, strict=True):
        assert movi[offset + 8 : offset + 8 + size] == payload  # offsets from 'movi'
        assert fourcc == b"00dc"
    return {
        "frames": [payload for _, payload in frames],
        "total_frames": total_frames,
        "length": length,
        "fps": rate / scale,
        "us_per_frame": us_per_frame,
        "size": (width, height),
        "codec": (kind, handler, compression),
        "indexed": flags & 0x10 == 0x10 and len(entries) == len(frames),
    }


async def test_photo_is_a_real_jpeg(tmp_path: Path) -> None:
    camera: Camera = SimulatedCamera(ManualClock(), size=(800, 600))
    path = tmp_path / "photo.jpg"
    await camera.capture_photo(path, ["beer 19.8 °C", "fridge 17.1 °C", "heater off"])
    data = path.read_bytes()
    assert data[:3] == b"\xff\xd8\xff"
    assert data[-2:] == b"\xff\xd9"
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size == (800, 600)
        image.load()


async def test_video_is_a_valid_mjpeg_avi_paced_by_the_clock(tmp_path: Path) -> None:
    clock = ManualClock()
    captions = iter(range(100))
    camera = SimulatedCamera(
        clock, size=(320, 240), fps=4, caption_source=lambda: [f"beer {next(captions)} °C"]
    )
    assert (camera.video_suffix, camera.video_content_type) == (".avi", "video/x-msvideo")
    path = tmp_path / "clip.avi"
    await camera.record_video(path, 2.5)
    assert clock.monotonic() == pytest.approx(2.5)
    avi = _parse_avi(path.read_bytes())
    assert avi["total_frames"] == avi["length"] == 10
    assert avi["fps"] == 4.0
    assert avi["us_per_frame"] == 250_000
    assert avi["size"] == (320, 240)
    assert avi["codec"] == (b"vids", b"MJPG", b"MJPG")
    assert avi["indexed"]
    frames = avi["frames"]
    assert isinstance(frames, list)
    assert len(frames) == 10
    for frame in frames:
        with Image.open(io.BytesIO(frame)) as image:
            assert image.size == (320, 240)
    assert len(set(frames)) == 10  # the bubbles and readings move


def test_writer_pads_odd_frames_and_refuses_non_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "odd.avi"
    with MjpegAviWriter(path, 8, 8, 2.5) as writer:
        writer.add_frame(b"\xff\xd8odd\xff\xd9")  # 7 bytes: padded to 8
        writer.add_frame(b"\xff\xd8even\xff\xd9")
        with pytest.raises(ValueError, match="JPEG"):
            writer.add_frame(b"not a jpeg")
    avi = _parse_avi(path.read_bytes())
    assert avi["frames"] == [b"\xff\xd8odd\xff\xd9", b"\xff\xd8even\xff\xd9"]
    assert avi["fps"] == 2.5


async def test_failing_camera_raises_camera_error(tmp_path: Path) -> None:
    camera = SimulatedCamera(ManualClock())
    camera.fail(True)
    with pytest.raises(CameraError):
        await camera.capture_photo(tmp_path / "p.jpg", [])
    with pytest.raises(CameraError):
        await camera.record_video(tmp_path / "v.avi", 1)
    assert not (tmp_path / "p.jpg").exists()
    assert not (tmp_path / "v.avi").exists()
    camera.fail(False)
    await camera.capture_photo(tmp_path / "p.jpg", [])
    assert (tmp_path / "p.jpg").exists()


async def test_failure_mid_video_leaves_no_file(tmp_path: Path) -> None:
    camera = SimulatedCamera(ManualClock(), size=(64, 48))

    def caption() -> list[str]:
        camera.fail(True)  # the camera goes away after the first frame
        return ["x"]

    camera._caption_source = caption
    with pytest.raises(CameraError):
        await camera.record_video(tmp_path / "v.avi", 2)
    assert not (tmp_path / "v.avi").exists()


async def test_busy_while_recording(tmp_path: Path) -> None:
    clock = ManualClock()
    camera = SimulatedCamera(clock, size=(64, 48))
    seen: list[bool] = []
    camera._caption_source = lambda: seen.append(camera.busy) or []
    assert not camera.busy
    await camera.record_video(tmp_path / "v.avi", 1)
    assert seen == [True] * 4
    assert not camera.busy


async def test_closed_camera_refuses(tmp_path: Path) -> None:
    camera = SimulatedCamera(ManualClock())
    camera.close()
    with pytest.raises(CameraError, match="closed"):
        await camera.capture_photo(tmp_path / "p.jpg", [])
