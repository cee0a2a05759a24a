"""The thermostat entity: who sets the target, what it does and why, modes, rounding."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from homeassistant.components.climate import (
    ATTR_HVAC_ACTION,
    ATTR_HVAC_MODE,
    ATTR_PRESET_MODE,
    SERVICE_SET_HVAC_MODE,
    SERVICE_SET_PRESET_MODE,
    SERVICE_SET_TEMPERATURE,
)
from homeassistant.components.climate import DOMAIN as CLIMATE_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_TEMPERATURE,
    EVENT_STATE_CHANGED,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

import custom_components.beerpi
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.const import ThermostatAction, ThermostatMode
from custom_components.beerpi.protocol.models import ProbeState

from .conftest import attribute_is, detach, push, state_is, wait_for_state

assert custom_components.beerpi

CLIMATE = "climate.beerpi_thermostat"
ALE = {
    "name": "Ale",
    "steps": [{"kind": "hold", "target": 18, "days": 14}],
}


async def _climate(hass: HomeAssistant, service: str, **data: Any) -> None:
    await hass.services.async_call(
        CLIMATE_DOMAIN, service, {ATTR_ENTITY_ID: CLIMATE, **data}, blocking=True
    )


async def test_temperature_during_a_profile_asks_first(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """A target set by hand would silently drop a weeks-long profile on the daemon: refused
    with the way out; the Manual preset stops the profile, then the target is taken."""
    await daemon_client.set_thermostat(mode="heat_cool", profile=ALE)
    state = await wait_for_state(hass, CLIMATE, attribute_is(ATTR_PRESET_MODE, "profile"))
    assert state.attributes["preset_modes"] == ["profile", "manual"]
    assert state.attributes["profile"] == "Ale"

    with pytest.raises(ServiceValidationError) as err:
        await _climate(hass, SERVICE_SET_TEMPERATURE, **{ATTR_TEMPERATURE: 12})
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "profile_running"
    assert err.value.translation_placeholders == {"profile": "Ale"}
    thermostat = (await daemon_client.get_state()).thermostat
    assert thermostat.profile is not None
    assert thermostat.target == 18.0

    # A mode change leaves the profile alone.
    await _climate(hass, SERVICE_SET_HVAC_MODE, **{ATTR_HVAC_MODE: "cool"})
    assert (await daemon_client.get_state()).thermostat.profile is not None

    await _climate(hass, SERVICE_SET_PRESET_MODE, **{ATTR_PRESET_MODE: "manual"})
    assert (await daemon_client.get_state()).thermostat.profile is None
    await wait_for_state(hass, CLIMATE, attribute_is(ATTR_PRESET_MODE, "manual"))
    await _climate(hass, SERVICE_SET_TEMPERATURE, **{ATTR_TEMPERATURE: 12})
    assert (await daemon_client.get_state()).thermostat.target == 12.0


async def test_profile_preset_needs_a_profile(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await wait_for_state(hass, CLIMATE, attribute_is(ATTR_PRESET_MODE, "manual"))
    # Manual while manual: nothing to do.
    await _climate(hass, SERVICE_SET_PRESET_MODE, **{ATTR_PRESET_MODE: "manual"})
    with pytest.raises(ServiceValidationError) as err:
        await _climate(hass, SERVICE_SET_PRESET_MODE, **{ATTR_PRESET_MODE: "profile"})
    assert err.value.translation_key == "no_profile_running"


async def test_turn_on_restores_the_last_mode(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await _climate(hass, SERVICE_SET_HVAC_MODE, **{ATTR_HVAC_MODE: "cool"})
    await wait_for_state(hass, CLIMATE, state_is("cool"))
    await _climate(hass, SERVICE_TURN_OFF)
    await wait_for_state(hass, CLIMATE, state_is("off"))
    await _climate(hass, SERVICE_TURN_ON)
    assert (await daemon_client.get_state()).thermostat.mode == ThermostatMode.COOL
    await wait_for_state(hass, CLIMATE, state_is("cool"))


async def test_turn_on_remembers_the_mode_across_restarts(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """The daemon is off when Home Assistant starts; turn_on still knows it last heated."""
    mock_restore_cache_with_extra_data(hass, [(State(CLIMATE, "off"), {"last_on_mode": "heat"})])
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await _climate(hass, SERVICE_TURN_ON)
    assert (await daemon_client.get_state()).thermostat.mode == ThermostatMode.HEAT
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_turn_on_without_history_picks_heat_cool(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await _climate(hass, SERVICE_TURN_ON)
    assert (await daemon_client.get_state()).thermostat.mode == ThermostatMode.HEAT_COOL


async def test_targets_rounded_to_a_hundredth(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await _climate(hass, SERVICE_SET_TEMPERATURE, **{ATTR_TEMPERATURE: 18.234})
    assert (await daemon_client.get_state()).thermostat.target == 18.23
    coordinator = await detach(init_integration)
    # A ramp step computes its target: binary fractions show through.
    thermostat = dataclasses.replace(coordinator.data.thermostat, target=18.200000000000003)
    push(coordinator, thermostat=thermostat)
    await hass.async_block_till_done()
    assert hass.states.get(CLIMATE).attributes[ATTR_TEMPERATURE] == 18.2  # type: ignore[union-attr]


async def test_a_whole_fahrenheit_target_comes_back_whole(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """65 °F is 18.33 °C: rounded to a tenth of a °C (18.3) it came back as 64.9 °F."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    await _climate(hass, SERVICE_SET_TEMPERATURE, **{ATTR_TEMPERATURE: 65})
    assert (await daemon_client.get_state()).thermostat.target == 18.33
    state = await wait_for_state(
        hass, CLIMATE, lambda s: s.attributes.get(ATTR_TEMPERATURE) is not None
    )
    assert state.attributes[ATTR_TEMPERATURE] == 65.0


