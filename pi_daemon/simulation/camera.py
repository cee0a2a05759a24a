"""The simulated camera: rendered JPEG photos and H.264 MP4 videos of the readings.

Pillow (drawing) and PyAV (encoding) are the ``sim`` extra, which a Pi install
does not have: the camera checks at start-up that they can be imported (without
importing them, so an idle daemon stays small) and refuses to start otherwise,
naming the extra.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pi_daemon.clock import Clock
from pi_daemon.config import ConfigError
from pi_daemon.hardware.base import CameraError

if TYPE_CHECKING:
    from PIL import Image

    from .mp4 import Mp4Writer

# Import name -> distribution name, for the message.
SIM_PACKAGES = {"PIL": "Pillow", "av": "PyAV (av)"}


def missing_sim_packages() -> list[str]:
    """The ``sim`` extra's packages that cannot be imported here."""
    missing = []
    for module, name in SIM_PACKAGES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def require_sim_packages() -> None:
    missing = missing_sim_packages()
    if missing:
        raise ConfigError(
            f"the simulated camera needs {' and '.join(missing)}, which come with the "
            "'sim' extra: pip install 'beerpi[daemon,sim]' (from a clone: "
            "uv sync --extra daemon --extra sim); or turn the camera off with "
            "[camera] enabled = false"
        )


class SimulatedCamera:
    """Implements ``Camera`` with pictures drawn by Pillow and videos encoded by PyAV.

    Video frames are spaced by ``clock.sleep``, so a 10 s video lasts 10 s of
    the daemon's clock (a blink at ``--sim-speed 600``) and plays for 10 s.
    ``caption_source``, when given, supplies each video frame's lines (the
    live readings); otherwise frames reuse the last photo's caption.
    """

    video_suffix = ".mp4"
    video_content_type = "video/mp4"

    def __init__(
        self,
        clock: Clock,
        *,
        caption_source: Callable[[], Sequence[str]] | None = None,
        size: tuple[int, int] = (640, 480),
        fps: float = 4.0,
        quality: int = 80,
    ) -> None:
        require_sim_packages()
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
            jpeg = await asyncio.to_thread(self._jpeg, self._caption, self._clock.now())
            await asyncio.to_thread(Path(path).write_bytes, jpeg)

    async def record_video(self, path: Path, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError("seconds must be positive")
        async with self._lock:
            self._check()
            frames = max(1, round(seconds * self._fps))
            writer = await asyncio.to_thread(_open_writer, Path(path), self._size, self._fps)
            try:
                for index in range(frames):
                    self._check()
                    caption = self._caption_source() if self._caption_source else self._caption
                    moment = self._clock.now()
                    image = await asyncio.to_thread(self._image, tuple(caption), index, moment)
                    await asyncio.to_thread(writer.add_frame, image)
                    await self._clock.sleep(1 / self._fps)
            except BaseException:
                await asyncio.to_thread(_close_quietly, writer)
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

    def _image(self, caption: Sequence[str], index: int, moment: datetime) -> Image.Image:
        # Pillow costs ~10 MB of memory: load it with the first capture, not at start-up.
        from .picture import render

        return render(self._size, caption, moment, frame=index)

    def _jpeg(self, caption: Sequence[str], moment: datetime) -> bytes:
        from .picture import to_jpeg

        return to_jpeg(self._image(caption, 0, moment), self._quality)


def _open_writer(path: Path, size: tuple[int, int], fps: float) -> Mp4Writer:
    # PyAV (with its FFmpeg) is loaded with the first video only.
    from .mp4 import Mp4Writer

    return Mp4Writer(path, *size, fps)


def _close_quietly(writer: Mp4Writer) -> None:
    """Finish what was written; the caller deletes the file and reports the first error."""
    with contextlib.suppress(Exception):
        writer.close()
