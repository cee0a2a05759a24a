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

H264_START = b"\x00\x00\x00\x01\x67"  # Annex B start code + sequence parameter set


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
        self.output = output
        Path(output.name).write_bytes(H264_START)

    def stop_recording(self) -> None:
        self.calls.append("stop_recording")
        with Path(self.output.name).open("ab") as f:
            f.write(b"\x00\x00\x00\x01\x65frame")
        self._maybe_fail("stop")

    def close(self) -> None:
        self.calls.append("close")
        self.closed = True


class FakeH264Encoder:
    def __init__(self, bitrate: int) -> None:
        self.bitrate = bitrate


class FakeFileOutput:
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture
def fake_picamera2(monkeypatch: pytest.MonkeyPatch) -> type[FakePicamera2]:
    package = types.ModuleType("picamera2")
    package.Picamera2 = FakePicamera2  # type: ignore[attr-defined]
    encoders = types.ModuleType("picamera2.encoders")
    encoders.H264Encoder = FakeH264Encoder  # type: ignore[attr-defined]
    outputs = types.ModuleType("picamera2.outputs")
    outputs.FileOutput = FakeFileOutput  # type: ignore[attr-defined]
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


async def test_video_is_h264_and_stops(fake_picamera2: type[FakePicamera2], tmp_path: Path) -> None:
    camera = PiCamera(video_size=(640, 480))
    assert (camera.video_suffix, camera.video_content_type) == (".h264", "video/h264")
    path = tmp_path / "clip.h264"
    await camera.record_video(path, 0.05)
    assert path.read_bytes().startswith(H264_START)
    (instance,) = fake_picamera2.instances
    assert instance.calls == ["configure", "start_recording", "stop_recording", "close"]
    assert instance.config == {"use": "video", "size": (640, 480)}


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
    path = tmp_path / "clip.h264"
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
        await PiCamera().record_video(tmp_path / "v.h264", 1)
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
        await PiCamera().record_video(Path("x.h264"), 0)
