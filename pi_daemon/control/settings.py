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
    """BeerPi's demand algorithm (control/adaptive.py); docs/control.md explains each value.

    Nothing here is tied to one fermenter: the beer's time constant, a heater's
    effect, the chamber's coast and the set-point limits are learned as it runs.
    """

    # Beer loop: chamber set-point offset (°C) per °C of beer error.
    kp: float = 8.0
    # Integral time: this fraction of the learned beer time constant, within bounds;
    # slow for a while after the target changed (the beer is still arriving: a fast
    # integral carries it past), faster once the target has held that long (the
    # yeast's heat rises and falls over hours: a slow one leaves the beer warm all day).
    integral_fraction: float = 0.6
    integral_fraction_hold: float = 0.3
    integral_settle_s: float = 12 * 3600.0
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
    # Compressor: a cycle should last at least this long; its band stays within min
    # and max, and widens on up to wide only while the swing one cycle's air gives the
    # beer stays within beer_ripple_max_c (°C peak to peak: ±0.05, under one probe step).
    compressor_cycle_s: float = 3 * 3600.0
    chamber_band_min_c: float = 1.0
    chamber_band_max_c: float = 10.0
    chamber_band_wide_c: float = 20.0
    beer_ripple_max_c: float = 0.1
    # Heater: its duty cycle's period; it stops when the beer, carried on at its
    # present slope for this long, would pass the target.
    heater_period_s: float = 1200.0
    heat_anticipation_s: float = 600.0
    # Between cooling and heating: an extra margin of chamber air (the minimum time
    # between them is the relay gate's, ``SafetySettings.changeover_s``).
    dead_band_c: float = 1.0
    # The learned coast of the chamber after a stop: weight of a new sample, cap.
    overshoot_learn_rate: float = 0.3
    overshoot_max_c: float = 4.0
    # The most chamber air the beer probe may be found to feel (a taped probe, learned
    # and taken out of its reading: control/air_share.py); 0 never corrects it.
    air_share_max: float = 0.3
    # Beer-only fallback (no chamber probe, or it is in fault): hysteresis on the beer.
    beer_band_c: float = 0.5
    beer_dead_band_c: float = 0.3

    def __post_init__(self) -> None:
        for name in (
            "kp",
            "integral_fraction",
            "integral_fraction_hold",
            "integral_settle_s",
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
            "overshoot_max_c",
            "beer_ripple_max_c",
            "beer_dead_band_c",
        ):
            value = getattr(self, name)
            _check(math.isfinite(value) and value >= 0, f"tuning.{name} must be >= 0")
        _check(0 <= self.overshoot_learn_rate <= 1, "tuning.overshoot_learn_rate must be in 0..1")
        _check(0 <= self.air_share_max <= 0.5, "tuning.air_share_max must be in 0..0.5")
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
        _check(
            self.chamber_band_max_c <= self.chamber_band_wide_c,
            "tuning.chamber_band_max_c must be <= chamber_band_wide_c",
        )


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
