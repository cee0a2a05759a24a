"""What a hydrometer backend (the simulated Tilt, the Bluetooth listener) offers the loop."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from beerpi_protocol import HydrometerReading


class HydrometerSource(Protocol):
    async def start(self) -> None:
        """Begin listening (a Bluetooth scan); nothing to do for the simulation."""

    def poll(self, now: datetime) -> list[HydrometerReading]:
        """Readings that arrived since the last poll (the control loop calls this each step)."""
        ...

    async def close(self) -> None: ...
