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
    """BeerPi's demand algorithm (control/adaptive.py); docs/control.md explains each value.

    Nothing here is tied to one fermenter: the beer's time constant, a heater's
    effect, the chamber's coast and the set-point limits are learned as it runs.
    """

    # Beer loop: chamber set-point offset (°C) per °C of beer error.
    kp: float = 8.0
    # Integral time: this fraction of the learned beer time constant, within bounds.
    integral_fraction: float = 0.6
    integral_min_s: float = 2 * 3600.0
    integral_max_s: float = 12 * 3600.0
    # The integral acts only while the beer is this close to target (no wind-up in a step).
    integral_zone_c: float = 1.0
    # Set-point limits: target ± base at first, widening up to max when the beer needs it.
    authority_base_c: float = 6.0
    authority_max_c: float = 20.0
    chamber_min_c: float = -4.0
    chamber_max_c: float = 40.0
    # The beer model's prior: a 20 L batch in a chamber (~8 h), and a heater's direct
    # warming of the beer (K/h at full power) before any has been observed.
    beer_tau_prior_s: float = 8 * 3600.0
    heater_gain_prior_c_per_h: float = 0.3
    # Compressor: a cycle should last at least this long; its band stays within these.
    compressor_cycle_s: float = 3 * 3600.0
    chamber_band_min_c: float = 1.0
    chamber_band_max_c: float = 10.0
    # Heater: its duty cycle's period; it stops when the beer, carried on at its
    # present slope for this long, would pass the target.
    heater_period_s: float = 1200.0
    heat_anticipation_s: float = 600.0
    # Between cooling and heating: an extra margin of chamber air, and a wait.
    dead_band_c: float = 1.0
    direction_wait_s: float = 1800.0
    # The learned coast of the chamber after a stop: weight of a new sample, cap.
    overshoot_learn_rate: float = 0.3
    overshoot_max_c: float = 4.0
    # A relay that works rests this long before its maximum run time instead of tripping.
    run_limit_margin_s: float = 900.0
    # Beer-only fallback (no chamber probe, or it is in fault): hysteresis on the beer.
    beer_band_c: float = 0.5
    beer_dead_band_c: float = 0.3

    def __post_init__(self) -> None:
        for name in (
            "kp",
            "integral_fraction",
            "integral_min_s",
            "integral_max_s",
            "integral_zone_c",
            "authority_base_c",
            "beer_tau_prior_s",
            "chamber_band_min_c",
            "heater_period_s",
            "beer_band_c",
        ):
            value = getattr(self, name)
            _check(math.isfinite(value) and value > 0, f"tuning.{name} must be positive")
        for name in (
            "heater_gain_prior_c_per_h",
            "heat_anticipation_s",
            "compressor_cycle_s",
            "dead_band_c",
            "direction_wait_s",
            "overshoot_max_c",
            "run_limit_margin_s",
            "beer_dead_band_c",
        ):
            value = getattr(self, name)
            _check(math.isfinite(value) and value >= 0, f"tuning.{name} must be >= 0")
        _check(0 <= self.overshoot_learn_rate <= 1, "tuning.overshoot_learn_rate must be in 0..1")
        _check(self.chamber_min_c < self.chamber_max_c, "tuning.chamber_min_c must be < max")
        _check(self.integral_min_s <= self.integral_max_s, "tuning.integral_min_s must be <= max")
        _check(
            self.authority_base_c <= self.authority_max_c,
            "tuning.authority_base_c must be <= authority_max_c",
        )
        _check(
            self.chamber_band_min_c <= self.chamber_band_max_c,
            "tuning.chamber_band_min_c must be <= chamber_band_max_c",
        )


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
