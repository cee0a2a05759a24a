"""What the entities show and how often they write: resolution, timestamps, new entities."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

import custom_components.beerpi
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.const import ThermostatMode
from custom_components.beerpi.protocol.models import (
    ProbeState,
    ProfileProgress,
    ProfileStep,
    RelayState,
)

from .conftest import detach, push, state_is, wait_for_state, wait_until
from .daemon import Daemon

assert custom_components.beerpi

BEER = "sensor.beerpi_beer_temperature"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def watch(hass: HomeAssistant, entity_id: str) -> list[Event[Any]]:
    """Every state write of ``entity_id``: changes, and same-state reports."""
    seen: list[Event[Any]] = []

    @callback
    def record(event: Event[Any]) -> None:
        seen.append(event)

    @callback
    def mine(data: Mapping[str, Any]) -> bool:
        return bool(data["entity_id"] == entity_id)

    hass.bus.async_listen(EVENT_STATE_CHANGED, record, event_filter=mine)
    hass.bus.async_listen(EVENT_STATE_REPORTED, record, event_filter=mine)
    return seen


async def test_temperature_at_probe_resolution(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A DS18B20 reads in 1/16 °C; the kernel reports millidegrees (19.062)."""
    coordinator = await detach(init_integration)
    push(coordinator, probes={**coordinator.data.probes, "beer": ProbeState(temperature=19.062)})
    await hass.async_block_till_done()
    assert hass.states.get(BEER).state == "19.0625"  # type: ignore[union-attr]
    climate = hass.states.get("climate.beerpi_thermostat")
    assert climate is not None
    # Shown at the climate entity's precision (a tenth), from the rounded reading.
    assert climate.attributes["current_temperature"] == 19.1


