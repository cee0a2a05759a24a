"""The blueprints in blueprints/automation/beerpi/ load, and each does what it says."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components import automation
from homeassistant.components.persistent_notification import _async_get_or_create_notifications
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

import custom_components.beerpi
from custom_components.beerpi.device_trigger import CODES
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.const import ThermostatMode
from custom_components.beerpi.protocol.models import ProbeState, ProfileProgress, ProfileStep

from .conftest import detach, push, state_is, wait_for_state, wait_until
from .daemon import ROOT, Daemon

assert custom_components.beerpi

BLUEPRINTS = ROOT / "blueprints" / "automation" / "beerpi"
LINK = "binary_sensor.beerpi_link"


@pytest.fixture
def blueprint_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config dir holding the repository's blueprints, as a user would copy them."""
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / "beerpi"
    shutil.copytree(BLUEPRINTS, target)
    return target


def notifications(hass: HomeAssistant) -> list[dict[str, Any]]:
    return [dict(n) for n in _async_get_or_create_notifications(hass).values()]


def use(blueprint: str, **inputs: Any) -> dict[str, Any]:
    return {"use_blueprint": {"path": f"beerpi/{blueprint}", "input": inputs}}


async def setup_automations(hass: HomeAssistant, *configs: dict[str, Any]) -> None:
    assert await async_setup_component(hass, "persistent_notification", {})
    assert await async_setup_component(hass, automation.DOMAIN, {automation.DOMAIN: list(configs)})
    await hass.async_block_till_done()
    for state in hass.states.async_all(automation.DOMAIN):
        assert state.state == "on", state


def test_every_blueprint_is_tested() -> None:
    assert sorted(p.name for p in BLUEPRINTS.glob("*.yaml")) == [
        "forward_gravity.yaml",  # in test_gravity_action.py
        "link_lost.yaml",
        "notify_on_fault.yaml",
        "profile_finished.yaml",
        "temperature_alarm.yaml",
    ]


def test_the_fault_blueprint_offers_every_fault_code() -> None:
    """Its code picker lists what the device trigger takes (docs: "only some codes"): a
    code added to the integration and not here could not be picked."""
    data = load_yaml(BLUEPRINTS / "notify_on_fault.yaml")
    assert isinstance(data, dict)
    options = data["blueprint"]["input"]["codes"]["selector"]["select"]["options"]
    assert sorted(options) == sorted(CODES)


async def test_notify_on_fault(
    hass: HomeAssistant,
    blueprint_dir: Path,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
) -> None:
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), init_integration.entry_id)
    await setup_automations(
        hass,
        use("notify_on_fault.yaml", beerpi=device.id),
        use("notify_on_fault.yaml", beerpi=device.id, codes=["no_effect"]),
    )
    await daemon_client.simulate(probe="fridge", fault="disconnected")
    await wait_until(lambda: bool(notifications(hass)))
    await daemon_client.simulate(probe="fridge", clear=True)
    await hass.async_block_till_done()
    [note] = notifications(hass)  # the second automation wants no_effect only
    assert note["title"] == "BeerPi fault"
    assert note["message"].startswith("fridge: disconnected (")


@pytest.fixture
async def link_lost(
    hass: HomeAssistant, blueprint_dir: Path, init_integration: MockConfigEntry
) -> None:
    """link_lost.yaml on the entry's Link sensor, with ten minutes' patience."""
    await setup_automations(hass, use("link_lost.yaml", link=LINK, duration={"minutes": 10}))


async def out_of_reach_after_ten_minutes(hass: HomeAssistant) -> dict[str, Any]:
    """Five minutes on, nothing yet; eleven minutes on, the one notification (returned)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))
    await hass.async_block_till_done()
    assert notifications(hass) == []  # not yet 10 minutes
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=11))
    await hass.async_block_till_done()
    [note] = notifications(hass)
    assert note["title"] == "BeerPi out of reach"
    return note


async def test_link_lost(hass: HomeAssistant, link_lost: None, daemon: Daemon) -> None:
    """The daemon stops: after the chosen time, one notification saying why and since when."""
    await hass.async_add_executor_job(daemon.stop)
    await wait_for_state(hass, LINK, state_is("off"))
    went_off = hass.states.get(LINK)
    assert went_off is not None
    note = await out_of_reach_after_ten_minutes(hass)
    assert f"off since {went_off.attributes['since']}" in note["message"]
    # A retry that fails another way keeps the time the link went down.
    link = hass.states.get(LINK)
    assert link is not None
    assert link.attributes["since"] == went_off.attributes["since"]
    await hass.async_add_executor_job(daemon.start)  # back, for the entry's unload
    await wait_for_state(hass, LINK, state_is("on"), 30)
    # The unload at the test's end makes the Link unavailable, which the automation
    # would time (test_link_lost_when_the_entry_is_not_loaded): off first.
    await hass.services.async_call(
        automation.DOMAIN, "turn_off", {"entity_id": "all"}, blocking=True
    )


async def test_link_lost_when_the_entry_is_not_loaded(
    hass: HomeAssistant, link_lost: None, init_integration: MockConfigEntry
) -> None:
    """Another BeerPi at the address (or a reload that cannot reach the Pi) unloads the
    entry: the Link sensor is then unavailable, never "off", and the Pi is out of reach all
    the same."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    await wait_for_state(hass, LINK, state_is("unavailable"))
    note = await out_of_reach_after_ten_minutes(hass)
    assert "unavailable since" in note["message"]
    assert "not loaded" in note["message"]


