"""Configuration of the thermostat and its safety rules; the daemon's TOML maps onto these.

Defaults fit a homebrew chamber (a fridge with a heat mat) fermenting about 20 L.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayTiming:
    """Protection of one relay; ``max_run_s`` None means no limit."""

    min_on_s: float = 60.0
    min_off_s: float = 120.0
    max_run_s: float | None = None
    # After a max-run trip the relay stays locked off this long (or until the mode changes).
    max_run_rest_s: float = 1800.0

    def __post_init__(self) -> None:
        for name in ("min_on_s", "min_off_s", "max_run_rest_s"):
            value = getattr(self, name)
            _check(math.isfinite(value) and value >= 0, f"{name} must be >= 0")
        if self.max_run_s is not None:
            _check(
                math.isfinite(self.max_run_s) and self.max_run_s > self.min_on_s,
                "max_run_s must be greater than min_on_s",
            )


# A heat mat tolerates short cycles; 4 h of non-stop heating in a chamber that a
# 60 W mat warms by ~9 °C/h means the heat goes somewhere else (door open, probe
# out of the beer): stop before a stuck heater cooks the beer.
HEATER_TIMING = RelayTiming(min_on_s=60.0, min_off_s=120.0, max_run_s=4 * 3600.0)
# A compressor must rest so that its pressures equalise (10 min off, 3 min on).
# A pull-down from room temperature may legitimately run for hours, so the run
# limit is generous: 8 h non-stop points to a lost charge or an open door.
COOLER_TIMING = RelayTiming(min_on_s=180.0, min_off_s=600.0, max_run_s=8 * 3600.0)


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
class SafetySettings:
    # Physically possible readings for a fermenter probe (a DS18B20 reads -55..125).
    probe_min_c: float = -20.0
    probe_max_c: float = 60.0
    # A reading further than jump_c + jump_rate * (time since the last good one) is a glitch.
    jump_c: float = 3.0
    jump_rate_c_per_s: float = 0.05
    # No good reading for this long: the probe is stale.
    stale_s: float = 60.0
    # Bit-identical readings for this long while a relay it controls ran throughout.
    stuck_s: float = 1800.0
    # Good readings in a row needed before a faulty probe is trusted again.
    settle_reads: int = 2
    # Beer cut-offs: everything off. Outside the target range so a valid target never trips.
    high_cutoff_c: float = 38.0
    low_cutoff_c: float = -4.0
    # A cut-off clears once the beer is back inside by this much.
    cutoff_hysteresis_c: float = 1.0
    # The control loop must call in at least this often, else relays go off.
    watchdog_s: float = 60.0

    def __post_init__(self) -> None:
        _check(self.probe_min_c < self.probe_max_c, "safety.probe_min_c must be < probe_max_c")
        _check(self.low_cutoff_c < self.high_cutoff_c, "safety.low_cutoff_c must be < high")
        for name in ("jump_c", "stale_s", "stuck_s", "watchdog_s"):
            value = getattr(self, name)
            _check(math.isfinite(value) and value > 0, f"safety.{name} must be positive")
        _check(self.jump_rate_c_per_s >= 0, "safety.jump_rate_c_per_s must be >= 0")
        _check(self.cutoff_hysteresis_c >= 0, "safety.cutoff_hysteresis_c must be >= 0")
        _check(self.settle_reads >= 1, "safety.settle_reads must be >= 1")


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
        return self.heater_timing if relay_id == self.heater else self.cooler_timing
