"""Configuration of the thermostat; the daemon's TOML maps onto these.

Defaults fit a homebrew chamber (a fridge with a heat mat) fermenting about 20 L.
The safety rules' settings and numbers live in ``pi_daemon.safety.limits``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pi_daemon.safety.limits import (
    COOLER_TIMING,
    FREE_TIMING,
    HEATER_TIMING,
    RelayTiming,
    SafetySettings,
)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tuning:
    """The cascade: beer PI loop -> chamber setpoint -> chamber on/off loop."""

    # Chamber offset (°C) per °C of beer error, and the integral time.
    kp: float = 6.0
    integral_time_s: float = 3 * 3600.0
    # Anti-windup: the integral term (°C of chamber offset) stays within this.
    integral_limit_c: float = 6.0
    # The chamber setpoint stays within target ± this, and within absolute bounds.
    chamber_offset_limit_c: float = 6.0
    chamber_min_c: float = -4.0
    chamber_max_c: float = 40.0
    # Chamber hysteresis: wide on purpose, the beer's 3 h time constant smooths
    # the air swing while the compressor cycles no more than a plain thermostat.
    chamber_band_c: float = 2.0
    # Extra chamber error needed before switching from cooling to heating (or back).
    dead_band_c: float = 1.0
    # Beer-only fallback (no chamber probe, or it is in fault): plain hysteresis.
    beer_band_c: float = 0.5
    beer_dead_band_c: float = 0.3
    # Learned overshoot of the chamber after a relay switches off: weight of a new sample.
    overshoot_learn_rate: float = 0.3
    overshoot_max_c: float = 1.5

    def __post_init__(self) -> None:
        for name in (
            "kp",
            "integral_time_s",
            "integral_limit_c",
            "chamber_offset_limit_c",
            "chamber_band_c",
            "beer_band_c",
        ):
            value = getattr(self, name)
            _check(math.isfinite(value) and value > 0, f"tuning.{name} must be positive")
        for name in ("dead_band_c", "beer_dead_band_c", "overshoot_max_c"):
            value = getattr(self, name)
            _check(math.isfinite(value) and value >= 0, f"tuning.{name} must be >= 0")
        _check(0 <= self.overshoot_learn_rate <= 1, "tuning.overshoot_learn_rate must be in 0..1")
        _check(self.chamber_min_c < self.chamber_max_c, "tuning.chamber_min_c must be < max")


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlSettings:
    probe: str = "beer"
    chamber_probe: str | None = "fridge"
    heater: str | None = "heater"
    cooler: str | None = "cooler"
    target_min_c: float = -2.0
    target_max_c: float = 35.0
    default_target_c: float = 18.0
    heater_timing: RelayTiming = HEATER_TIMING
    cooler_timing: RelayTiming = COOLER_TIMING
    tuning: Tuning = field(default_factory=Tuning)
    safety: SafetySettings = field(default_factory=SafetySettings)

    def __post_init__(self) -> None:
        _check(bool(self.probe), "probe must be named")
        _check(self.chamber_probe != self.probe, "chamber_probe must differ from probe")
        _check(self.heater is not None or self.cooler is not None, "need a heater or a cooler")
        _check(self.heater is None or self.heater != self.cooler, "heater and cooler must differ")
        _check(self.target_min_c < self.target_max_c, "target_min_c must be < target_max_c")
        s = self.safety
        _check(
            s.low_cutoff_c < self.target_min_c and self.target_max_c < s.high_cutoff_c,
            "the target range must lie strictly inside the cut-offs",
        )
        _check(
            self.target_min_c <= self.default_target_c <= self.target_max_c,
            "default_target_c must be inside the target range",
        )

    def timing(self, relay_id: str) -> RelayTiming:
        if relay_id == self.heater:
            return self.heater_timing
        if relay_id == self.cooler:
            return self.cooler_timing
        return FREE_TIMING
