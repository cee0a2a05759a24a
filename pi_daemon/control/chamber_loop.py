"""Inner loop of the cascade: on/off on the chamber air around the beer loop's setpoint.

A wide hysteresis keeps the compressor's cycles long (the beer smooths the air
swing). Real fridges keep cooling after the compressor stops (a cold
evaporator) and a heat mat stays warm: the loop learns that overshoot from the
peak after each switch-off and switches off that much earlier next time.
A dead band separates heating from cooling: after one, the other needs a
bigger error, so the two never fight over a passing swing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .settings import Tuning


class Direction(Enum):
    HEAT = "heat"
    COOL = "cool"


@dataclass(frozen=True, slots=True)
class Demand:
    heat: bool
    cool: bool
    why: str


class _PeakTracker:
    """After a switch-off, follow the air until it turns back: how far did it coast?"""

    def __init__(self, direction: Direction, off_c: float) -> None:
        self.direction = direction
        self.off_c = off_c
        self.extreme_c = off_c

    def feed(self, value_c: float, turn_c: float) -> float | None:
        """The overshoot once the peak has passed by ``turn_c``, else None."""
        sign = -1.0 if self.direction is Direction.COOL else 1.0
        if sign * (value_c - self.extreme_c) > 0:
            self.extreme_c = value_c
            return None
        if sign * (self.extreme_c - value_c) >= turn_c:
            return max(0.0, sign * (self.extreme_c - self.off_c))
        return None


class ChamberLoop:
    TURN_C = 0.2  # a reversal larger than probe noise marks the peak

    def __init__(self, tuning: Tuning) -> None:
        self.tuning = tuning
        self.overshoot_c = {Direction.HEAT: 0.0, Direction.COOL: 0.0}
        self.last_direction: Direction | None = None
        self._was: Direction | None = None
        self._peak: _PeakTracker | None = None

    def _learn(self, chamber_c: float, running: Direction | None) -> None:
        if self._was is not None and running is None:
            self._peak = _PeakTracker(self._was, chamber_c)
        elif running is not None:
            self._peak = None
        if self._peak is not None:
            seen = self._peak.feed(chamber_c, self.TURN_C)
            if seen is not None:
                t = self.tuning
                d = self._peak.direction
                estimate = (1 - t.overshoot_learn_rate) * self.overshoot_c[d]
                estimate += t.overshoot_learn_rate * seen
                self.overshoot_c[d] = min(t.overshoot_max_c, estimate)
                self._peak = None
        self._was = running
        if running is not None:
            self.last_direction = running

    def demand(
        self,
        setpoint_c: float,
        chamber_c: float,
        *,
        heating: bool,
        cooling: bool,
        allow_heat: bool,
        allow_cool: bool,
    ) -> Demand:
        running = Direction.COOL if cooling else Direction.HEAT if heating else None
        self._learn(chamber_c, running)
        t = self.tuning
        band = t.chamber_band_c
        here = f"chamber {chamber_c:.1f} °C, setpoint {setpoint_c:.1f} °C"
        if cooling and allow_cool:
            stop_c = setpoint_c - band + self.overshoot_c[Direction.COOL]
            return Demand(False, chamber_c > stop_c, here)
        if heating and allow_heat:
            stop_c = setpoint_c + band - self.overshoot_c[Direction.HEAT]
            return Demand(chamber_c < stop_c, False, here)
        cool_at = (
            setpoint_c + band + (t.dead_band_c if self.last_direction is Direction.HEAT else 0)
        )
        heat_at = (
            setpoint_c - band - (t.dead_band_c if self.last_direction is Direction.COOL else 0)
        )
        return Demand(allow_heat and chamber_c < heat_at, allow_cool and chamber_c > cool_at, here)


def beer_only_demand(
    target_c: float,
    beer_c: float,
    tuning: Tuning,
    *,
    heating: bool,
    cooling: bool,
    allow_heat: bool,
    allow_cool: bool,
    last_direction: Direction | None,
) -> Demand:
    """Fallback without a chamber probe: hysteresis on the beer, with a dead band."""
    band = tuning.beer_band_c
    here = f"beer {beer_c:.2f} °C, target {target_c:.1f} °C (no chamber probe)"
    if cooling and allow_cool:
        return Demand(False, beer_c > target_c, here)  # the beer coasts on
    if heating and allow_heat:
        return Demand(beer_c < target_c, False, here)
    extra = tuning.beer_dead_band_c
    cool_at = target_c + band + (extra if last_direction is Direction.HEAT else 0)
    heat_at = target_c - band - (extra if last_direction is Direction.COOL else 0)
    return Demand(allow_heat and beer_c < heat_at, allow_cool and beer_c > cool_at, here)
