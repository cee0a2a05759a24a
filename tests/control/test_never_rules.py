"""The controller's "never" rules and its fallback, as README.md's Design section and
docs/control.md (section 5) state them, each on readings whose answer is known.

These drive ``AdaptiveControl`` (and the beer-only fallback) directly, one read at a
time; the relay gate's own rules (the 30 min changeover, minimum times, run limits)
have their tests in tests/safety.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from pi_daemon.control import Tuning
from pi_daemon.control.adaptive import COAST_WAIT_MAX_S, AdaptiveControl
from pi_daemon.control.coast import TURN_C
from pi_daemon.control.demand import Demand, Direction
from pi_daemon.control.fallback import beer_only_demand

READ_S = 5.0  # the daemon's read interval
TARGET = 20.0
STEP = 1 / 16  # one DS18B20 code
ROOT = Path(__file__).resolve().parents[2]


class Loop:
    """One AdaptiveControl fed a reading every READ_S."""

    def __init__(self, tuning: Tuning | None = None) -> None:
        self.control = AdaptiveControl(tuning or Tuning())
        self.now_s = 0.0
        self.started = False

    def read(
        self, beer: float, air: float, *, heating: bool = False, cooling: bool = False
    ) -> Demand:
        demand = self.control.demand(
            now_s=self.now_s,
            dt_s=READ_S if self.started else 0.0,
            target_c=TARGET,
            beer_c=beer,
            air_c=air,
            heating=heating,
            cooling=cooling,
            allow_heat=True,
            allow_cool=True,
        )
        self.started = True
        self.now_s += READ_S
        return demand


def test_the_heater_never_starts_with_the_beer_at_the_target_however_cold_the_air() -> None:
    at, below = Loop(), Loop()
    for _ in range(120):  # ten minutes with the air 10 °C under the beer
        assert not at.read(TARGET, 10.0).heat
    assert below.read(TARGET - STEP, 10.0).heat, "one probe step lower it does heat"


def test_a_running_heater_stops_at_the_first_reading_above_target_unsmoothed() -> None:
    """The beer loop reads the beer through 150 s of smoothing; the rule that stops the
    heater reads it as it is, so one reading above target is enough."""
    loop = Loop()
    for _ in range(60):
        assert loop.read(TARGET - 0.5, 12.0, heating=True).heat
    assert not loop.read(TARGET + STEP, 12.0, heating=True).heat


def test_the_heater_does_not_start_when_the_rising_beer_would_pass_the_target_within_10_min() -> (
    None
):
    rising, still = Loop(), Loop()
    beer = TARGET - 1.0
    for _ in range(240):  # 20 minutes rising 1 °C/h (a taped probe behind a warm belt)
        rising.read(beer, 18.0)
        beer += 1.0 * READ_S / 3600.0
    assert rising.control.model.slope_c_per_h == pytest.approx(1.0, rel=0.05)
    ahead = TARGET - 0.1  # 6 minutes from the target at that slope
    assert not rising.read(ahead, 12.0).heat
    assert still.read(ahead, 12.0).heat, "the same reading, not rising, heats"


def _cool_then_stop(loop: Loop) -> float:
    """The compressor pulls the air from 20 to 8 °C with the beer 1 °C cold, then stops;
    returns the air at the stop."""
    air = 20.0
    for _ in range(240):
        loop.read(TARGET - 1.0, air, cooling=True)
        air -= 0.05
    return air


def test_after_the_compressor_the_heater_waits_for_the_air_to_turn() -> None:
    loop = Loop()
    air = _cool_then_stop(loop)
    for _ in range(60):  # the evaporator's cold: the air coasts down for 5 more minutes
        air -= 0.01
        demand = loop.read(TARGET - 1.0, air)
        assert not demand.heat
        assert demand.held is Direction.HEAT
        assert demand.wait is not None
        assert "air to turn" in demand.wait
    demand = loop.read(TARGET - 1.0, air + TURN_C)
    assert demand.heat, "once the air has turned the heater may start"


def test_air_still_drifting_an_hour_after_the_stop_is_not_waited_for() -> None:
    loop = Loop()
    air = _cool_then_stop(loop)
    stopped_s = loop.now_s
    while loop.now_s - stopped_s < COAST_WAIT_MAX_S - READ_S:
        air -= 0.0005  # settling towards the room's cold, never turning
        assert not loop.read(TARGET - 1.0, air).heat
    loop.read(TARGET - 1.0, air)
    assert loop.read(TARGET - 1.0, air).heat


def test_after_the_heater_cooling_waits_for_the_air_to_turn_too() -> None:
    loop = Loop()
    for _ in range(120):
        loop.read(TARGET + 0.5, 24.0, heating=True)
    demand = loop.read(TARGET + 1.0, 30.0)  # the air still rising past a hot element
    assert not demand.cool
    assert demand.held is Direction.COOL
    assert demand.wait is not None
    assert "air to turn" in demand.wait


def _band_top() -> tuple[Loop, Loop, float]:
    """Two controllers at the target, the air settled: one whose heater ran last."""
    heated, fresh = Loop(), Loop()
    for _ in range(60):
        heated.read(TARGET, TARGET, heating=True)
        fresh.read(TARGET, TARGET)
    for _ in range(int(COAST_WAIT_MAX_S / READ_S) + 2):  # past any wait for the turn
        heated.read(TARGET, TARGET)
        fresh.read(TARGET, TARGET)
    assert heated.control.last_direction is Direction.HEAT
    setpoint = heated.control.setpoint_c
    assert setpoint is not None
    assert setpoint == fresh.control.setpoint_c
    return heated, fresh, setpoint + heated.control.pacer.band_c / 2


def test_cooling_after_heating_needs_the_dead_band_more() -> None:
    heated, fresh, top = _band_top()
    dead = Tuning().dead_band_c
    inside = top + dead / 2
    assert fresh.read(TARGET, inside).cool, "above the band's top it cools"
    assert not heated.read(TARGET, inside).cool, "after heating, not inside the dead band"
    assert heated.read(TARGET, top + dead + STEP).cool


def test_the_integral_acts_only_within_a_degree_of_the_target() -> None:
    """1.2 °C warm the beer loop asks for air 9.6 °C under the target: once the set-point's
    limit has widened past that (the air following it down), nothing holds the integral
    back but the 1 °C zone."""
    far, near = Loop(), Loop()
    for _ in range(4 * 720):  # four hours, the beer steady
        setpoint = far.control.setpoint_c
        far.read(TARGET + 1.2, TARGET - 6.0 if setpoint is None else setpoint)
    assert far.control.authority.below_c > 1.2 * Tuning().kp, "the limit no longer binds"
    assert far.control.integral_c == 0.0
    for _ in range(720):
        near.read(TARGET + 0.5, 15.0)
    assert near.control.integral_c < -0.1


# -- without a chamber probe: hysteresis on the beer, as an Inkbird ----------------------


def _fallback(
    beer: float, *, heating: bool = False, cooling: bool = False, last: Direction | None = None
) -> Demand:
    return beer_only_demand(
        TARGET,
        beer,
        Tuning(),
        heating=heating,
        cooling=cooling,
        allow_heat=True,
        allow_cool=True,
        last_direction=last,
    )


def test_the_fallback_switches_half_a_degree_off_target_and_stops_at_it() -> None:
    assert not _fallback(TARGET - 0.5).heat
    assert _fallback(TARGET - 0.5 - STEP).heat
    assert not _fallback(TARGET + 0.5).cool
    assert _fallback(TARGET + 0.5 + STEP).cool
    assert _fallback(TARGET - STEP, heating=True).heat
    assert not _fallback(TARGET, heating=True).heat, "it never heats beer at the target"
    assert _fallback(TARGET + STEP, cooling=True).cool
    assert not _fallback(TARGET, cooling=True).cool


def test_the_fallback_waits_0_3_more_after_a_change_of_direction() -> None:
    after_cooling = TARGET - 0.5 - 0.3
    assert not _fallback(after_cooling + STEP, last=Direction.COOL).heat
    assert _fallback(after_cooling - STEP, last=Direction.COOL).heat
    after_heating = TARGET + 0.5 + 0.3
    assert not _fallback(after_heating - STEP, last=Direction.HEAT).cool
    assert _fallback(after_heating + STEP, last=Direction.HEAT).cool


# -- the parameter table of docs/control.md against the code's defaults ------------------


def _docs_parameters() -> dict[str, float]:
    text = (ROOT / "docs" / "control.md").read_text(encoding="utf-8")
    table = text.split("**Parameters**", 1)[1].split("\n\n", 2)[1]
    found: dict[str, float] = {}
    for line in table.splitlines()[2:]:
        names_cell, defaults_cell = line.strip("|").split("|")[:2]
        names = re.findall(r"`(\w+)`", names_cell)
        defaults = [d.strip().replace("−", "-") for d in defaults_cell.split(",")]
        assert len(names) == len(defaults), line
        for name, default in zip(names, defaults, strict=True):
            hours = default.endswith(" h")
            value = float(default.removesuffix(" h"))
            found[name] = value * 3600.0 if hours else value
    return found


def test_the_documented_parameters_are_the_codes_defaults() -> None:
    documented = _docs_parameters()
    defaults = {f.name: f.default for f in dataclasses.fields(Tuning)}
    assert documented == defaults


# -- the heater's duty cycle --------------------------------------------------------------


def test_a_heater_pulse_under_a_minute_is_not_worth_a_start() -> None:
    """Beer one probe step cold: the set-point is kp/16 = 0.5 °C above the target, and
    the duty (set-point - air) / G, G the prior belt's 2.4 K, over 20-minute periods."""
    gain = Tuning().heater_gain_prior_c_per_h * Tuning().beer_tau_prior_s / 3600.0
    setpoint = TARGET + Tuning().kp * STEP
    short = 50.0 / Tuning().heater_period_s * gain  # a 50 s pulse's air shortfall
    long = 120.0 / Tuning().heater_period_s * gain
    assert not Loop().read(TARGET - STEP, setpoint - short).heat
    assert Loop().read(TARGET - STEP, setpoint - long).heat


