"""Every safety number, defined once; the daemon's config takes its defaults from here.

Defaults suit a homebrew chamber: a fridge (compressor) with a heat mat,
fermenting about 20 L, probes read every 5 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

# The DS18B20's power-on value: a probe that reset mid-conversion reads exactly this.
DS18B20_RESET_C: Final = 85.0

# -- relay timing ----------------------------------------------------------------
# A heat mat tolerates short cycles. The maximum run times are when a relay
# without effect (effect.py: neither the chamber air nor the beer moved its way)
# is locked out; a relay whose effect is seen runs on, as long as asked.
HEATER_MIN_ON_S: Final = 60.0
HEATER_MIN_OFF_S: Final = 120.0
HEATER_MAX_RUN_S: Final = 4 * 3600.0
# A compressor must rest so that its pressures equalise (10 min off, 3 min on),
# and never less than 5 min whatever the config says. A pull-down from room
# temperature may run for hours (a weak fridge in a warm room: days); 8 h with
# no effect points to a lost charge or an open door.
COOLER_MIN_ON_S: Final = 180.0
COOLER_MIN_OFF_S: Final = 600.0
COOLER_MIN_OFF_FLOOR_S: Final = 300.0
COOLER_MAX_RUN_S: Final = 8 * 3600.0
# After a max-run trip the relay stays locked off this long (or until the mode changes).
MAX_RUN_REST_S: Final = 1800.0
# The thermostat starts heating no sooner than this after cooling stopped (and
# the other way round): the chamber air coasts on after a run, and chasing that
# swing with the other relay only burns energy.
CHANGEOVER_S: Final = 1800.0
# And it heats after cooling (or cools after heating) only once the beer itself has
# crossed the target by this much, so the two do not take turns around the target.
CHANGEOVER_C: Final = 0.2

# -- relay effect ------------------------------------------------------------------
# A relay on this long while neither the chamber air nor the beer has moved its way
# by NO_EFFECT_C (a dead heater, a failed SSR, an open door, a dead compressor)
# raises no_effect.
# A working 60 W mat warms the air by several °C in 30 min; a 25 W belt warms
# 20 L of beer by ~0.4 °C in a 20 °C room (in a 10 °C garage only ~0.2: there it
# is too small, and says so); a compressor cools the air by degrees in 20 min.
# 0.3 °C is five steps of a DS18B20, well above its noise.
HEATER_NO_EFFECT_S: Final = 30 * 60.0
COOLER_NO_EFFECT_S: Final = 20 * 60.0
NO_EFFECT_C: Final = 0.3

# -- probes ------------------------------------------------------------------------
# Seconds between probe reads. A DS18B20 needs 0.75 s per 12-bit conversion and
# resolves 1/16 °C. In 5 s, 20 L of beer under a 60 W mat warms by about
# 0.004 °C (a 16th of a step) and the chamber air under a compressor at most
# about one step, while the shortest relay rule (a 60 s minimum on) is 12 reads
# long: reading faster only costs the Pi CPU (and wakes it), it changes no decision.
# The control benchmark (bench/_control_loop.py) judges the thermostat reading
# every 10 s; the daemon reads twice as often as that.
READ_INTERVAL_S: Final = 5.0
# Physically possible readings for a fermenter probe (a DS18B20 reads -55..125).
PROBE_MIN_C: Final = -20.0
PROBE_MAX_C: Final = 60.0
# A reading further than JUMP_C + JUMP_RATE * (time since the last good one) is a glitch.
JUMP_C: Final = 3.0
JUMP_RATE_C_PER_S: Final = 0.05
# No good reading for this long (12 read periods): the probe is stale.
STALE_S: Final = 60.0
# Bit-identical readings for this long while a relay it controls ran throughout.
# The chamber air moves a 1/16 °C step within minutes of a relay starting.
STUCK_S: Final = 1800.0
# The beer probe's window is longer: the beer answers a relay over its time
# constant (8 h for 20 L in a bucket, up to 30 h for 50 L in steel), and when a
# run turns it (rising under the yeast's heat, then falling under the compressor)
# it stays on one DS18B20 step for as long as the turn takes: 32 min in a 20 L
# bucket on the control tests' rig, where half an hour raised a false `stuck` in
# 7 of 20 fermentations (start 21-24 °C, target 17-19 °C) and switched a working
# fridge off; a turn's length grows with the square root of the time constant,
# so about 1.6 h for 50 L. Two hours covers it. The price: a beer probe that
# really repeats its value is found after two hours of a relay's run instead of
# half an hour (the chamber probe's rule and the relay-effect check still watch
# the relays meanwhile).
BEER_STUCK_S: Final = 7200.0
# Good readings in a row needed before a faulty probe is trusted again.
SETTLE_READS: Final = 2
# A read that takes longer than this counts as a disconnected probe (a DS18B20
# converts in 0.75 s); shorter when the watchdog's limit is short.
PROBE_READ_TIMEOUT_S: Final = 5.0

# -- cut-offs ----------------------------------------------------------------------
# Beer beyond these: heater and cooler off, whatever the mode, until it is back
# inside by the hysteresis. Outside the target range, so a valid target never trips.
HIGH_CUTOFF_C: Final = 38.0
LOW_CUTOFF_C: Final = -4.0
CUTOFF_HYSTERESIS_C: Final = 1.0

# -- watchdog ----------------------------------------------------------------------
# Real seconds without a completed control step before every relay goes off.
# The default is three default read periods: a step completes every 5 s, and
# even one whose probe read times out (PROBE_READ_TIMEOUT_S, 5 s) leaves at most
# 10 s between completed steps, so only a real stall trips it.
WATCHDOG_S: Final = 15.0
# The limit must cover at least this many read periods.
WATCHDOG_MIN_PERIODS: Final = 3

# -- the dial-out link --------------------------------------------------------------
# Losing the link changes nothing on the Pi. Retries back off from MIN to MAX
# (doubling, with jitter); a link that stays up LINK_STABLE_S ends an outage; an
# unreachable service becomes a `link` fault after LINK_FAULT_AFTER_S (a refused
# token at once: that needs a person).
LINK_RETRY_MIN_S: Final = 1.0
LINK_RETRY_MAX_S: Final = 60.0
LINK_STABLE_S: Final = 30.0
LINK_FAULT_AFTER_S: Final = 120.0


def watchdog_limit_s(configured_s: float | None, read_period_s: float) -> float:
    """The watchdog's limit: as configured, else the default or three read periods."""
    if configured_s is not None:
        return configured_s
    return max(WATCHDOG_S, WATCHDOG_MIN_PERIODS * read_period_s)


