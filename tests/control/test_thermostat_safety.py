from __future__ import annotations

import pytest
from control_rig import PERIOD_S, Rig, make_rig

from beerpi_protocol import FaultCode, ThermostatAction
from pi_daemon.control import ControlSettings, RelayTiming


def dead_heater(rig: Rig) -> None:
    """The heater relay clicks but nothing warms: what the maximum run time is there to catch."""
    rig.broken.add("heater")


def warm_up(beer_c: float = 24.0) -> object:
    """A rig at 24 °C against an 18 °C target: the cooler is running."""
    rig = make_rig(beer_c=beer_c)
    rig.thermostat.set_target(18.0)
    rig.run(1800)
    assert rig.relays["cooler"], rig.last
    return rig


@pytest.mark.parametrize(
    ("reading", "code"),
    [
        ((None, FaultCode.DISCONNECTED), FaultCode.DISCONNECTED),
        ((None, FaultCode.CRC), FaultCode.CRC),
        ((85.0, None), FaultCode.RESET_85),
        ((70.0, None), FaultCode.OUT_OF_RANGE),
        ((40.0, None), FaultCode.IMPLAUSIBLE_JUMP),
    ],
)
def test_beer_probe_fault_switches_relays_off_within_one_period_and_recovers(
    reading: tuple[float | None, FaultCode | None], code: FaultCode
) -> None:
    rig = warm_up()
    rig.override["beer"] = reading
    decision = rig.tick()
    assert decision.action == ThermostatAction.FAULT
    assert decision.relays == {"heater": False, "cooler": False}
    assert not rig.relays["cooler"]
    assert [(f.source, f.code) for f in decision.faults] == [("beer", code)]
    assert code.value in decision.reason
    rig.run(600)
    assert not any(on for _, _, on in rig.switches[-1:])
    del rig.override["beer"]
    rig.run(30)  # two good reads settle
    decision = rig.run(900)  # the compressor rests its minimum off time, then cools again
    assert decision.faults == ()
    assert rig.relays["cooler"]


def test_stale_beer_probe_turns_off_within_one_period_of_the_stale_time() -> None:
    rig = warm_up()
    stale_s = rig.thermostat.settings.safety.stale_s
    last = rig.sample("beer", rig.model.beer_c)
    rig.frozen["beer"] = last
    while rig.now_s <= last.at_s + stale_s:
        assert rig.tick().faults == ()
    decision = rig.tick()
    assert not rig.relays["cooler"]
    assert [(f.source, f.code) for f in decision.faults] == [("beer", FaultCode.STALE)]
    del rig.frozen["beer"]
    rig.run(30)
    assert rig.last is not None
    assert rig.last.faults == ()


def test_chamber_probe_fault_falls_back_to_beer_only_control() -> None:
    rig = warm_up()
    rig.override["fridge"] = (None, FaultCode.CRC)
    decision = rig.run(600)
    assert ("fridge", FaultCode.CRC) in [(f.source, f.code) for f in decision.faults]
    assert decision.action == ThermostatAction.COOLING  # 24 °C beer, 18 °C target
    assert "no chamber probe" in decision.reason


def test_high_cutoff_forces_everything_off_and_clears_with_hysteresis() -> None:
    rig = make_rig(beer_c=20.0)
    rig.thermostat.set_target(20.0)
    rig.thermostat.set_mode("off")
    rig.run(150)
    assert rig.by_hand("heater", True) is None  # someone switched it by hand
    rig.override["beer"] = (38.5, None)
    rig.override["fridge"] = (38.5, None)
    rig.run(30)
    decision = rig.tick()
    assert decision.action == ThermostatAction.OFF  # the mode is off: the person drives
    assert FaultCode.HIGH_CUTOFF in {f.code for f in decision.faults}
    assert set(decision.holds) == {"heater", "cooler"}
    assert rig.relays == {"heater": False, "cooler": False}
    refused = rig.by_hand("heater", True)
    assert refused is not None
    assert "cut-off" in refused.message  # type: ignore[attr-defined]
    rig.override["beer"] = (37.5, None)  # inside, but not by the hysteresis
    assert FaultCode.HIGH_CUTOFF in {f.code for f in rig.run(30).faults}
    rig.override["beer"] = (36.5, None)
    assert FaultCode.HIGH_CUTOFF not in {f.code for f in rig.run(30).faults}


def test_low_cutoff() -> None:
    rig = make_rig(beer_c=-3.0)
    rig.thermostat.set_target(2.0)
    rig.override["beer"] = (-4.5, None)
    decision = rig.run(30)
    assert FaultCode.LOW_CUTOFF in {f.code for f in decision.faults}
    assert not any(decision.relays.values())


