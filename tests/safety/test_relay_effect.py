"""The relay-effect rule on simulated time: a broken heater or cooler is found, a working one never;
and the maximum run time locks out only a relay without effect.

The rig runs the thermostat and the gate against the thermal model (10 s per
step); a broken relay clicks but delivers no power. Detection time is from the
relay switching on to the ``no_effect`` fault (run with ``-s`` to see it).
"""

from __future__ import annotations

import math

import pytest

from beerpi_protocol import FaultCode
from pi_daemon.control import ControlSettings, RelayTiming
from pi_daemon.safety import RelayGuard
from pi_daemon.safety.effect import EffectCheck
from pi_daemon.safety.limits import COOLER_NO_EFFECT_S, HEATER_NO_EFFECT_S, HEATER_TIMING
from tests.control.control_rig import PERIOD_S, Rig, make_rig


def no_effect(rig: Rig, relay: str) -> bool:
    if rig.last is None:
        return False
    return any(f.code is FaultCode.NO_EFFECT and f.source == relay for f in rig.last.faults)


def detect(rig: Rig, relay: str, limit_s: float) -> float:
    """Seconds from the relay's first switch-on to its no_effect fault."""
    end = rig.now_s + limit_s
    while rig.now_s < end and not no_effect(rig, relay):
        rig.tick()
    assert no_effect(rig, relay), rig.last
    on_at = next(t for t, rid, on in rig.switches if rid == relay and on)
    return rig.now_s - PERIOD_S - on_at


def test_a_broken_heater_is_found_within_its_window_plus_one_read() -> None:
    # A cold garage: the heater is needed, and a dead one lets the air fall.
    rig = make_rig(beer_c=16.0, mode="heat")
    rig.thermostat.set_target(20.0)
    rig.model.ambient_override_c = 10.0
    rig.broken.add("heater")
    took = detect(rig, "heater", 3 * 3600)
    print(f"broken heater: no_effect {took / 60:.1f} min after it switched on")
    assert HEATER_NO_EFFECT_S <= took <= HEATER_NO_EFFECT_S + PERIOD_S
    fault = next(f for f in rig.last.faults if f.code is FaultCode.NO_EFFECT)  # type: ignore[union-attr]
    assert "heater on for 30 min" in fault.message
    assert rig.relays["heater"]  # a warning: the heater stays under the thermostat
    # Repaired: the air answers within the next run and the fault clears.
    rig.broken.clear()
    rig.run(30 * 60)
    assert not no_effect(rig, "heater")


def test_a_broken_cooler_is_found_within_its_window_plus_one_read() -> None:
    # A warm room; the compressor rests its 10 min after start-up, then runs for nothing.
    rig = make_rig(beer_c=24.0, mode="cool")
    rig.thermostat.set_target(18.0)
    rig.model.ambient_override_c = 28.0
    rig.broken.add("cooler")
    took = detect(rig, "cooler", 3 * 3600)
    print(f"broken cooler: no_effect {took / 60:.1f} min after it switched on")
    assert COOLER_NO_EFFECT_S <= took <= COOLER_NO_EFFECT_S + PERIOD_S
    rig.broken.clear()
    rig.run(20 * 60)
    assert not no_effect(rig, "cooler")


# Pitched warm, then a step up on day 3. The rig's probes read without noise, so the
# beer sits on one 1/16 °C step while a compressor run turns it (32 min and more):
# with the air's half-hour stuck window on the beer probe, the last three raised a
# false `stuck` and held a working fridge off (limits.BEER_STUCK_S).
@pytest.mark.parametrize(
    ("pitched_c", "target_c"), [(22.0, 18.0), (21.0, 17.0), (23.0, 18.5), (24.0, 17.5)]
)
def test_working_relays_raise_nothing_over_days_of_fermentation(
    pitched_c: float, target_c: float
) -> None:
    rig = make_rig(beer_c=pitched_c)
    rig.thermostat.set_target(target_c)
    seen: set[FaultCode | None] = set()
    for day in range(5):  # the fermentation heat peaks on day 2
        if day == 3:
            rig.thermostat.set_target(target_c + 2.0)
        end = rig.now_s + 86_400
        while rig.now_s < end:
            seen |= {f.code for f in rig.tick().faults}
    assert sum(1 for _, rid, on in rig.switches if on) > 20
    assert seen == set()