def test_the_heater_starts_at_most_once_per_period() -> None:
    loop = Loop()
    period = Tuning().heater_period_s
    assert loop.read(TARGET - STEP, TARGET - 0.5).heat  # duty about 0.4: an 8-minute pulse
    while loop.read(TARGET - STEP, TARGET - 0.5, heating=True).heat:
        pass
    assert loop.now_s < period / 2, "the pulse ended well inside its period"
    while loop.now_s < period - READ_S:  # the air falls: the duty asks for all of it
        assert not loop.read(TARGET - STEP, TARGET - 3.0).heat
    loop.read(TARGET - STEP, TARGET - 3.0)
    assert loop.read(TARGET - STEP, TARGET - 3.0).heat, "the next period starts a new pulse"


def test_a_dropout_of_more_than_5_minutes_restarts_the_beer_smoothing() -> None:
    """After a gap the beer loop takes the new reading as it is, not blended with one
    from minutes ago."""
    loop = Loop()
    for _ in range(120):
        loop.read(TARGET, 15.0)
    gap_s = 360.0
    loop.now_s += gap_s - READ_S
    control = loop.control
    control.demand(
        now_s=loop.now_s,
        dt_s=gap_s,
        target_c=TARGET,
        beer_c=TARGET + 0.5,
        air_c=15.0,
        heating=False,
        cooling=False,
        allow_heat=True,
        allow_cool=True,
    )
    unsmoothed = TARGET + Tuning().kp * -0.5 + control.integral_c
    assert control.setpoint_c == pytest.approx(unsmoothed, abs=1e-9)


