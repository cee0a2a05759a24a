"""How far from the target the chamber may be sent: as far as this fermenter needs.

A 5 L carboy needs the air a degree or two from the beer; 50 L at peak
fermentation in a hot room needs it 7 °C below, and a cold crash more. The
limits start at ``base_c`` either side of the target and widen while the beer
loop sits pinned at one with the beer still off target *and* the chamber
actually reaching the limit (the limit binds, not the fridge); they narrow
again when the set-point has moved well inside. Absolute bounds always hold.
"""

from __future__ import annotations

from .settings import Tuning

GROW_C_PER_H = 2.0
SHRINK_C_PER_H = 0.5
# Beer this far off target in the limit's direction: more authority is needed. Above
# one DS18B20 step (1/16 °C), below what a brewer would tolerate for hours: at peak
# fermentation, with 0.3 here, a pinned set-point left the beer 0.25 °C warm all day.
NEEDS_C = 0.1
REACHED_C = 1.0  # the chamber within this of the limit: it is the limit that binds


class Authority:
    def __init__(self, tuning: Tuning) -> None:
        self.tuning = tuning
        self.below_c = tuning.authority_base_c  # how far under the target the air may go
        self.above_c = tuning.authority_base_c

    def limits(self, target_c: float) -> tuple[float, float]:
        t = self.tuning
        low = max(t.chamber_min_c, target_c - self.below_c)
        high = min(t.chamber_max_c, target_c + self.above_c)
        return low, max(low, high)

    def update(
        self, dt_s: float, target_c: float, wanted_c: float, beer_c: float, air_c: float
    ) -> None:
        """``wanted_c``: the set-point before clamping."""
        t = self.tuning
        low, high = self.limits(target_c)
        hours = dt_s / 3600.0
        top = t.authority_max_c
        base = t.authority_base_c
        if wanted_c < low and beer_c > target_c + NEEDS_C and air_c < low + REACHED_C:
            self.below_c = min(top, self.below_c + GROW_C_PER_H * hours)
        elif wanted_c > low + 3.0:
            self.below_c = max(base, self.below_c - SHRINK_C_PER_H * hours)
        if wanted_c > high and beer_c < target_c - NEEDS_C and air_c > high - REACHED_C:
            self.above_c = min(top, self.above_c + GROW_C_PER_H * hours)
        elif wanted_c < high - 3.0:
            self.above_c = max(base, self.above_c - SHRINK_C_PER_H * hours)
