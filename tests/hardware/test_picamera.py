"""PiCamera against a fake picamera2 package injected into sys.modules."""

from __future__ import annotations

import asyncio
import sys
import threading
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PIL import Image

from pi_daemon.hardware.base import Camera, CameraError
from pi_daemon.hardware.picamera import PiCamera

MP4_START = b"\x00\x00\x00\x20ftypisom"  # an MP4 file begins with its ftyp box


class FakePicamera2:
    """The documented picamera2 calls PiCamera uses, with knobs to make them fail."""

    cameras: ClassVar[list[dict[str, Any]]] = [{"Model": "imx708", "Num": 0, "Id": "/base/imx708"}]
    fail_on: ClassVar[str | None] = None
    gate: ClassVar[threading.Event | None] = None
    instances: ClassVar[list[FakePicamera2]] = []

    def __init__(self, camera_num: int = 0) -> None:
        self._maybe_fail("init")
        self.camera_num = camera_num
        self.calls: list[str] = []
        self.config: dict[str, Any] = {}
        self.output: Any = None
        self.closed = False
        FakePicamera2.instances.append(self)

    @classmethod
    def global_camera_info(cls) -> list[dict[str, Any]]:
        return cls.cameras

    def _maybe_fail(self, step: str) -> None:
        if FakePicamera2.fail_on == step:
            raise RuntimeError(f"libcamera says no at {step}")

    def create_still_configuration(self, main: dict[str, Any]) -> dict[str, Any]:
        return {"use": "still", "size": main.get("size", (4608, 2592))}

    def create_video_configuration(self, main: dict[str, Any]) -> dict[str, Any]:
        return {"use": "video", "size": main["size"]}

    def configure(self, config: dict[str, Any]) -> None:
        self.calls.append("configure")
        self.config = config

    def start(self) -> None:
        self.calls.append("start")

    def capture_file(self, name: str, format: str | None = None) -> dict[str, Any]:
        self._maybe_fail("capture")
        if FakePicamera2.gate is not None:
            FakePicamera2.gate.wait(5)
        assert format == "jpeg"
        Image.new("RGB", self.config["size"], "orange").save(name, format="JPEG")
        return {}

    def start_recording(self, encoder: Any, output: Any) -> None:
        self._maybe_fail("record")
        self.calls.append("start_recording")
        self.encoder = encoder
        self.output = output
        if FakePicamera2.fail_on != "empty":
            Path(output.name).write_bytes(MP4_START)

    def stop_recording(self) -> None:
        self.calls.append("stop_recording")
        if FakePicamera2.fail_on == "mux":
            # What PyavOutput does when muxing fails: close, then tell the callback.
            self.output.error_callback(OSError(28, "No space left on device"))
        self._maybe_fail("stop")

    def close(self) -> None:
        self.calls.append("close")
        self.closed = True


class FakeH264Encoder:
    def __init__(self, bitrate: int) -> None:
        self.bitrate = bitrate


class FakePyavOutput:
    """picamera2's PyavOutput: muxes the encoder's packets with PyAV (format from name/arg)."""

    def __init__(self, output_name: str, format: str | None = None) -> None:
        if FakePicamera2.fail_on == "no-av":
            raise ModuleNotFoundError("No module named 'av'")
        self.name = output_name
        self.format = format
        self.error_callback: Any = None


@pytest.fixture
def fake_picamera2(monkeypatch: pytest.MonkeyPatch) -> type[FakePicamera2]:
    package = types.ModuleType("picamera2")
    package.Picamera2 = FakePicamera2  # type: ignore[attr-defined]
    encoders = types.ModuleType("picamera2.encoders")
    encoders.H264Encoder = FakeH264Encoder  # type: ignore[attr-defined]
    outputs = types.ModuleType("picamera2.outputs")
    outputs.PyavOutput = FakePyavOutput  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", package)
    monkeypatch.setitem(sys.modules, "picamera2.encoders", encoders)
    monkeypatch.setitem(sys.modules, "picamera2.outputs", outputs)
    monkeypatch.setattr(FakePicamera2, "instances", [])
    monkeypatch.setattr(FakePicamera2, "fail_on", None)
    monkeypatch.setattr(FakePicamera2, "gate", None)
    monkeypatch.setattr(FakePicamera2, "cameras", list(FakePicamera2.cameras))
    return FakePicamera2


async def test_photo_is_a_jpeg_and_the_camera_is_released(
    fake_picamera2: type[FakePicamera2], tmp_path: Path
) -> None:
    camera: Camera = PiCamera(photo_size=(640, 480), settle_s=0)
    path = tmp_path / "photo.jpg"
    await camera.capture_photo(path, ["beer 19.5 °C"])
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"
    with Image.open(path) as image:
        assert image.size == (640, 480)
    (instance,) = fake_picamera2.instances
    assert instance.calls == ["configure", "start", "close"]


