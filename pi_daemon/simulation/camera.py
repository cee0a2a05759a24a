"""The simulated camera: rendered JPEG photos and MJPEG/AVI videos of the readings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from pi_daemon.clock import Clock
from pi_daemon.hardware.base import CameraError

from .avi import MjpegAviWriter


class SimulatedCamera:
    """Implements ``Camera`` with pictures drawn by Pillow.

    Video frames are spaced by ``clock.sleep``, so a 10 s video lasts 10 s of
    the daemon's clock (a blink at ``--sim-speed 600``) and plays for 10 s.
    ``caption_source``, when given, supplies each video frame's lines (the
    live readings); otherwise frames reuse the last photo's caption.
    """

    video_suffix = ".avi"
    video_content_type = "video/x-msvideo"

    def __init__(
        self,
        clock: Clock,
        *,
        caption_source: Callable[[], Sequence[str]] | None = None,
        size: tuple[int, int] = (640, 480),
        fps: float = 4.0,
        quality: int = 80,
    ) -> None:
        self._clock = clock
        self._caption_source = caption_source
        self._size = size
        self._fps = fps
        self._quality = quality
        self._caption: Sequence[str] = ()
        self._failing = False
        self._closed = False
        self._lock = asyncio.Lock()

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def fail(self, failing: bool = True) -> None:
        """Make every capture raise CameraError, as a camera that went away would."""
        self._failing = failing

    async def capture_photo(self, path: Path, caption: Sequence[str]) -> None:
        async with self._lock:
            self._check()
            self._caption = tuple(caption)
            jpeg = await asyncio.to_thread(self._frame, self._caption, 0, self._clock.now())
            await asyncio.to_thread(Path(path).write_bytes, jpeg)

    async def record_video(self, path: Path, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError("seconds must be positive")
        async with self._lock:
            self._check()
            frames = max(1, round(seconds * self._fps))
            writer = await asyncio.to_thread(MjpegAviWriter, Path(path), *self._size, self._fps)
            try:
                for index in range(frames):
                    self._check()
                    caption = self._caption_source() if self._caption_source else self._caption
                    moment = self._clock.now()
                    jpeg = await asyncio.to_thread(self._frame, tuple(caption), index, moment)
                    await asyncio.to_thread(writer.add_frame, jpeg)
                    await self._clock.sleep(1 / self._fps)
            except BaseException:
                await asyncio.to_thread(writer.close)
                await asyncio.to_thread(Path(path).unlink, missing_ok=True)
                raise
            await asyncio.to_thread(writer.close)

    def close(self) -> None:
        self._closed = True

    def _check(self) -> None:
        if self._closed:
            raise CameraError("camera is closed")
        if self._failing:
            raise CameraError("simulated camera failure")

    def _frame(self, caption: Sequence[str], index: int, moment: datetime) -> bytes:
        # Pillow costs ~10 MB of memory: load it with the first photo, not at start-up.
        from .picture import render, to_jpeg

        image = render(self._size, caption, moment, frame=index)
        return to_jpeg(image, self._quality)
