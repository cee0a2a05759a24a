"""A gravity sensor per hydrometer: from the simulated daemon's Tilt, and one that appears later."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from homeassistant.components.sensor import ATTR_STATE_CLASS, SensorStateClass
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.beerpi
from custom_components.beerpi.const import (
    DOMAIN,
    MAX_HYDROMETER_SENSORS,
    MAX_PROBE_SENSORS,
    TILT_COLOURS,
)
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.models import (
    HydrometerReading,
    ProbeState,
    ProfileProgress,
    ProfileStep,
)
from pi_daemon.config import TILT_COLOURS as DAEMON_TILT_COLOURS

from .conftest import DEVICE_ID, detach, has_number, push, set_profile, wait_for_state

assert custom_components.beerpi

TILT = "sensor.beerpi_red_tilt_gravity"


async def test_the_simulated_tilt_shows_as_a_gravity_sensor(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    state = await wait_for_state(hass, TILT, has_number)
    assert 1.040 <= float(state.state) <= 1.060  # the simulated wort, 1.050, just pitched
    assert state.attributes[ATTR_STATE_CLASS] == SensorStateClass.MEASUREMENT
    assert ATTR_UNIT_OF_MEASUREMENT not in state.attributes  # HA has no unit for SG
    assert state.name == "BeerPi Red Tilt gravity"
    entry = er.async_get(hass).async_get(TILT)
    assert entry is not None
    assert entry.unique_id == f"{init_integration.runtime_data.device_id}_gravity_tilt-red"


async def test_a_tilt_is_named_by_its_colour_and_an_ispindel_by_its_own_name(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The names a person reads; the unique ids keep the daemon's ids."""
    coordinator = await detach(init_integration)
    at = "2026-11-27T18:00:00.000Z"
    ids = ("tilt-black", "tilt-pink", "iSpindel01", "Tilt-Red", "tilt-mauve", "fv2")
    push(coordinator, hydrometers=tuple(HydrometerReading(id=i, sg=1.05, at=at) for i in ids))
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    named: dict[str, str | None] = {}
    for hydrometer in ids:
        entity_id = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{DEVICE_ID}_gravity_{hydrometer}"
        )
        assert entity_id is not None
        state = hass.states.get(entity_id)
        assert state is not None
        named[hydrometer] = state.name
    assert named == {
        "tilt-black": "BeerPi Black Tilt gravity",
        "tilt-pink": "BeerPi Pink Tilt gravity",
        # Not the daemon's own form of a Tilt's id: someone chose these names.
        "iSpindel01": "BeerPi iSpindel01 gravity",
        "Tilt-Red": "BeerPi Tilt-Red gravity",
        "tilt-mauve": "BeerPi tilt-mauve gravity",
        "fv2": "BeerPi fv2 gravity",
    }


