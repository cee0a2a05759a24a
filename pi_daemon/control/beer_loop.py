"""Outer loop of the cascade: a PI on the beer temperature that sets the chamber's target.

The beer answers the chamber air with a ~3 h time constant, so it is steered
through the air: a beer 0.5 °C too warm asks for air a few degrees colder than
the target; the integral learns the steady offset that fermentation heat and
the room need. Anti-windup: the integral is clamped and stops growing while the
output is saturated in the direction it would push.
"""

from __future__ import annotations

from .settings import Tuning


class BeerLoop:
    def __init__(self, tuning: Tuning) -> None:
        self.tuning = tuning
        self.integral_c = 0.0

    def reset(self) -> None:
        self.integral_c = 0.0

    def _limits(self, target_c: float) -> tuple[float, float]:
        t = self.tuning
        low = max(t.chamber_min_c, target_c - t.chamber_offset_limit_c)
        high = min(t.chamber_max_c, target_c + t.chamber_offset_limit_c)
        return low, high

    def update(self, target_c: float, beer_c: float, dt_s: float) -> float:
        """Advance by ``dt_s`` and return the chamber setpoint (°C)."""
        t = self.tuning
        error = target_c - beer_c
        low, high = self._limits(target_c)
        raw = target_c + t.kp * error + self.integral_c
        saturated = (raw >= high and error > 0) or (raw <= low and error < 0)
        if not saturated and dt_s > 0:
            self.integral_c += t.kp * error * dt_s / t.integral_time_s
            limit = t.integral_limit_c
            self.integral_c = min(limit, max(-limit, self.integral_c))
        return min(high, max(low, target_c + t.kp * error + self.integral_c))