def test_max_run_time_trips_latches_then_resumes() -> None:
    timing = RelayTiming(
        min_on_s=60, min_off_s=120, max_run_s=1800, max_run_rest_s=1200, no_effect_s=900
    )
    rig = make_rig(ControlSettings(heater_timing=timing), beer_c=10.0, mode="heat")
    rig.thermostat.set_target(30.0)
    dead_heater(rig)
    rig.model.ambient_override_c = 0.0  # a cold garage
    rig.run(130)  # the start-up rest
    assert rig.relays["heater"]
    rig.run(1800 + 2 * PERIOD_S)
    assert not rig.relays["heater"]
    assert rig.last is not None
    assert ("heater", FaultCode.MAX_RUN_TIME) in [(f.source, f.code) for f in rig.last.faults]
    assert ("heater", FaultCode.NO_EFFECT) in [(f.source, f.code) for f in rig.last.faults]
    assert "no effect" in rig.last.reason
    assert rig.last.action == ThermostatAction.WAITING
    assert "locked out" in rig.last.reason
    rig.run(900)
    assert not rig.relays["heater"]
    rig.run(400)
    assert rig.relays["heater"]
    assert [f.code for f in rig.last.faults] == [FaultCode.NO_EFFECT]  # still dead


def test_mode_change_clears_a_max_run_latch() -> None:
    timing = RelayTiming(min_on_s=60, min_off_s=120, max_run_s=600, max_run_rest_s=3600)
    rig = make_rig(ControlSettings(heater_timing=timing), beer_c=10.0, mode="heat")
    rig.thermostat.set_target(30.0)
    dead_heater(rig)
    rig.run(120 + 630)
    assert rig.last is not None
    assert ("heater", FaultCode.MAX_RUN_TIME) in [(f.source, f.code) for f in rig.last.faults]
    assert not rig.relays["heater"]
    rig.thermostat.set_mode("heat_cool")
    rig.run(150)
    assert rig.relays["heater"]


def test_a_working_relay_runs_past_its_run_limit() -> None:
    """A heater that warms the chamber but cannot catch up (a cold garage) is not a fault:
    it runs as long as the thermostat asks, past its maximum run time, and is not locked out."""
    timing = RelayTiming(
        min_on_s=60, min_off_s=120, max_run_s=3600, max_run_rest_s=1800, no_effect_s=1800
    )
    rig = make_rig(ControlSettings(heater_timing=timing), beer_c=10.0, mode="heat")
    rig.thermostat.set_target(30.0)
    rig.model.ambient_override_c = 0.0
    seen: set[FaultCode] = set()
    end = rig.now_s + 6 * 3600
    while rig.now_s < end:
        seen |= {f.code for f in rig.tick().faults}
    heater = [(t, on) for t, rid, on in rig.switches if rid == "heater"]
    assert [on for _, on in heater] == [True], "one run, never stopped"
    assert rig.relays["heater"]
    assert rig.now_s - heater[0][0] > 5 * 3600  # well past the one-hour limit
    assert FaultCode.MAX_RUN_TIME not in seen
    assert FaultCode.NO_EFFECT not in seen
    assert rig.model.beer_c > 13.5  # and the beer warmed all along (from 10 °C)


def test_a_relay_whose_effect_stops_mid_run_is_locked_out_at_its_run_limit() -> None:
    """A compressor works for an hour of a pull-down in a hot room, then dies: no_effect
    once the air and the beer are back where the run began, the lock-out at the limit."""
    timing = RelayTiming(
        min_on_s=180, min_off_s=600, max_run_s=3 * 3600, max_run_rest_s=1800, no_effect_s=1200
    )
    rig = make_rig(ControlSettings(cooler_timing=timing), beer_c=20.0, mode="cool")
    rig.thermostat.set_target(2.0)
    rig.model.ambient_override_c = 30.0
    rig.run(3600)
    assert rig.relays["cooler"]
    rig.broken.add("cooler")
    seen: list[FaultCode] = []
    while rig.relays["cooler"] and rig.now_s < 5 * 3600:
        seen += [f.code for f in rig.tick().faults]
    assert not rig.relays["cooler"]
    assert FaultCode.NO_EFFECT in seen
    assert seen.index(FaultCode.NO_EFFECT) < seen.index(FaultCode.MAX_RUN_TIME)
    on_at = next(t for t, rid, on in rig.switches if rid == "cooler" and on)
    off_at = rig.switches[-1][0]
    assert 3 * 3600 <= off_at - on_at <= 3 * 3600 + 2 * PERIOD_S
    assert rig.last is not None
    assert "no effect" in rig.last.reason
