"""The simulated camera: a real JPEG and a real H.264 MP4, paced by the clock."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import pytest
from PIL import Image

from pi_daemon.clock import ManualClock
from pi_daemon.hardware.base import Camera, CameraError
from pi_daemon.simulation.camera import SimulatedCamera
from pi_daemon.simulation.mp4 import Mp4Writer


def _decode_mp4(path: Path) -> dict[str, object]:
    """An independent reading of the file with PyAV's demuxer and decoder."""
    with av.open(str(path)) as container:
        assert container.format.name.startswith("mov,mp4")
        (stream,) = container.streams.video
        codec = stream.codec_context
        images = [frame.to_image() for frame in container.decode(stream)]
        duration_s = container.duration / 1_000_000 if container.duration else 0.0
        return {
            "codec": codec.name,
            "profile": codec.profile,
            "pix_fmt": codec.pix_fmt,
            "size": (codec.width, codec.height),
            "fps": float(stream.average_rate or 0),
            "duration_s": duration_s,
            "images": images,
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


async def test_video_is_an_h264_mp4_paced_by_the_clock(tmp_path: Path) -> None:
    clock = ManualClock()
    captions = iter(range(100))
    camera = SimulatedCamera(
        clock, size=(320, 240), fps=4, caption_source=lambda: [f"beer {next(captions)} °C"]
    )
    assert (camera.video_suffix, camera.video_content_type) == (".mp4", "video/mp4")
    path = tmp_path / "clip.mp4"
    await camera.record_video(path, 2.5)
    assert clock.monotonic() == pytest.approx(2.5)
    data = path.read_bytes()
    assert data[4:8] == b"ftyp"
    # The index comes first (+faststart), so a browser can play before the download ends.
    assert data.index(b"moov") < data.index(b"mdat")
    video = _decode_mp4(path)
    # What browsers play: H.264 (Main profile, 4:2:0) in MP4.
    assert (video["codec"], video["profile"], video["pix_fmt"]) == ("h264", "Main", "yuv420p")
    assert video["size"] == (320, 240)
    assert video["fps"] == 4.0
    assert video["duration_s"] == pytest.approx(2.5)
    images = video["images"]
    assert isinstance(images, list)
    assert len(images) == 10
    # The bubbles and readings move: consecutive frames differ.
    assert all(a.tobytes() != b.tobytes() for a, b in itertools.pairwise(images))


def test_writer_refuses_odd_sizes_and_wrong_frames(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        Mp4Writer(tmp_path / "odd.mp4", 7, 8, 4)
    with pytest.raises(ValueError, match="fps"):
        Mp4Writer(tmp_path / "still.mp4", 8, 8, 0)
    with Mp4Writer(tmp_path / "v.mp4", 16, 16, 2.5) as writer:
        writer.add_frame(Image.new("RGB", (16, 16), "orange"))
        with pytest.raises(ValueError, match="16x16"):
            writer.add_frame(Image.new("RGB", (32, 16)))
    video = _decode_mp4(tmp_path / "v.mp4")
    assert video["fps"] == 2.5
    assert len(video["images"]) == 1  # type: ignore[arg-type]


async def test_failing_camera_raises_camera_error(tmp_path: Path) -> None:
    camera = SimulatedCamera(ManualClock())
    camera.fail(True)
    with pytest.raises(CameraError):
        await camera.capture_photo(tmp_path / "p.jpg", [])
    with pytest.raises(CameraError):
        await camera.record_video(tmp_path / "v.mp4", 1)
    assert not (tmp_path / "p.jpg").exists()
    assert not (tmp_path / "v.mp4").exists()
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
        await camera.record_video(tmp_path / "v.mp4", 2)
    assert not (tmp_path / "v.mp4").exists()


async def test_busy_while_recording(tmp_path: Path) -> None:
    clock = ManualClock()
    camera = SimulatedCamera(clock, size=(64, 48))
    seen: list[bool] = []
    camera._caption_source = lambda: seen.append(camera.busy) or []
    assert not camera.busy
    await camera.record_video(tmp_path / "v.mp4", 1)
    assert seen == [True] * 4
    assert not camera.busy


async def test_closed_camera_refuses(tmp_path: Path) -> None:
    camera = SimulatedCamera(ManualClock())
    camera.close()
    with pytest.raises(CameraError, match="closed"):
        await camera.capture_photo(tmp_path / "p.jpg", [])
