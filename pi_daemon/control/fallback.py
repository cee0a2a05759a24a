"""Control without a chamber probe (none configured, or it is in fault)."""

from __future__ import annotations

from .demand import Demand, Direction
from .settings import Tuning


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
    """Hysteresis on the beer with a dead band, stopping at the target (as an Inkbird does)."""
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
