"""Each hydrometer's latest reading and a short history, whatever brought it.

The history is what profile steps that end on gravity read: at most one entry a
minute per hydrometer (a Tilt broadcasts every few seconds) and only as far back
as the longest stability window a step may ask for, so memory stays bounded.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from beerpi_protocol import HydrometerReading
from beerpi_protocol.const import SG_RANGE
from beerpi_protocol.profiles import MAX_STABLE_HOURS
from beerpi_protocol.timestamps import iso, parse_iso

MAX_HYDROMETERS: Final = 16
HISTORY_STEP_S: Final = 60.0
KEEP: Final = timedelta(hours=MAX_STABLE_HOURS + 1)


class GravityError(ValueError):
    """A reading the book will not take (too many hydrometers, a gravity out of range)."""


@dataclass(frozen=True, slots=True)
class GravityPoint:
    at: datetime
    sg: float


class HydrometerBook:
    def __init__(self) -> None:
        self._latest: dict[str, HydrometerReading] = {}
        self._latest_at: dict[str, datetime] = {}
        self._history: dict[str, list[GravityPoint]] = {}
        # Counts changes to what the book holds, so the daemon stores it only when it moved.
        self.changes = 0

    def restore(
        self, latest: Sequence[HydrometerReading], history: Mapping[str, Sequence[GravityPoint]]
    ) -> None:
        """Carry on from what was stored before a restart (store.py checked it)."""
        for reading in latest[:MAX_HYDROMETERS]:
            self._latest[reading.id] = reading
            self._latest_at[reading.id] = parse_iso(reading.at)
            self._history[reading.id] = sorted(history.get(reading.id, ()), key=lambda p: p.at)

    def add(self, reading: HydrometerReading) -> bool:
        """Keep ``reading``; True when it is now its hydrometer's latest.

        An older reading than the latest (a report that took a while) still goes
        into the history, in time order.
        """
        low, high = SG_RANGE
        if not low <= reading.sg <= high:
            raise GravityError(f"sg must be between {low:g} and {high:g}")
        if reading.id not in self._latest and len(self._latest) >= MAX_HYDROMETERS:
            raise GravityError(f"this BeerPi keeps at most {MAX_HYDROMETERS} hydrometers")
        at = parse_iso(reading.at)
        self._remember(reading.id, GravityPoint(at, reading.sg))
        latest_at = self._latest_at.get(reading.id)
        if latest_at is not None and at < latest_at:
            return False
        self._latest[reading.id] = reading
        self._latest_at[reading.id] = at
        self.changes += 1
        return True

    def _remember(self, hydrometer: str, point: GravityPoint) -> None:
        history = self._history.setdefault(hydrometer, [])
        times = [p.at for p in history]
        index = bisect.bisect_right(times, point.at)
        before = history[index - 1].at if index else None
        after = history[index].at if index < len(history) else None
        step = timedelta(seconds=HISTORY_STEP_S)
        if (before is not None and point.at - before < step) or (
            after is not None and after - point.at < step
        ):
            return
        history.insert(index, point)
        self.changes += 1
        cutoff = history[-1].at - KEEP
        while history and history[0].at < cutoff:
            history.pop(0)

    def readings(self) -> tuple[HydrometerReading, ...]:
        """Every hydrometer's latest, by id (the state's ``hydrometers``)."""
        return tuple(self._latest[key] for key in sorted(self._latest))

    def latest(self, hydrometer: str | None = None) -> HydrometerReading | None:
        """That hydrometer's latest; None: the newest reading of any."""
        if hydrometer is not None:
            return self._latest.get(hydrometer)
        if not self._latest_at:
            return None
        newest = max(self._latest_at, key=lambda key: self._latest_at[key])
        return self._latest[newest]

    def histories(self) -> dict[str, Sequence[GravityPoint]]:
        """Every hydrometer's kept points (what store.py writes)."""
        return {key: tuple(points) for key, points in self._history.items()}

    def history(self, hydrometer: str | None = None) -> Sequence[GravityPoint]:
        """The kept points, oldest first (``None``: the hydrometer that reported last)."""
        if hydrometer is None:
            latest = self.latest()
            if latest is None:
                return ()
            hydrometer = latest.id
        return tuple(self._history.get(hydrometer, ()))


def new_reading(
    hydrometer: str,
    sg: float,
    at: datetime,
    *,
    temperature_c: float | None = None,
    battery: float | None = None,
    angle: float | None = None,
) -> HydrometerReading:
    """A protocol reading made on the daemon (``at`` in the protocol's one format)."""
    return HydrometerReading(
        id=hydrometer,
        sg=sg,
        at=iso(at),
        temperature_c=temperature_c,
        battery=battery,
        angle=angle,
    )
