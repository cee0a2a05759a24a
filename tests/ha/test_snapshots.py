"""Snapshots of every platform's entities (registry entries and states), one platform at a time.

The daemon is real, so what moves is masked before comparing: probe temperatures and
the simulated Tilt's gravity (a simulated fermenter with sensor noise) and the camera's
rotating access token. Review
changes to snapshots/test_snapshots.ambr like code (``--snapshot-update`` rewrites it).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Generator
from importlib.metadata import version
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.beerpi.const import DOMAIN, PLATFORMS

from .conftest import has_number, wait_until
from .daemon import Daemon

# syrupy's file format and Home Assistant's serialisation of registry entries differ
# between the harness releases: the snapshots are of current Home Assistant only.
pytestmark = pytest.mark.skipif(
    int(version("syrupy").split(".")[0]) < 6,
    reason="snapshots are recorded on current Home Assistant's harness (syrupy 6); "
    "2025.4.4's has syrupy 4 and serialises registry entries differently",
)

DEVICE_ID = "beerpi-snapshot"
MASKED = "<masked>"
# The link sensor's "since" is a time; the climate's reason quotes live temperatures.
VOLATILE_ATTRIBUTES = ("current_temperature", "access_token", "entity_picture", "since")
VOLATILE_CLIMATE_ATTRIBUTES = ("reason",)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's serialiser (ids and times as ANY); syrupy's own fixture wins otherwise."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def daemon(tmp_path: Path, socket_enabled: None) -> Generator[Daemon]:
    """The conftest's daemon, with a fixed device id so unique ids are stable."""
    process = Daemon(tmp_path / "daemon")
    process.data_dir.mkdir(parents=True)
    (process.data_dir / "device.json").write_text(json.dumps({"id": DEVICE_ID}))
    process.start()
    yield process
    process.stop()


@pytest.fixture
async def platform_entry(
    hass: HomeAssistant, daemon: Daemon, request: pytest.FixtureRequest
) -> AsyncGenerator[MockConfigEntry]:
    platform: Platform = request.param
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="BeerPi",
        unique_id=DEVICE_ID,
        data={CONF_HOST: daemon.host, CONF_PORT: daemon.port, CONF_TOKEN: daemon.token},
    )
    entry.add_to_hass(hass)
    with patch("custom_components.beerpi.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        # Until every probe has a reading: the first ones may still be on their way.
        coordinator = entry.runtime_data
        await wait_until(
            lambda: all(p.temperature is not None for p in coordinator.data.probes.values())
        )
        await hass.async_block_till_done()
        yield entry
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


def masked(state: State) -> State:
    attributes: dict[str, Any] = dict(state.attributes)
    volatile: tuple[str, ...] = VOLATILE_ATTRIBUTES
    if state.domain == "climate":
        volatile += VOLATILE_CLIMATE_ATTRIBUTES
    for key in volatile:
        if attributes.get(key) is not None:
            attributes[key] = MASKED
    value = state.state
    moving = attributes.get("device_class") == "temperature" or state.entity_id.endswith("_gravity")
    if moving and has_number(state):
        value = MASKED
    return State(state.entity_id, value, attributes)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platform_entry", PLATFORMS, indirect=True)
async def test_platform_snapshot(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform_entry: MockConfigEntry,
) -> None:
    entries = er.async_entries_for_config_entry(entity_registry, platform_entry.entry_id)
    assert entries
    assert len({entry.domain for entry in entries}) == 1
    for entry in entries:
        assert entry == snapshot(name=f"{entry.entity_id}-entry")
        assert entry.disabled_by is None
        state = hass.states.get(entry.entity_id)
        assert state is not None
        assert masked(state) == snapshot(name=f"{entry.entity_id}-state")