async def start_home_assistant_with_the_pi_away(
    hass: HomeAssistant, entry: MockConfigEntry, daemon: Daemon
) -> None:
    """Home Assistant restarts during a power cut at the Pi: the entry (set up on an
    earlier run, so its entities are registered) cannot connect at the start, and the
    Link sensor is unavailable before any automation is armed."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)  # an earlier run
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)  # Home Assistant stops
    await hass.async_add_executor_job(daemon.stop)  # the Pi loses power
    hass.set_state(CoreState.not_running)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    await setup_automations(
        hass, use("link_lost.yaml", link="binary_sensor.beerpi_link", duration={"minutes": 10})
    )
    # Not async_block_till_done from here on until the run ends: it would wait for the
    # automation's run, which waits (in loop time) for the Link or the chosen time.
    await hass.async_start()
    assert hass.states.is_state("binary_sensor.beerpi_link", "unavailable")


async def test_link_lost_when_home_assistant_starts_with_the_pi_away(
    hass: HomeAssistant, blueprint_dir: Path, mock_config_entry: MockConfigEntry, daemon: Daemon
) -> None:
    """The state trigger never sees the Link change (it was unavailable before the
    automation was armed): the start itself counts, and after the chosen time the
    notification comes, once."""
    await start_home_assistant_with_the_pi_away(hass, mock_config_entry, daemon)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))
    await asyncio.sleep(0.1)
    assert notifications(hass) == []  # not yet 10 minutes
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=11))
    await hass.async_block_till_done()
    [note] = notifications(hass)
    assert note["title"] == "BeerPi out of reach"
    assert "unavailable since" in note["message"]
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=30))
    await hass.async_block_till_done()
    assert len(notifications(hass)) == 1


async def test_link_back_soon_after_home_assistant_starts(
    hass: HomeAssistant, blueprint_dir: Path, mock_config_entry: MockConfigEntry, daemon: Daemon
) -> None:
    """The Pi comes back within the chosen time after the start: nothing to tell."""
    await start_home_assistant_with_the_pi_away(hass, mock_config_entry, daemon)
    await hass.async_add_executor_job(daemon.start)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))  # the retry
    await wait_for_state(hass, "binary_sensor.beerpi_link", state_is("on"), 30)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=11))
    await hass.async_block_till_done()
    assert notifications(hass) == []
    # Off before the unload, whose unavailable Link the automation would time.
    await hass.services.async_call(
        automation.DOMAIN, "turn_off", {"entity_id": "all"}, blocking=True
    )
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()


async def test_temperature_alarm(
    hass: HomeAssistant, blueprint_dir: Path, init_integration: MockConfigEntry
) -> None:
    coordinator = await detach(init_integration)
    await setup_automations(
        hass,
        use(
            "temperature_alarm.yaml",
            beer="sensor.beerpi_beer_temperature",
            target="sensor.beerpi_target_temperature",
            margin=1.5,
            duration={"minutes": 30},
        ),
    )
    thermostat = dataclasses.replace(
        coordinator.data.thermostat, mode=ThermostatMode.HEAT_COOL, target=18.0
    )
    probes = {**coordinator.data.probes, "beer": ProbeState(temperature=20.5)}
    push(coordinator, thermostat=thermostat, probes=probes)
    await hass.async_block_till_done()
    assert notifications(hass) == []  # not yet 30 minutes
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=31))
    await hass.async_block_till_done()
    [note] = notifications(hass)
    assert note["message"] == "The beer is at 20.5 °C, the target is 18.0 °C."


async def test_profile_finished(
    hass: HomeAssistant, blueprint_dir: Path, init_integration: MockConfigEntry
) -> None:
    coordinator = await detach(init_integration)
    await setup_automations(
        hass, use("profile_finished.yaml", ends_at="sensor.beerpi_profile_ends_at")
    )
    now = dt_util.utcnow().replace(microsecond=0)
    started: datetime = now - timedelta(hours=47, minutes=59)
    profile = ProfileProgress(
        name="Ale",
        steps=(ProfileStep(kind="hold", target=18.0, hours=48.0),),
        started_at=started.isoformat(),
        step_time_left_s=60.0,
        total_time_left_s=60.0,
    )
    thermostat = dataclasses.replace(coordinator.data.thermostat, profile=profile)
    push(coordinator, thermostat=thermostat)
    await hass.async_block_till_done()
    assert notifications(hass) == []
    async_fire_time_changed(hass, now + timedelta(minutes=1, seconds=1))
    await hass.async_block_till_done()
    [note] = notifications(hass)
    assert note["title"] == "BeerPi: profile finished"