async def test_a_gravity_sensor_of_an_earlier_version_keeps_its_entity_and_takes_the_name(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Named "tilt-red gravity" before: same entity (id, history), the readable name now."""
    mock_config_entry.add_to_hass(hass)
    registry = er.async_get(hass)
    old = registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{DEVICE_ID}_gravity_tilt-red",
        config_entry=mock_config_entry,
        suggested_object_id="beerpi_tilt_red_gravity",
        translation_key="hydrometer_gravity",
        original_name="tilt-red gravity",
    )
    assert old.entity_id == "sensor.beerpi_tilt_red_gravity"
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    try:
        state = await wait_for_state(hass, old.entity_id, has_number)
        assert state.name == "BeerPi Red Tilt gravity"
        assert hass.states.get(TILT) is None  # no second entity beside it
        mine = er.async_entries_for_config_entry(registry, mock_config_entry.entry_id)
        assert [e.entity_id for e in mine if "_gravity_" in e.unique_id] == [old.entity_id]
    finally:
        await hass.config_entries.async_unload(mock_config_entry.entry_id)
        await hass.async_block_till_done()


def test_the_tilt_colours_are_the_daemons() -> None:
    """Each colour the daemon listens for has its sensor name (strings.json)."""
    assert TILT_COLOURS == DAEMON_TILT_COLOURS


async def test_a_hydrometer_that_reports_later_gets_its_sensor(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    coordinator = init_integration.runtime_data
    await wait_for_state(hass, TILT, has_number)
    ispindel = HydrometerReading(id="ispindel", sg=1.0123, at="2026-11-27T18:00:00.000Z")
    push(coordinator, hydrometers=(*coordinator.data.hydrometers, ispindel))
    await hass.async_block_till_done()
    shown = hass.states.get("sensor.beerpi_ispindel_gravity")
    assert shown is not None
    assert shown.state == "1.0123"
    # Gone from a later state (a daemon restarted without it): unavailable, not stale.
    push(coordinator, hydrometers=())
    await hass.async_block_till_done()
    gone = hass.states.get("sensor.beerpi_ispindel_gravity")
    assert gone is not None
    assert gone.state == STATE_UNAVAILABLE


async def test_a_daemon_listing_hundreds_of_sensors_or_odd_names_cannot_flood_the_registry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Every probe and hydrometer becomes an entity for good: a broken daemon is capped."""
    coordinator = await detach(init_integration)
    at = "2026-11-27T18:00:00.000Z"
    odd = HydrometerReading(id="<b>\u202eevil\n\x00x", sg=1.05, at=at)
    many = tuple(HydrometerReading(id=f"h{i}", sg=1.05, at=at) for i in range(300))
    extra = {f"p{i}": ProbeState(temperature=20.0) for i in range(300)}
    probes = {**coordinator.data.probes, **extra}
    probes["bad\nname"] = ProbeState(temperature=20.0)
    push(coordinator, hydrometers=(odd, *many), probes=probes)
    await hass.async_block_till_done()
    mine = er.async_entries_for_config_entry(er.async_get(hass), init_integration.entry_id)
    gravity = [e.unique_id for e in mine if "_gravity_" in e.unique_id]
    temperatures = [e.unique_id for e in mine if "_temperature_" in e.unique_id]
    assert len(gravity) == MAX_HYDROMETER_SENSORS
    assert len(temperatures) == MAX_PROBE_SENSORS
    assert not any("evil" in u or "\n" in u for u in gravity + temperatures)


async def test_a_step_that_ends_on_gravity_shows_the_daemons_time_left(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Gravity ended step 1 early: the end times follow the daemon, not the steps' hours."""
    coordinator = await detach(init_integration)
    started = datetime(2026, 11, 20, 10, 0, tzinfo=dt_util.UTC)
    now = started + timedelta(days=3)  # step 1 ended on gravity on day 3, step 2 runs 2 days
    profile = ProfileProgress(
        name="Ale to FG",
        steps=(
            ProfileStep(kind="hold", target=18.0, hours=336.0, until_sg=1.012),
            ProfileStep(kind="hold", target=2.0, hours=48.0),
        ),
        step=1,
        step_time_left_s=48 * 3600.0,
        total_time_left_s=48 * 3600.0,
        started_at=now_iso(started),
    )
    thermostat = dataclasses.replace(coordinator.data.thermostat, profile=profile)
    push(coordinator, thermostat=thermostat, timestamp=now_iso(now))
    await hass.async_block_till_done()
    for entity_id in ("sensor.beerpi_profile_step_ends_at", "sensor.beerpi_profile_ends_at"):
        shown = hass.states.get(entity_id)
        assert shown is not None
        assert dt_util.parse_datetime(shown.state) == now + timedelta(days=2)  # not day 16


def now_iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_set_profile_takes_steps_that_end_on_gravity(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    steps = [
        {"kind": "hold", "target": 18, "days": 14, "until_sg": 1.012},
        {"kind": "hold", "target": 20, "days": 7} | {"stable_within": 0.001, "stable_hours": 24},
    ]
    await set_profile(hass, init_integration, steps)
    profile = (await daemon_client.get_state()).thermostat.profile
    assert profile is not None
    assert [(s.until_sg, s.stable_within, s.stable_hours) for s in profile.steps] == [
        (1.012, None, None),
        (None, 0.001, 24.0),
    ]
