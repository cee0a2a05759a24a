"""Climate, switch, button, camera and the integration's actions, against the real daemon."""

from __future__ import annotations

import pytest
from homeassistant.components.camera import async_get_image
from homeassistant.components.climate import (
    ATTR_HVAC_MODE,
    SERVICE_SET_HVAC_MODE,
    SERVICE_SET_TEMPERATURE,
)
from homeassistant.components.climate import (
    DOMAIN as CLIMATE_DOMAIN,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_TEMPERATURE,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.beerpi
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.protocol.client import BeerPiClient

from .conftest import attribute_is, state_is, wait_for_state

assert custom_components.beerpi

COOLER_SWITCH = "switch.beerpi_cooler_manual"
HEATER_SWITCH = {ATTR_ENTITY_ID: "switch.beerpi_heater_manual"}


async def test_climate_reaches_daemon(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await hass.services.async_call(
        CLIMATE_DOMAIN,
        SERVICE_SET_TEMPERATURE,
        {
            ATTR_ENTITY_ID: "climate.beerpi_thermostat",
            ATTR_TEMPERATURE: 18.5,
            ATTR_HVAC_MODE: "heat_cool",
        },
        blocking=True,
    )
    state = await daemon_client.get_state()
    assert state.thermostat.target == 18.5
    assert state.thermostat.mode == "heat_cool"
    await wait_for_state(hass, "climate.beerpi_thermostat", state_is("heat_cool"))
    await wait_for_state(hass, "climate.beerpi_thermostat", attribute_is(ATTR_TEMPERATURE, 18.5))
    # The thermostat now drives the relays: the relay sensors say so.
    await wait_for_state(
        hass, "binary_sensor.beerpi_heater", attribute_is("controlled_by", "thermostat")
    )

    await hass.services.async_call(
        CLIMATE_DOMAIN,
        SERVICE_SET_HVAC_MODE,
        {ATTR_ENTITY_ID: "climate.beerpi_thermostat", ATTR_HVAC_MODE: "off"},
        blocking=True,
    )
    assert (await daemon_client.get_state()).thermostat.mode == "off"
    await wait_for_state(hass, "climate.beerpi_thermostat", state_is("off"))


async def test_climate_out_of_range_target(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            CLIMATE_DOMAIN,
            SERVICE_SET_TEMPERATURE,
            {ATTR_ENTITY_ID: "climate.beerpi_thermostat", ATTR_TEMPERATURE: 99},
            blocking=True,
        )


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_switch_reaches_daemon(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        HEATER_SWITCH,
        blocking=True,
    )
    assert (await daemon_client.get_state()).relays["heater"].on
    await wait_for_state(hass, "switch.beerpi_heater_manual", state_is(STATE_ON))
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_OFF,
        HEATER_SWITCH,
        blocking=True,
    )
    assert not (await daemon_client.get_state()).relays["heater"].on
    await wait_for_state(hass, "switch.beerpi_heater_manual", state_is(STATE_OFF))


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_switch_under_thermostat_control(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await daemon_client.set_thermostat(mode="heat_cool", target=20)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: COOLER_SWITCH},
            blocking=True,
        )
    assert err.value.translation_key == "relay_under_thermostat_control"
    assert err.value.translation_domain == DOMAIN


async def test_photo_reaches_camera(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    with pytest.raises(HomeAssistantError):
        # No photo yet.
        await async_get_image(hass, "camera.beerpi_camera")
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.beerpi_take_photo"}, blocking=True
    )
    image = await async_get_image(hass, "camera.beerpi_camera")
    assert image.content_type == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8")
    # Cached: the same photo is fetched once.
    assert (await async_get_image(hass, "camera.beerpi_camera")).content == image.content


async def test_record_video_action(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    response = await hass.services.async_call(
        DOMAIN,
        "record_video",
        {"config_entry_id": init_integration.entry_id, "seconds": 1},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert str(response["url"]).startswith("/api/media/")


async def test_profile_actions(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "set_profile",
        {
            "config_entry_id": init_integration.entry_id,
            "name": "Ale",
            "mode": "heat_cool",
            "steps": [
                {"kind": "hold", "target": 18, "hours": 48},
                {"kind": "ramp", "target": 21, "days": 1},
            ],
        },
        blocking=True,
    )
    profile = (await daemon_client.get_state()).thermostat.profile
    assert profile is not None
    assert profile.name == "Ale"
    await wait_for_state(hass, "sensor.beerpi_profile_step", state_is("1"))

    await hass.services.async_call(
        DOMAIN, "clear_profile", {"config_entry_id": init_integration.entry_id}, blocking=True
    )
    assert (await daemon_client.get_state()).thermostat.profile is None
    await wait_for_state(hass, "sensor.beerpi_profile_step", state_is("unknown"))


async def test_action_on_unknown_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "clear_profile", {"config_entry_id": "nope"}, blocking=True
        )
    assert err.value.translation_key == "entry_not_found"


async def test_action_on_unloaded_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "clear_profile", {"config_entry_id": init_integration.entry_id}, blocking=True
        )
    assert err.value.translation_key == "entry_not_loaded"


