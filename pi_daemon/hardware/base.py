"""The interfaces every backend implements (real hardware and simulation alike)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from beerpi_protocol import FaultCode


class ProbeError(Exception):
    """A probe read failed; ``code`` says how (disconnected, crc, reset_85, ...)."""

    def __init__(self, code: FaultCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RelayError(Exception):
    """A relay could not be set up (bad pin, pin in use, no GPIO on this machine)."""


class CameraError(Exception):
    """The camera is absent or failed; the daemon answers camera_unavailable."""


class Probe(Protocol):
    """One temperature probe (a DS18B20 on the 1-Wire bus, or a simulated one)."""

    @property
    def id(self) -> str: ...

    async def read(self) -> float:
        """Degrees Celsius; raises ProbeError. May take ~0.75 s on real hardware."""
        ...

    def close(self) -> None: ...


class Relay(Protocol):
    """One relay channel. ``on``/``off`` switch it at once; the caller enforces timing."""

    @property
    def id(self) -> str: ...

    @property
    def is_on(self) -> bool: ...

    def on(self) -> None: ...

    def off(self) -> None: ...

    def close(self) -> None:
        """Switch off, then release the pin."""
        ...


class Camera(Protocol):
    @property
    def video_suffix(self) -> str:
        """File suffix of recorded videos: ".mp4" (H.264), which browsers play."""
        ...

    @property
    def video_content_type(self) -> str: ...

    async def capture_photo(self, path: Path, caption: Sequence[str]) -> None:
        """Write a JPEG to ``path``; ``caption`` lines may be drawn on simulated photos."""
        ...

    async def record_video(self, path: Path, seconds: float) -> None:
        """Write a video of ``seconds`` to ``path``."""
        ...

    def close(self) -> None: ...