async def test_a_fahrenheit_home_is_told_the_range_in_fahrenheit(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """100 °F is past the daemon's 35 °C: the refusal gives the range in °F (28.4 to 95),
    not 37.77... against -2 to 35 as before; the card's range and readings are °F too."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    with pytest.raises(ServiceValidationError) as err:
        await _climate(hass, SERVICE_SET_TEMPERATURE, **{ATTR_TEMPERATURE: 100})
    assert err.value.translation_placeholders == {
        "check_temp": "100.0",
        "min_temp": "28.4",
        "max_temp": "95.0",
    }
    assert (
        str(err.value) == "Provided temperature 100.0 is not valid. Accepted range is 28.4 to 95.0"
    )
    assert (await daemon_client.get_state()).thermostat.target != 37.78
    coordinator = await detach(init_integration)
    probes = {**coordinator.data.probes, "beer": ProbeState(temperature=20.0625)}
    thermostat = dataclasses.replace(coordinator.data.thermostat, target=18.33)
    push(coordinator, probes=probes, thermostat=thermostat)
    await hass.async_block_till_done()
    attributes = hass.states.get(CLIMATE).attributes  # type: ignore[union-attr]
    assert (attributes["min_temp"], attributes["max_temp"]) == (28.4, 95.0)
    assert attributes["current_temperature"] == 68.1  # 20.0625 °C
    assert attributes[ATTR_TEMPERATURE] == 65.0  # 18.33 °C


# Nothing runs while waiting or in fault, so Home Assistant's action is idle for both;
# ``thermostat_action`` tells them apart.
ACTIONS = {
    ThermostatAction.HEATING: "heating",
    ThermostatAction.COOLING: "cooling",
    ThermostatAction.IDLE: "idle",
    ThermostatAction.OFF: "off",
    ThermostatAction.WAITING: "idle",
    ThermostatAction.FAULT: "idle",
}


async def test_action_and_reason(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    coordinator = await detach(init_integration)
    for target, (action, hvac_action) in enumerate(ACTIONS.items(), start=10):
        reason = f"{action.value}: cooler resting 3 min (minimum off time)"
        thermostat = dataclasses.replace(
            coordinator.data.thermostat, action=action, reason=reason, target=float(target)
        )
        push(coordinator, thermostat=thermostat)
        await hass.async_block_till_done()
        state = hass.states.get(CLIMATE)
        assert state is not None
        assert state.attributes[ATTR_HVAC_ACTION] == hvac_action
        assert state.attributes["thermostat_action"] == action.value
        assert state.attributes["reason"] == reason


async def test_reason_alone_writes_no_state(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The daemon's reason quotes live temperatures; it rides along with other changes."""
    coordinator = await detach(init_integration)
    await hass.async_block_till_done()
    changes: list[Event[EventStateChangedData]] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == CLIMATE:
            changes.append(event)

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    for step in range(3):
        thermostat = dataclasses.replace(coordinator.data.thermostat, reason=f"chamber {step}")
        push(coordinator, thermostat=thermostat)
    await hass.async_block_till_done()
    assert changes == []
    thermostat = dataclasses.replace(coordinator.data.thermostat, action=ThermostatAction.WAITING)
    push(coordinator, thermostat=thermostat)
    await hass.async_block_till_done()
    assert len(changes) == 1
    assert hass.states.get(CLIMATE).attributes["reason"] == "chamber 2"  # type: ignore[union-attr]
    # The guide: the reason is "not stored by the recorder" (it quotes live temperatures);
    # the action the recorder keeps.
    state = hass.states.get(CLIMATE)
    assert state is not None
    assert state.state_info is not None
    unrecorded = state.state_info["unrecorded_attributes"]
    assert "reason" in unrecorded
    assert "thermostat_action" not in unrecorded