def test_no_chamber_probe_no_judgement() -> None:
    """Without the air probe the beer alone moves too slowly to judge a relay by."""
    rig = make_rig(beer_c=16.0, mode="heat")
    rig.thermostat.set_target(20.0)
    rig.model.ambient_override_c = 10.0
    rig.broken.add("heater")
    rig.override["fridge"] = (None, FaultCode.DISCONNECTED)
    rig.run(2 * 3600)
    assert rig.relays["heater"]
    assert not no_effect(rig, "heater")


def test_a_belt_that_warms_the_beer_but_not_the_air_works() -> None:
    """A heat belt puts its heat into the beer; the air barely moves. The beer is the
    second witness: no fault, and the relay counts as working (it may run on)."""
    guard = RelayGuard(HEATER_TIMING)
    guard.record(0.0, True)
    check = EffectCheck("heater", warms=True, window_s=1800.0, threshold_c=0.3, probe_id="fridge")
    for n in range(0, 3601, 10):
        check.update(float(n), guard, 12.0, 18.0 + 0.5 * n / 3600)  # air still, beer +0.5/h
    assert check.fault is None
    assert check.working
    # The same run with neither moving: no effect, and not working.
    stuck = EffectCheck("heater", warms=True, window_s=1800.0, threshold_c=0.3, probe_id="fridge")
    for n in range(0, 3601, 10):
        stuck.update(float(n), guard, 12.0, 18.0)
    assert stuck.fault is not None
    assert "nor the beer" in stuck.fault.message
    assert not stuck.working


def test_without_a_chamber_probe_the_run_limit_stays_a_plain_limit() -> None:
    """No air reading, no judgement: a heater is locked out at its maximum run time even
    though it works (nothing can tell it from a dead one)."""
    timing = RelayTiming(
        min_on_s=60, min_off_s=120, max_run_s=3600, max_run_rest_s=1800, no_effect_s=1800
    )
    rig = make_rig(ControlSettings(heater_timing=timing), beer_c=10.0, mode="heat")
    rig.thermostat.set_target(30.0)
    rig.model.ambient_override_c = 0.0
    rig.override["fridge"] = (None, FaultCode.DISCONNECTED)
    rig.run(3600 + 3 * PERIOD_S)
    assert not rig.relays["heater"]
    assert rig.last is not None
    trip = next(f for f in rig.last.faults if f.code is FaultCode.MAX_RUN_TIME)
    assert "cannot be checked" in trip.message
    assert FaultCode.NO_EFFECT not in {f.code for f in rig.last.faults}


def _recovering_air(t_s: float, stop_s: float) -> float:
    """Chamber air after a compressor run stopped at ``stop_s``: from 2 °C back towards
    14 °C (room and beer) with a 30 min time constant, as in the bench's freezer."""
    if t_s < stop_s:
        return 2.0
    return 14.0 - 12.0 * math.exp(-(t_s - stop_s) / 1800.0)


def _heater_run(*, start_s: float, stop_s: float, heater_c_per_h: float) -> EffectCheck:
    """A compressor on until ``stop_s``, a heater on from ``start_s`` while the air
    recovers; ``heater_c_per_h``: what a working heater adds to the air (0: a dead
    one). The beer stays at 19 °C."""
    guard = RelayGuard(HEATER_TIMING)
    check = EffectCheck("heater", warms=True, window_s=1800.0, threshold_c=0.3, probe_id="fridge")
    for n in range(0, int(start_s + 5 * 3600), 10):
        t = float(n)
        if t == start_s:
            guard.record(t, True)
        air = _recovering_air(t, stop_s)
        if guard.is_on:
            air += heater_c_per_h * (t - start_s) / 3600.0
        # Like a DS18B20: 1/16 °C steps.
        check.update(t, guard, round(air * 16) / 16, 19.0, partner_on=t < stop_s)
    return check