def test_within_an_hour_of_the_compressor_the_heater_leaves_its_swing_alone() -> None:
    """The air is low from the compressor's swing then, not for want of heat: the heater's
    reference is half the band and the dead band lower for that hour."""
    cooled, fresh = Loop(), Loop()
    air = _cool_then_stop(cooled)
    for _ in range(240):
        fresh.read(TARGET - 1.0, 20.0)
    for _ in range(24):  # the air turns and recovers for two minutes
        air += 0.05
        cooled.read(TARGET - 1.0, air)
    setpoint = cooled.control.setpoint_c
    assert setpoint is not None
    near = setpoint - 0.5 * (cooled.control.pacer.band_c / 2 + Tuning().dead_band_c)
    assert not cooled.read(TARGET - 1.0, near).heat
    assert fresh.read(TARGET - 1.0, near).heat, "without the compressor's swing it heats"
    stopped_s = cooled.now_s
    while cooled.now_s - stopped_s < 3600.0:
        cooled.read(TARGET - 1.0, near)
    # An hour on, the swing is over: the next heater period starts a pulse.
    period_s = Tuning().heater_period_s
    heats = [cooled.read(TARGET - 1.0, near).heat for _ in range(int(period_s / READ_S) + 1)]
    assert any(heats)


def test_no_integral_while_the_beer_closes_in_by_itself() -> None:
    """0.6 °C warm and falling 0.5 °C/h, the beer reaches the target within 2 h on its
    own: integrating that error would carry it past. Held 0.6 °C warm, it integrates."""
    closing, held = Loop(), Loop()
    beer = TARGET + 0.9
    for _ in range(int(1800 / READ_S)):  # half an hour falling from 0.9 to 0.65 warm
        closing.read(beer, 15.0)
        held.read(TARGET + 0.6, 15.0)
        beer -= 0.5 * READ_S / 3600.0
    assert closing.control.model.slope_c_per_h == pytest.approx(-0.5, rel=0.05)
    before = closing.control.integral_c
    for _ in range(60):  # five more minutes, still closing in from 0.65 to 0.6 warm
        closing.read(beer, 15.0)
        beer -= 0.5 * READ_S / 3600.0
    assert closing.control.integral_c == before
    assert held.control.integral_c < -0.1