async def test_video_is_h264_in_mp4_and_stops(
    fake_picamera2: type[FakePicamera2], tmp_path: Path
) -> None:
    camera = PiCamera(video_size=(640, 480), bitrate=3_000_000)
    assert (camera.video_suffix, camera.video_content_type) == (".mp4", "video/mp4")
    path = tmp_path / "clip.mp4"
    await camera.record_video(path, 0.05)
    assert path.read_bytes().startswith(MP4_START)
    (instance,) = fake_picamera2.instances
    assert instance.calls == ["configure", "start_recording", "stop_recording", "close"]
    assert instance.config == {"use": "video", "size": (640, 480)}
    # The hardware H.264 encoder, muxed into MP4 in-process by PyAV (no ffmpeg program).
    assert isinstance(instance.encoder, FakeH264Encoder)
    assert instance.encoder.bitrate == 3_000_000
    assert isinstance(instance.output, FakePyavOutput)
    assert (instance.output.name, instance.output.format) == (str(path), "mp4")


async def test_picamera2_without_pyav_output_says_what_to_upgrade(
    fake_picamera2: type[FakePicamera2], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # picamera2 before 0.3.23 has no PyavOutput: no camera is opened, the message says why.
    monkeypatch.delattr(sys.modules["picamera2.outputs"], "PyavOutput")
    with pytest.raises(CameraError, match=r"picamera2 0\.3\.23 or newer"):
        await PiCamera().record_video(tmp_path / "v.mp4", 0.01)
    assert fake_picamera2.instances == []
    assert not (tmp_path / "v.mp4").exists()


async def test_pyav_missing_says_which_package(
    fake_picamera2: type[FakePicamera2], tmp_path: Path
) -> None:
    fake_picamera2.fail_on = "no-av"
    with pytest.raises(CameraError, match="apt install python3-av"):
        await PiCamera().record_video(tmp_path / "v.mp4", 0.01)
    assert fake_picamera2.instances == []


@pytest.mark.parametrize(
    ("step", "message"),
    [("mux", "No space left on device"), ("empty", "recorded nothing")],
)
async def test_video_write_failure_is_camera_error_and_leaves_no_file(
    fake_picamera2: type[FakePicamera2], tmp_path: Path, step: str, message: str
) -> None:
    fake_picamera2.fail_on = step
    path = tmp_path / "clip.mp4"
    with pytest.raises(CameraError, match=message):
        await PiCamera().record_video(path, 0.01)
    assert not path.exists()
    (instance,) = fake_picamera2.instances
    assert instance.closed


@pytest.mark.parametrize("step", ["init", "capture"])
async def test_photo_failure_is_camera_error(
    fake_picamera2: type[FakePicamera2], tmp_path: Path, step: str
) -> None:
    fake_picamera2.fail_on = step
    path = tmp_path / "photo.jpg"
    with pytest.raises(CameraError, match=f"libcamera says no at {step}"):
        await PiCamera(settle_s=0).capture_photo(path, [])
    assert not path.exists()
    assert all(instance.closed for instance in fake_picamera2.instances)


@pytest.mark.parametrize("step", ["record", "stop"])
async def test_video_failure_is_camera_error_and_releases(
    fake_picamera2: type[FakePicamera2], tmp_path: Path, step: str
) -> None:
    fake_picamera2.fail_on = step
    path = tmp_path / "clip.mp4"
    with pytest.raises(CameraError):
        await PiCamera().record_video(path, 0.01)
    assert not path.exists()
    (instance,) = fake_picamera2.instances
    assert instance.closed


async def test_no_camera_connected(fake_picamera2: type[FakePicamera2], tmp_path: Path) -> None:
    fake_picamera2.cameras = []
    with pytest.raises(CameraError, match="no camera connected"):
        await PiCamera().capture_photo(tmp_path / "p.jpg", [])
    assert PiCamera.list_cameras() == []
    assert fake_picamera2.instances == []


async def test_picamera2_absent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)
    with pytest.raises(CameraError, match="python3-picamera2"):
        await PiCamera().capture_photo(tmp_path / "p.jpg", [])
    with pytest.raises(CameraError):
        await PiCamera().record_video(tmp_path / "v.mp4", 1)
    assert PiCamera.list_cameras() == []


async def test_one_capture_at_a_time(fake_picamera2: type[FakePicamera2], tmp_path: Path) -> None:
    fake_picamera2.gate = threading.Event()
    camera = PiCamera(settle_s=0)
    assert not camera.busy
    first = asyncio.create_task(camera.capture_photo(tmp_path / "1.jpg", []))
    await asyncio.sleep(0)  # the first takes the lock
    assert camera.busy
    second = asyncio.create_task(camera.capture_photo(tmp_path / "2.jpg", []))
    await asyncio.sleep(0.02)
    assert len(fake_picamera2.instances) == 1  # the second waits for the lock
    fake_picamera2.gate.set()
    await asyncio.gather(first, second)
    assert not camera.busy
    assert (tmp_path / "2.jpg").exists()


async def test_closed_camera_refuses(fake_picamera2: type[FakePicamera2], tmp_path: Path) -> None:
    camera = PiCamera(settle_s=0)
    camera.close()
    with pytest.raises(CameraError, match="closed"):
        await camera.capture_photo(tmp_path / "p.jpg", [])


async def test_non_positive_video_length(fake_picamera2: type[FakePicamera2]) -> None:
    with pytest.raises(ValueError, match="positive"):
        await PiCamera().record_video(Path("x.mp4"), 0)
