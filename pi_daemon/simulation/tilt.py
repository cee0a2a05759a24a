"""A simulated Tilt floating in the simulated beer: gravity from the yeast's progress.

It reads the plant's gravity, which falls with the fraction of extract the
yeast has fermented (the same fraction its heat comes from), and the beer's
temperature, as a Tilt reports them: gravity to 0.001 after a jitter of about
half a point, temperature to a whole °F. One reading every ``period_s`` of the
simulation's clock; the noise is drawn from the simulation's seed, so a run
repeats exactly.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Final

from beerpi_protocol import HydrometerReading
from pi_daemon.gravity.book import new_reading

from .fermenter import SimulatedFermenter

SG_RESOLUTION: Final = 0.001
SG_NOISE: Final = 0.0005


class SimulatedTilt:
    """Implements ``HydrometerSource``."""

    def __init__(
        self,
        hydrometer: str,
        fermenter: SimulatedFermenter,
        *,
        period_s: float = 60.0,
        seed: int | str = 1,
    ) -> None:
        self.id = hydrometer
        self._fermenter = fermenter
        self._period_s = period_s
        self._rng = random.Random(f"{seed}-tilt-{hydrometer}")
        self._last_s: float | None = None

    async def start(self) -> None:
        """Nothing to start: it is read in step with the clock."""

    def read(self, now: datetime) -> HydrometerReading:
        fermenter = self._fermenter
        fermenter.sync()
        plant = fermenter.model.plant
        sg = plant.gravity + self._rng.gauss(0.0, SG_NOISE)
        sg = round(round(sg / SG_RESOLUTION) * SG_RESOLUTION, 3)
        fahrenheit = round(plant.beer_c * 1.8 + 32.0)
        return new_reading(self.id, sg, now, temperature_c=round((fahrenheit - 32.0) / 1.8, 2))

    def poll(self, now: datetime) -> list[HydrometerReading]:
        now_s = self._fermenter.clock.monotonic()
        if self._last_s is not None and now_s - self._last_s < self._period_s:
            return []
        self._last_s = now_s
        return [self.read(now)]

    async def close(self) -> None:
        """Nothing to release."""
