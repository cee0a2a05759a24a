"""Tilt hydrometers heard over Bluetooth LE, with bleak (the ``tilt`` extra).

bleak is imported here only, when the daemon starts listening: a daemon with
no ``[[tilts]]`` never loads it. A scan that cannot start (no adapter, BlueZ
down) is retried every minute; control carries on meanwhile. Each advert is
decoded by the pure ``decode_tilt``; what a Tilt we were not told about sends
is ignored, and a calibrated gravity outside 0.990-1.200 is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from beerpi_protocol import HydrometerReading
from beerpi_protocol.const import SG_RANGE
from pi_daemon.clock import Clock
from pi_daemon.config import TiltSection

from .book import new_reading
from .tilt import decode_tilt

_LOGGER = logging.getLogger(__name__)
RETRY_S: Final = 60.0


def tilt_reading(
    tilt: TiltSection, company_id: int, data: bytes, now: datetime
) -> HydrometerReading | None:
    """The calibrated reading in one manufacturer-data entry, if it is this Tilt's."""
    advert = decode_tilt(company_id, data)
    if advert is None or advert.colour != tilt.colour:
        return None
    sg = round(advert.sg + tilt.sg_offset, 4)
    if not SG_RANGE[0] <= sg <= SG_RANGE[1]:
        return None
    celsius = round(advert.temperature_c + tilt.temperature_offset_c, 2)
    temperature_c = celsius if -20.0 <= celsius <= 110.0 else None
    return new_reading(tilt.id, sg, now, temperature_c=temperature_c)


class TiltListener:
    """Listens for the configured Tilts; ``poll`` hands the loop what it heard since."""

    def __init__(self, tilts: Sequence[TiltSection], clock: Clock) -> None:
        self._tilts = {t.colour: t for t in tilts}
        self._clock = clock
        self._pending: dict[str, HydrometerReading] = {}
        self._task: asyncio.Task[None] | None = None
        self._scanner: Any = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="beerpi-tilt")

    async def _listen(self) -> None:
        from bleak import BleakScanner  # the tilt extra; only a daemon with a Tilt loads it

        warned = False
        while True:
            scanner = BleakScanner(detection_callback=self._seen)
            try:
                await scanner.start()
            except Exception as err:  # no adapter, no BlueZ, D-Bus refused: all mean "not now"
                (_LOGGER.debug if warned else _LOGGER.warning)(
                    "Tilt: cannot scan Bluetooth LE (%s); trying again every %g s", err, RETRY_S
                )
                warned = True
                await asyncio.sleep(RETRY_S)
                continue
            self._scanner = scanner
            _LOGGER.info("Tilt: listening for %s", ", ".join(sorted(self._tilts)))
            await asyncio.Event().wait()  # until close() cancels us

    def _seen(self, device: Any, advertisement: Any) -> None:
        data = getattr(advertisement, "manufacturer_data", None) or {}
        now = self._clock.now()
        for company_id, payload in data.items():
            for tilt in self._tilts.values():
                reading = tilt_reading(tilt, company_id, bytes(payload), now)
                if reading is not None:
                    self._pending[tilt.id] = reading

    def poll(self, now: datetime) -> list[HydrometerReading]:
        heard, self._pending = list(self._pending.values()), {}
        return heard

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._scanner is not None:
            with contextlib.suppress(Exception):
                await self._scanner.stop()