async def test_set_profile_without_name(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """The name is optional (services.yaml): the daemon names an unnamed profile."""
    await hass.services.async_call(
        DOMAIN,
        "set_profile",
        {
            "config_entry_id": init_integration.entry_id,
            "steps": [{"kind": "hold", "target": 19, "days": 3}],
        },
        blocking=True,
    )
    profile = (await daemon_client.get_state()).thermostat.profile
    assert profile is not None
    assert profile.name  # named by the daemon
    assert [(s.kind, s.target, s.hours) for s in profile.steps] == [("hold", 19.0, 72.0)]


async def test_set_profile_takes_home_assistant_units(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """A Fahrenheit home gives targets in °F; the daemon gets °C."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    await hass.services.async_call(
        DOMAIN,
        "set_profile",
        {
            "config_entry_id": init_integration.entry_id,
            "name": "Lager",
            "steps": [
                {"kind": "hold", "target": 50, "days": 10},
                {"kind": "ramp", "target": 64.4, "hours": 24},
            ],
        },
        blocking=True,
    )
    profile = (await daemon_client.get_state()).thermostat.profile
    assert profile is not None
    assert [step.target for step in profile.steps] == [10.0, 18.0]


async def test_pause_resume_and_skip_a_profile_step(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    entry = {"config_entry_id": init_integration.entry_id}
    paused = "binary_sensor.beerpi_profile_paused"
    # No profile runs: the actions say so, and the paused sensor does not know.
    for action in ("pause_profile", "resume_profile", "skip_step"):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(DOMAIN, action, entry, blocking=True)
        assert err.value.translation_key == "no_profile_running"
    await wait_for_state(hass, paused, state_is("unknown"))

    await daemon_client.set_thermostat(
        profile={
            "name": "Ale",
            "steps": [
                {"kind": "hold", "target": 18, "days": 4},
                {"kind": "hold", "target": 21, "days": 2},
                {"kind": "hold", "target": 2, "days": 2},
            ],
        }
    )
    await wait_for_state(hass, paused, state_is(STATE_OFF))
    await wait_for_state(hass, "sensor.beerpi_profile_step_ends_at", has_time)

    await hass.services.async_call(DOMAIN, "pause_profile", entry, blocking=True)
    profile = (await daemon_client.get_state()).thermostat.profile
    assert profile is not None
    assert profile.paused
    await wait_for_state(hass, paused, state_is(STATE_ON))
    # A paused profile has no end until it resumes.
    await wait_for_state(hass, "sensor.beerpi_profile_step_ends_at", state_is("unknown"))
    assert hass.states.get("sensor.beerpi_profile_ends_at").state == "unknown"  # type: ignore[union-attr]
    # Pausing twice is the user's mistake, in the daemon's words.
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "pause_profile", entry, blocking=True)
    assert err.value.translation_key == "invalid_argument"
    assert "already paused" in str(err.value.translation_placeholders)

    await hass.services.async_call(DOMAIN, "resume_profile", entry, blocking=True)
    await wait_for_state(hass, paused, state_is(STATE_OFF))
    await wait_for_state(hass, "sensor.beerpi_profile_step_ends_at", has_time)

    # Step 2 (counted from 1) does not run yet: nothing is skipped.
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, "skip_step", entry | {"step": 2}, blocking=True)
    await hass.services.async_call(DOMAIN, "skip_step", entry | {"step": 1}, blocking=True)
    await wait_for_state(hass, "sensor.beerpi_profile_step", state_is("2"))
    assert (await daemon_client.get_state()).thermostat.target == 21.0
    await hass.services.async_call(DOMAIN, "skip_step", entry, blocking=True)
    await hass.services.async_call(DOMAIN, "skip_step", entry, blocking=True)
    # Past the last step the profile is finished: no step, no pause to know of.
    await wait_for_state(hass, "sensor.beerpi_profile_step", state_is("unknown"))
    await wait_for_state(hass, paused, state_is("unknown"))
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "skip_step", entry, blocking=True)
    assert err.value.translation_key == "no_profile_running"


def has_time(state: State) -> bool:
    return state.state not in ("unknown", "unavailable")