def probe_read_timeout_s(watchdog_s: float, read_period_s: float) -> float:
    """How long one probe read may take (real seconds) before it counts as disconnected."""
    return max(read_period_s, min(PROBE_READ_TIMEOUT_S, watchdog_s / WATCHDOG_MIN_PERIODS))


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayTiming:
    """Protection of one relay; ``max_run_s`` and ``no_effect_s`` None mean no such check."""

    min_on_s: float = 0.0
    min_off_s: float = 0.0
    max_run_s: float | None = None
    max_run_rest_s: float = MAX_RUN_REST_S
    no_effect_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("min_on_s", "min_off_s", "max_run_rest_s"):
            value = getattr(self, name)
            _check(math.isfinite(value) and value >= 0, f"{name} must be >= 0")
        if self.max_run_s is not None:
            _check(
                math.isfinite(self.max_run_s) and self.max_run_s > self.min_on_s,
                "max_run_s must be greater than min_on_s",
            )
        if self.no_effect_s is not None:
            _check(
                math.isfinite(self.no_effect_s) and self.no_effect_s > 0,
                "no_effect_s must be positive",
            )


HEATER_TIMING: Final = RelayTiming(
    min_on_s=HEATER_MIN_ON_S,
    min_off_s=HEATER_MIN_OFF_S,
    max_run_s=HEATER_MAX_RUN_S,
    no_effect_s=HEATER_NO_EFFECT_S,
)
COOLER_TIMING: Final = RelayTiming(
    min_on_s=COOLER_MIN_ON_S,
    min_off_s=COOLER_MIN_OFF_S,
    max_run_s=COOLER_MAX_RUN_S,
    no_effect_s=COOLER_NO_EFFECT_S,
)
# Other relays (a pump, a fan) have no timing rules; they still go off with the
# watchdog and at shutdown.
FREE_TIMING: Final = RelayTiming()


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetySettings:
    """The probe, cut-off, relay-effect and changeover rules of one thermostat."""

    probe_min_c: float = PROBE_MIN_C
    probe_max_c: float = PROBE_MAX_C
    jump_c: float = JUMP_C
    jump_rate_c_per_s: float = JUMP_RATE_C_PER_S
    stale_s: float = STALE_S
    stuck_s: float = STUCK_S
    beer_stuck_s: float = BEER_STUCK_S
    settle_reads: int = SETTLE_READS
    high_cutoff_c: float = HIGH_CUTOFF_C
    low_cutoff_c: float = LOW_CUTOFF_C
    cutoff_hysteresis_c: float = CUTOFF_HYSTERESIS_C
    no_effect_c: float = NO_EFFECT_C
    changeover_s: float = CHANGEOVER_S
    changeover_c: float = CHANGEOVER_C

    def __post_init__(self) -> None:
        _check(self.probe_min_c < self.probe_max_c, "safety.probe_min_c must be < probe_max_c")
        _check(self.low_cutoff_c < self.high_cutoff_c, "safety.low_cutoff_c must be < high")
        for name in ("jump_c", "stale_s", "stuck_s", "beer_stuck_s", "no_effect_c"):
            value = getattr(self, name)
            _check(math.isfinite(value) and value > 0, f"safety.{name} must be positive")
        _check(self.jump_rate_c_per_s >= 0, "safety.jump_rate_c_per_s must be >= 0")
        _check(self.cutoff_hysteresis_c >= 0, "safety.cutoff_hysteresis_c must be >= 0")
        for name in ("changeover_s", "changeover_c"):
            value = getattr(self, name)
            _check(math.isfinite(value) and value >= 0, f"safety.{name} must be >= 0")
        _check(self.settle_reads >= 1, "safety.settle_reads must be >= 1")
