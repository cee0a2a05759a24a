"""The Raspberry Pi camera through picamera2: JPEG photos and H.264 MP4 videos.

picamera2 comes from Raspberry Pi OS (``apt install python3-picamera2``; it
needs the system's libcamera), so it is imported on first use and its absence
is a CameraError like any other camera failure: the daemon answers
``camera_unavailable`` and carries on. The camera is opened for each capture
and closed after it, so a camera plugged in later, or one that failed once,
works on the next request, and it draws no power between photos.

Videos: the Pi's H.264 encoder (``H264Encoder``; picamera2 falls back to
libav's software encoder on a Pi 5, which has none) muxed into MP4 by
``PyavOutput``, so browsers play them as they are. PyavOutput (picamera2
0.3.23 and newer, what ``start_and_record_video`` itself uses for ``.mp4``)
writes through PyAV in this process, with the encoder's own timestamps;
``FfmpegOutput`` would need the ``ffmpeg`` program (not on Raspberry Pi OS
Lite), re-timestamps frames by the wall clock as it reads them from a pipe, and
splits its file name on spaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from .base import CameraError


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:  # ImportError, or libcamera failing inside the import
        raise CameraError(
            f"{name} is not available ({exc}); on Raspberry Pi OS: "
            "apt install python3-picamera2 python3-av"
        ) from exc


class PiCamera:
    """A Raspberry Pi camera module; implements ``Camera``.

    One capture at a time: a second one waits for the first, and ``busy`` lets
    the daemon refuse it instead. Blocking picamera2 calls run in a thread.
    """

    video_suffix = ".mp4"
    video_content_type = "video/mp4"

    def __init__(
        self,
        camera_num: int = 0,
        *,
        photo_size: tuple[int, int] | None = None,
        video_size: tuple[int, int] = (1280, 720),
        bitrate: int = 4_000_000,
        settle_s: float = 1.0,
    ) -> None:
        self._camera_num = camera_num
        self._photo_size = photo_size
        self._video_size = video_size
        self._bitrate = bitrate
        # Exposure and white balance need about a second of frames to settle.
        self._settle_s = settle_s
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    @staticmethod
    def list_cameras() -> list[dict[str, Any]]:
        """The cameras libcamera sees (model, id, number); empty when there are none."""
        try:
            return list(_import("picamera2").Picamera2.global_camera_info())
        except CameraError:
            return []

    async def capture_photo(self, path: Path, caption: Sequence[str]) -> None:
        """Write a JPEG to ``path``; ``caption`` is for simulated photos (a real one shows beer)."""
        async with self._lock:
            path = Path(path)
            await self._guarded(asyncio.to_thread(self._photo_blocking, path), path)

    async def record_video(self, path: Path, seconds: float) -> None:
        """Write ``seconds`` of H.264 video in an MP4 file."""
        if not seconds > 0:
            raise ValueError("seconds must be positive")
        async with self._lock:
            path = Path(path)
            await self._guarded(self._video(path, seconds), path)

    def close(self) -> None:
        self._closed = True

    async def _guarded(self, work: Coroutine[Any, Any, None], path: Path) -> None:
        """Run ``work``; any failure becomes CameraError and leaves no partial file."""
        if self._closed:
            work.close()
            raise CameraError("camera is closed")
        try:
            await work
        except BaseException as exc:
            await asyncio.to_thread(path.unlink, missing_ok=True)
            if isinstance(exc, CameraError) or not isinstance(exc, Exception):
                raise  # ours already, or a cancellation
            raise CameraError(f"camera failed: {exc}") from exc

    def _open(self) -> Any:
        lib = _import("picamera2")
        if not lib.Picamera2.global_camera_info():
            raise CameraError("no camera connected (check the ribbon cable)")
        return lib.Picamera2(self._camera_num)

    def _photo_blocking(self, path: Path) -> None:
        camera = self._open()
        try:
            main = {"size": self._photo_size} if self._photo_size else {}
            camera.configure(camera.create_still_configuration(main=main))
            camera.start()
            time.sleep(self._settle_s)
            camera.capture_file(str(path), format="jpeg")
        finally:
            _close_quietly(camera)

    async def _video(self, path: Path, seconds: float) -> None:
        # PyavOutput reports a failed write (disk full, ...) through this callback only.
        errors: list[BaseException] = []
        camera = await asyncio.to_thread(self._start_recording, path, errors.append)
        try:
            # The camera records in real time whatever the daemon's clock speed.
            await asyncio.sleep(seconds)
        finally:
            await asyncio.to_thread(_stop_and_close, camera)
        if errors:
            raise CameraError(f"writing the video failed: {errors[0]}")
        if not await asyncio.to_thread(_has_data, path):
            raise CameraError("the camera recorded nothing")

    def _start_recording(self, path: Path, on_error: Callable[[BaseException], None]) -> Any:
        encoders = _import("picamera2.encoders")
        outputs = _import("picamera2.outputs")
        mp4_output = getattr(outputs, "PyavOutput", None)
        if mp4_output is None:
            raise CameraError(
                "recording MP4 needs picamera2 0.3.23 or newer (PyavOutput): "
                "sudo apt update && sudo apt install python3-picamera2 python3-av"
            )
        try:
            output = mp4_output(str(path), format="mp4")
        except ImportError as exc:  # picamera2 imports PyAV here since 0.3.34
            raise CameraError(
                f"recording MP4 needs PyAV ({exc}): sudo apt install python3-av"
            ) from exc
        output.error_callback = on_error
        camera = self._open()
        try:
            camera.configure(camera.create_video_configuration(main={"size": self._video_size}))
            encoder = encoders.H264Encoder(bitrate=self._bitrate)
            camera.start_recording(encoder, output)
        except BaseException:
            _close_quietly(camera)
            raise
        return camera


def _has_data(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def _stop_and_close(camera: Any) -> None:
    try:
        camera.stop_recording()
    finally:
        _close_quietly(camera)


def _close_quietly(camera: Any) -> None:
    """Release the camera; a failure here must not hide the capture's own outcome."""
    with contextlib.suppress(Exception):
        camera.close()
