"""Which faults hold relays off, and which only report."""

from __future__ import annotations

from datetime import UTC, datetime

from beerpi_protocol import FaultCode, ThermostatAction
from pi_daemon.control import Thermostat
from pi_daemon.safety import ProbeSample

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
