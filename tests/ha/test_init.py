"""Setup against the real daemon: entities, pushes, unload, outages."""

from __future__ import annotations

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.beerpi
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.protocol.client import BeerPiClient

from .conftest import has_number, state_is, wait_for_state
from .daemon import Daemon

assert custom_components.beerpi


async def test_entities_appear(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    device_id = daemon_client.device.id if daemon_client.device else ""
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), init_integration.entry_id)
    assert device.identifiers == {(DOMAIN, device_id)}
    assert device.manufacturer == "BeerPi"
    assert device.model == "BeerPi simulator"
    assert device.sw_version == daemon_client.device.sw_version  # type: ignore[union-attr]

    # The first state may precede the first probe read.
    beer = await wait_for_state(hass, "sensor.beerpi_beer_temperature", has_number)
    assert 0 < float(beer.state) < 40
    assert beer.attributes["unit_of_measurement"] == "°C"
    assert hass.states.get("sensor.beerpi_fridge_temperature") is not None
    assert hass.states.get("binary_sensor.beerpi_problem").state == STATE_OFF  # type: ignore[union-attr]
    assert hass.states.get("binary_sensor.beerpi_link").state == STATE_ON  # type: ignore[union-attr]
    assert hass.states.get("binary_sensor.beerpi_heater").state == STATE_OFF  # type: ignore[union-attr]
    assert hass.states.get("binary_sensor.beerpi_cooler").state == STATE_OFF  # type: ignore[union-attr]
    climate = hass.states.get("climate.beerpi_thermostat")
    assert climate is not None
    assert climate.state == "off"
    assert climate.attributes["hvac_modes"] == ["off", "heat", "cool", "heat_cool"]
    limits = daemon_client.device.thermostat  # type: ignore[union-attr]
    assert climate.attributes["min_temp"] == limits.min_target
    assert climate.attributes["max_temp"] == limits.max_target
    assert hass.states.get("camera.beerpi_camera") is not None
    assert hass.states.get("button.beerpi_take_photo") is not None
    assert hass.states.get("event.beerpi_fault") is not None
    assert hass.states.get("sensor.beerpi_profile_step").state == "unknown"  # type: ignore[union-attr]

    unique_ids = {
        entry.unique_id
        for entry in er.async_entries_for_config_entry(
            er.async_get(hass), init_integration.entry_id
        )
    }
    assert f"{device_id}_temperature_beer" in unique_ids
    assert f"{device_id}_relay_heater" in unique_ids
    assert f"{device_id}_thermostat" in unique_ids


async def test_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    coordinator = init_integration.runtime_data
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert not coordinator.client.connected


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_pushed_fault_reaches_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await daemon_client.simulate(probe="beer", fault="disconnected")
    probe_fault = await wait_for_state(
        hass, "binary_sensor.beerpi_beer_probe_fault", state_is(STATE_ON)
    )
    assert probe_fault.attributes["codes"] == ["disconnected"]  # the guide: "codes lists why"
    await wait_for_state(hass, "binary_sensor.beerpi_problem", state_is(STATE_ON))
    await wait_for_state(hass, "sensor.beerpi_beer_temperature", state_is("unknown"))
    raised = await wait_for_state(
        hass, "event.beerpi_fault", lambda s: s.attributes.get("event_type") == "fault_raised"
    )
    assert raised.attributes["source"] == "beer"
    assert raised.attributes["code"] == "disconnected"

    await daemon_client.simulate(probe="beer", clear=True)
    await wait_for_state(hass, "binary_sensor.beerpi_beer_probe_fault", state_is(STATE_OFF))
    await wait_for_state(
        hass, "event.beerpi_fault", lambda s: s.attributes.get("event_type") == "fault_cleared"
    )


async def test_pushed_temperature_reaches_sensor(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    fridge = await wait_for_state(hass, "sensor.beerpi_fridge_temperature", has_number)
    before = float(fridge.state)
    await daemon_client.simulate(ambient=35)
    await wait_for_state(
        hass, "sensor.beerpi_fridge_temperature", lambda s: float(s.state) > before
    )


async def test_daemon_restart(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon: Daemon
) -> None:
    await hass.async_add_executor_job(daemon.stop)
    await wait_for_state(hass, "binary_sensor.beerpi_link", state_is(STATE_OFF))
    await hass.async_add_executor_job(daemon.start)
    await wait_for_state(hass, "binary_sensor.beerpi_link", state_is(STATE_ON))
    await wait_for_state(hass, "sensor.beerpi_beer_temperature", has_number)
    await wait_for_state(hass, "binary_sensor.beerpi_heater", state_is(STATE_OFF))
    assert init_integration.state is ConfigEntryState.LOADED