def test_air_warming_back_after_the_compressor_is_not_a_dead_heaters_effect() -> None:
    """A dead heater switched on 30 min after the compressor stopped (BeerPi's earliest),
    while the air warms back by another 4 °C by itself: flagged, not credited."""
    dead = _heater_run(start_s=5400.0, stop_s=3600.0, heater_c_per_h=0.0)
    assert dead.fault is not None
    assert dead.fault.code is FaultCode.NO_EFFECT
    assert "beyond its drift before the start" in dead.fault.message
    assert not dead.working


def test_a_working_heater_during_the_recovery_is_not_flagged() -> None:
    """The same recovery with a heater that adds 2 °C/h to the air (a weak one): its
    effect is seen beyond the drift, so no fault and it counts as working."""
    ok = _heater_run(start_s=5400.0, stop_s=3600.0, heater_c_per_h=2.0)
    assert ok.fault is None
    assert ok.working


def test_a_heater_started_as_the_compressor_stops_is_judged_against_the_beer() -> None:
    """No readings of the drift to come (the compressor was pushing the air down until
    the heater's start): the air may recover all the way to the beer by itself, so a
    dead heater is flagged (after the window and PUSHED_EXTRA_S) and a working one
    must warm the air past the beer."""
    dead = _heater_run(start_s=3600.0, stop_s=3600.0, heater_c_per_h=0.0)
    assert dead.fault is not None
    assert not dead.working
    tube = _heater_run(start_s=3600.0, stop_s=3600.0, heater_c_per_h=8.0)
    assert tube.fault is None
    assert tube.working


def test_a_steady_air_without_drift_is_judged_as_before() -> None:
    """No drift before the start: the first reading is the reference, as it always was."""
    guard = RelayGuard(HEATER_TIMING)
    check = EffectCheck("heater", warms=True, window_s=1800.0, threshold_c=0.3, probe_id="fridge")
    for n in range(0, 7200, 10):
        if n == 3600:
            guard.record(float(n), True)
        air = 12.0 + (0.4 * (n - 3600) / 1800.0 if n >= 3600 else 0.0)
        check.update(float(n), guard, air, 19.0)
    assert check.fault is None
    assert check.working


def test_a_chamber_probe_missing_a_reading_now_and_then_does_not_hide_a_dead_heater() -> None:
    """One CRC error every 20 minutes used to restart the 30-minute window each time."""
    guard = RelayGuard(HEATER_TIMING)
    check = EffectCheck("heater", warms=True, window_s=1800.0, threshold_c=0.3, probe_id="fridge")
    guard.record(0.0, True)
    raised_s = None
    for n in range(0, 4 * 3600, 5):
        t = float(n)
        air = None if n % 1200 == 600 else 17.0 + 0.0625 * (n // 5 % 2)  # dead: no warming
        check.update(t, guard, air, 17.0)
        if check.fault is not None and raised_s is None:
            raised_s = t
        assert not check.working
    assert raised_s is not None
    assert raised_s <= 1800.0 + 10.0
    assert check.fault is not None
    assert check.fault.code is FaultCode.NO_EFFECT


def test_a_chamber_probe_gone_for_good_vouches_for_no_relay() -> None:
    """Without a reading the run cannot be judged: its maximum run time stays a limit."""
    guard = RelayGuard(HEATER_TIMING)
    check = EffectCheck("heater", warms=True, window_s=1800.0, threshold_c=0.3, probe_id="fridge")
    guard.record(0.0, True)
    for n in range(0, 600, 5):
        check.update(float(n), guard, 17.0 + n / 600.0, 17.0)  # working: the air warms
    assert check.working
    assert check.judging
    check.update(605.0, guard, None, 17.0)
    assert not check.working
    assert not check.judging
