from __future__ import annotations

import pytest
from control_rig import make_rig

from beerpi_protocol import ThermostatAction, ThermostatMode
from pi_daemon.control import ControlSettings, Thermostat


@pytest.mark.parametrize("mode", ["auto", "", None, 3, "HEAT"])
def test_unknown_mode_is_refused_and_changes_nothing(mode: object) -> None:
    thermostat = Thermostat()
    thermostat.set_mode("cool")
    with pytest.raises(ValueError, match="mode must be one of"):
        thermostat.set_mode(mode)
    assert thermostat.mode is ThermostatMode.COOL


@pytest.mark.parametrize("target", [float("nan"), float("inf"), "18", True, None, 36.0, -3.0])
def test_bad_target_is_refused(target: object) -> None:
    thermostat = Thermostat()
    with pytest.raises(ValueError, match="target must be"):
        thermostat.set_target(target)
    assert thermostat.target_c == 18.0


def test_mode_needs_its_relay() -> None:
    thermostat = Thermostat(ControlSettings(heater=None))
    with pytest.raises(ValueError, match="needs a heater"):
        thermostat.set_mode("heat_cool")


def test_controlled_relays_follow_the_mode_and_off_releases_them() -> None:
    thermostat = Thermostat()
    assert thermostat.controlled_relays == ()
    thermostat.set_mode("heat")
    assert thermostat.controlled_relays == ("heater",)
    thermostat.set_mode("heat_cool")
    assert thermostat.controlled_relays == ("heater", "cooler")
    assert thermostat.set_mode("off") == ("cooler", "heater")


def test_cool_mode_never_heats_and_heat_mode_never_cools() -> None:
    rig = make_rig(beer_c=12.0, mode="cool")
    rig.thermostat.set_target(20.0)
    rig.run(6 * 3600)
    assert not any(rid == "heater" for _, rid, _ in rig.switches)
    rig = make_rig(beer_c=26.0, mode="heat")
    rig.thermostat.set_target(18.0)
    rig.run(6 * 3600)
    assert not any(rid == "cooler" for _, rid, _ in rig.switches)


def test_waiting_for_min_off_is_reported_with_time_left() -> None:
    rig = make_rig(beer_c=24.0)
    decision = rig.tick()  # at start-up the compressor rests its minimum off time
    assert decision.action == ThermostatAction.WAITING
    assert decision.reason == "cooler must rest 10 min more (minimum off time)"
    decision = rig.run(150)
    assert decision.reason == "cooler must rest 7 min 30 s more (minimum off time)"
    state = rig.thermostat.to_state()
    assert state.action == ThermostatAction.WAITING
    assert state.mode == ThermostatMode.HEAT_COOL
    assert state.target == 18.0
    assert state.probe == "beer"


def test_pulls_down_to_target_and_holds() -> None:
    rig = make_rig(beer_c=24.0)
    rig.run(24 * 3600)
    assert abs(rig.model.beer_c - 18.0) < 0.5
    assert rig.last is not None
    assert rig.last.action in (
        ThermostatAction.IDLE,
        ThermostatAction.COOLING,
        ThermostatAction.WAITING,
    )


def test_off_mode_drives_nothing() -> None:
    rig = make_rig(beer_c=24.0, mode="off")
    decision = rig.run(3600)
    assert decision.relays == {}
    assert decision.action == ThermostatAction.OFF
    assert rig.switches == []
