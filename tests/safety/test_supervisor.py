"""Which faults hold relays off, and which only report."""

from __future__ import annotations

from datetime import UTC, datetime

from beerpi_protocol import FaultCode, ThermostatAction
from pi_daemon.control import Thermostat
from pi_daemon.safety import Cause, ProbeSample, RelayGate
from tests.control.control_rig import FakeRelay

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_no_reading_yet_holds_nothing_but_a_stale_probe_does() -> None:
    thermostat = Thermostat(start_s=0.0)
    thermostat.set_mode("heat_cool")
    first = thermostat.step(1.0, NOW, {}, {})
    assert first.holds == {}
    assert first.action is ThermostatAction.WAITING
    assert first.reason == "no reading from the beer probe yet"
    stale_s = thermostat.settings.safety.stale_s
    later = thermostat.step(stale_s + 1.0, NOW, {}, {})
    assert [(f.source, f.code) for f in later.faults] == [
        ("beer", FaultCode.STALE),
        ("fridge", FaultCode.STALE),
    ]
    assert later.action is ThermostatAction.FAULT
    assert set(later.holds) == {"heater", "cooler"}


def test_a_chamber_probe_fault_holds_nothing() -> None:
    thermostat = Thermostat(start_s=0.0)
    samples = {
        "beer": ProbeSample(18.0, None, 1.0),
        "fridge": ProbeSample(None, FaultCode.CRC, 1.0),
    }
    decision = thermostat.step(1.0, NOW, samples, {})
    assert [(f.source, f.code) for f in decision.faults] == [("fridge", FaultCode.CRC)]
    assert decision.holds == {}


def test_a_beer_probe_fault_holds_heater_and_cooler_even_with_the_thermostat_off() -> None:
    thermostat = Thermostat(start_s=0.0)
    samples = {"beer": ProbeSample(85.0, None, 1.0), "fridge": ProbeSample(18.0, None, 1.0)}
    decision = thermostat.step(1.0, NOW, samples, {})
    assert decision.action is ThermostatAction.OFF
    assert decision.holds == {
        "heater": "beer probe in fault: reset_85",
        "cooler": "beer probe in fault: reset_85",
    }


def test_a_stuck_beer_probe_is_found_while_a_relay_runs_by_hand() -> None:
    """The thermostat off, the heater on by hand, the beer probe frozen: the same fault
    and hold as when the thermostat drives the heater (the cut-offs read that probe)."""
    thermostat = Thermostat(start_s=0.0)
    assert thermostat.mode.value == "off"
    gate = RelayGate(
        {rid: FakeRelay(rid) for rid in ("heater", "cooler")}, thermostat.rules, lambda: 0.0
    )
    assert gate.switch("heater", True, 10.0, Cause.MANUAL) is None
    stuck_after_s = thermostat.settings.safety.beer_stuck_s
    faults: list[tuple[str, FaultCode]] = []
    now_s, air_c = 10.0, 18.0
    while now_s < stuck_after_s + 3600 and not faults:
        now_s += 5.0
        air_c += 0.002  # the heater warms the chamber; the beer probe never moves
        samples = {
            "beer": ProbeSample(18.0, None, now_s),
            "fridge": ProbeSample(air_c, None, now_s),
        }
        decision = thermostat.step(now_s, NOW, samples, gate.states())
        gate.hold("thermostat", decision.holds, now_s)
        faults = [(f.source, f.code) for f in decision.faults if f.code is FaultCode.STUCK]
    assert faults == [("beer", FaultCode.STUCK)]
    assert now_s <= stuck_after_s + 60
    assert not gate.is_on("heater")