async def test_unchanged_values_are_not_written(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A push a second: only a value that changed reaches the state machine."""
    coordinator = await detach(init_integration)
    probes = {**coordinator.data.probes, "beer": ProbeState(temperature=19.5)}
    push(coordinator, probes=probes)
    await hass.async_block_till_done()
    writes = watch(hass, BEER)
    for noise in (19.501, 19.499, 19.5):  # below the probe's resolution
        push(coordinator, probes={**probes, "beer": ProbeState(temperature=noise)})
        push(coordinator, timestamp=iso(dt_util.utcnow()))
    await hass.async_block_till_done()
    assert writes == []
    push(coordinator, probes={**probes, "beer": ProbeState(temperature=19.5625)})
    await hass.async_block_till_done()
    assert [event.data["new_state"].state for event in writes] == ["19.5625"]


def _profile(started_at: datetime, step: int) -> ProfileProgress:
    return ProfileProgress(
        name="Ale",
        steps=(
            ProfileStep(kind="hold", target=18.0, hours=96.0),
            ProfileStep(kind="ramp", target=21.0, hours=24.0),
        ),
        step=step,
        step_time_left_s=3600.0,
        total_time_left_s=7200.0,
        started_at=iso(started_at),
    )


async def test_profile_end_times_are_timestamps(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """ "Step ends at" and "profile ends at" stay put while time passes (no row a push)."""
    coordinator = await detach(init_integration)
    started = datetime(2026, 11, 20, 10, 0, tzinfo=dt_util.UTC)
    writes = watch(hass, "sensor.beerpi_profile_ends_at")
    for seconds in range(0, 50, 10):
        thermostat = dataclasses.replace(
            coordinator.data.thermostat, profile=_profile(started, step=1)
        )
        push(
            coordinator, thermostat=thermostat, timestamp=iso(started + timedelta(seconds=seconds))
        )
    await hass.async_block_till_done()
    step_end = hass.states.get("sensor.beerpi_profile_step_ends_at")
    end = hass.states.get("sensor.beerpi_profile_ends_at")
    assert step_end is not None
    assert end is not None
    assert step_end.attributes["device_class"] == end.attributes["device_class"] == "timestamp"
    assert dt_util.parse_datetime(step_end.state) == started + timedelta(hours=120)
    assert dt_util.parse_datetime(end.state) == started + timedelta(hours=120)
    assert len(writes) == 1
    assert hass.states.get("sensor.beerpi_profile_step").state == "2"  # type: ignore[union-attr]

    # A daemon that does not say when the profile started: its clock plus the time left.
    profile = dataclasses.replace(_profile(started, step=0), started_at=None)
    thermostat = dataclasses.replace(coordinator.data.thermostat, profile=profile)
    push(coordinator, thermostat=thermostat, timestamp="2026-11-21T10:00:30.250Z")
    await hass.async_block_till_done()
    step_end = hass.states.get("sensor.beerpi_profile_step_ends_at")
    assert dt_util.parse_datetime(step_end.state) == datetime(  # type: ignore[union-attr]
        2026, 11, 21, 11, 0, tzinfo=dt_util.UTC
    )

    # Finished, or none: unknown.
    thermostat = dataclasses.replace(
        coordinator.data.thermostat, profile=dataclasses.replace(profile, finished=True)
    )
    push(coordinator, thermostat=thermostat)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.beerpi_profile_ends_at").state == STATE_UNKNOWN  # type: ignore[union-attr]
    assert hass.states.get("sensor.beerpi_profile_step").state == STATE_UNKNOWN  # type: ignore[union-attr]


async def test_time_left_sensors_of_earlier_versions_are_removed(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    registry = er.async_get(hass)
    mock_config_entry.add_to_hass(hass)
    device_id = daemon_client.device.id  # type: ignore[union-attr]
    old = registry.async_get_or_create(
        "sensor", DOMAIN, f"{device_id}_profile_time_left", config_entry=mock_config_entry
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get(old.entity_id) is None
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_target_sensor(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """The target in force, with long-term statistics, to graph against the beer."""
    target = "sensor.beerpi_target_temperature"
    state = await wait_for_state(hass, target, state_is(STATE_UNKNOWN))  # thermostat off
    assert state.attributes["state_class"] == "measurement"
    assert state.attributes["device_class"] == "temperature"
    assert state.attributes["unit_of_measurement"] == "°C"
    await daemon_client.set_thermostat(mode="heat_cool", target=19.5)
    await wait_for_state(hass, target, state_is("19.5"))


async def test_relay_state_sensors(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    heater = "binary_sensor.beerpi_heater"
    state = await wait_for_state(hass, heater, state_is(STATE_OFF))
    assert state.attributes["device_class"] == "running"
    await daemon_client.set_relay("heater", True)
    await wait_for_state(hass, heater, state_is(STATE_ON))
    await daemon_client.set_relay("heater", False)
    await wait_for_state(hass, heater, state_is(STATE_OFF))


async def test_manual_switches_and_fault_details_disabled_by_default(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Relay switches are manual controls (refused while the thermostat runs) and the
    per-probe/relay faults repeat "Problem": available, but off until enabled."""
    registry = er.async_get(hass)
    entries = er.async_entries_for_config_entry(registry, init_integration.entry_id)
    disabled = sorted(e.entity_id for e in entries if e.disabled_by is not None)
    assert disabled == [
        "binary_sensor.beerpi_beer_probe_fault",
        "binary_sensor.beerpi_cooler_fault",
        "binary_sensor.beerpi_fridge_probe_fault",
        "binary_sensor.beerpi_heater_fault",
        "switch.beerpi_cooler_manual",
        "switch.beerpi_heater_manual",
    ]
    switch = registry.async_get("switch.beerpi_heater_manual")
    assert switch is not None
    assert switch.original_device_class == "switch"


async def test_climate_and_camera_have_their_own_names(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    climate = hass.states.get("climate.beerpi_thermostat")
    camera = hass.states.get("camera.beerpi_camera")
    assert climate is not None
    assert camera is not None
    assert climate.name == "BeerPi Thermostat"
    assert camera.name == "BeerPi Camera"


# -- run time -----------------------------------------------------------------------

RUN_TODAY = "sensor.beerpi_heater_run_time_today"
RUN_TOTAL = "sensor.beerpi_heater_run_time"


def _relays(heater_on: bool) -> dict[str, RelayState]:
    return {"heater": RelayState(on=heater_on), "cooler": RelayState(on=False)}


async def test_run_time_counts_pushes_while_on(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    coordinator = await detach(init_integration)
    start = dt_util.start_of_local_day() + timedelta(hours=10)

    def at(hours: float, heater_on: bool) -> None:
        push(coordinator, relays=_relays(heater_on), timestamp=iso(start + timedelta(hours=hours)))

    at(0, heater_on=True)
    at(1, heater_on=True)
    at(1.5, heater_on=False)  # on from 0 to 1.5
    at(3, heater_on=False)
    at(3, heater_on=True)
    at(3.25, heater_on=True)  # and 0.25 more
    await hass.async_block_till_done()
    today = hass.states.get(RUN_TODAY)
    assert today is not None
    assert today.state == "1.75"
    assert today.attributes["state_class"] == "total_increasing"
    assert today.attributes["device_class"] == "duration"
    assert hass.states.get(RUN_TOTAL).state == "1.75"  # type: ignore[union-attr]
    assert hass.states.get("sensor.beerpi_cooler_run_time").state == "0.0"  # type: ignore[union-attr]

    at(3.5, heater_on=False)
    push(coordinator, relays=_relays(True), timestamp=None)  # a push without a time: skipped
    # Across local midnight: today starts from zero, the total goes on.
    at(13.5, heater_on=True)
    at(14.5, heater_on=True)  # 10:00 + 14.5 h = 00:30 the next day
    await hass.async_block_till_done()
    assert hass.states.get(RUN_TODAY).state == "0.5"  # type: ignore[union-attr]
    assert hass.states.get(RUN_TOTAL).state == "3.0"  # type: ignore[union-attr]


async def test_run_time_does_not_count_an_outage(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The guide: "Time while the link is down is not counted", also when the relay was on
    as the link dropped and is on again when it comes back hours later."""
    coordinator = await detach(init_integration)
    start = dt_util.start_of_local_day() + timedelta(hours=10)

    def at(hours: float) -> str:
        return iso(start + timedelta(hours=hours))

    push(coordinator, relays=_relays(True), timestamp=at(0))
    push(coordinator, relays=_relays(True), timestamp=at(1))
    await hass.async_block_till_done()
    assert hass.states.get(RUN_TOTAL).state == "1.0"  # type: ignore[union-attr]

    await coordinator._async_on_disconnected()
    # Back five hours later, the heater on: the first snapshot after the reconnect...
    coordinator.client.state = dataclasses.replace(
        coordinator.data, relays=_relays(True), timestamp=at(6)
    )
    await coordinator._async_on_connected()
    # ...and the next one, half an hour on, count only that half hour.
    push(coordinator, relays=_relays(True), timestamp=at(6.5))
    await hass.async_block_till_done()
    assert hass.states.get(RUN_TOTAL).state == "1.5"  # type: ignore[union-attr]
    assert hass.states.get(RUN_TODAY).state == "1.5"  # type: ignore[union-attr]

    # A Pi without a clock may come back with an earlier time: it counts on from there.
    await coordinator._async_on_disconnected()
    coordinator.client.state = dataclasses.replace(
        coordinator.data, relays=_relays(True), timestamp=at(6)
    )
    await coordinator._async_on_connected()
    push(coordinator, relays=_relays(True), timestamp=at(6.25))
    await hass.async_block_till_done()
    assert hass.states.get(RUN_TOTAL).state == "1.75"  # type: ignore[union-attr]


async def test_run_time_survives_a_restart(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    today = dt_util.now().date().isoformat()
    mock_restore_cache_with_extra_data(
        hass,
        [
            (State(RUN_TOTAL, "100.0"), {"seconds": 360000.0, "day": today}),
            (State(RUN_TODAY, "2.0"), {"seconds": 7200.0, "day": today}),
            (
                State("sensor.beerpi_cooler_run_time_today", "5.0"),
                {"seconds": 18000.0, "day": "2020-01-01"},
            ),
            (
                State("sensor.beerpi_cooler_run_time", "5.0"),
                {"seconds": 18000.0, "day": "not a day"},
            ),
        ],
    )
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(RUN_TOTAL).state == "100.0"  # type: ignore[union-attr]
    assert hass.states.get(RUN_TODAY).state == "2.0"  # type: ignore[union-attr]
    # Yesterday's (or older) count is not today's.
    assert hass.states.get("sensor.beerpi_cooler_run_time_today").state == "0.0"  # type: ignore[union-attr]
    assert hass.states.get("sensor.beerpi_cooler_run_time").state == "5.0"  # type: ignore[union-attr]
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


@pytest.fixture
def fast_daemon(daemon: Daemon) -> Daemon:
    """The conftest's daemon on a clock 600 times faster than real time (a second = 10 min)."""
    daemon.stop()
    daemon.extra_args = ("--sim-speed", "600")
    daemon.start()
    return daemon


async def test_run_time_of_a_real_relay(
    hass: HomeAssistant,
    fast_daemon: Daemon,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
) -> None:
    """The daemon's own clock: a heater switched on by hand for a while of simulated time."""
    await daemon_client.set_relay("heater", True)
    await wait_for_state(hass, RUN_TOTAL, lambda s: float(s.state) >= 0.5)
    await daemon_client.set_relay("heater", False)
    await wait_for_state(hass, "binary_sensor.beerpi_heater", state_is(STATE_OFF))
    stopped = float(hass.states.get(RUN_TOTAL).state)  # type: ignore[union-attr]
    # An hour of the daemon's time with the heater off adds nothing.
    coordinator = init_integration.runtime_data

    def daemon_now() -> datetime:
        moment = dt_util.parse_datetime(coordinator.data.timestamp or "")
        assert moment is not None
        return moment

    later = daemon_now() + timedelta(hours=1)
    await wait_until(lambda: daemon_now() > later)
    assert float(hass.states.get(RUN_TOTAL).state) == stopped  # type: ignore[union-attr]
    assert hass.states.get("sensor.beerpi_cooler_run_time").state == "0.0"  # type: ignore[union-attr]


async def test_thermostat_mode_off_target_unknown(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    coordinator = await detach(init_integration)
    thermostat = dataclasses.replace(
        coordinator.data.thermostat, mode=ThermostatMode.COOL, target=4.0412
    )
    push(coordinator, thermostat=thermostat)
    await hass.async_block_till_done()
    # To a hundredth (a whole °F is a hundredth of a °C away from a tenth).
    assert hass.states.get("sensor.beerpi_target_temperature").state == "4.04"  # type: ignore[union-attr]
