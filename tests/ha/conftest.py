"""Fixtures: a real simulated daemon, config entries, and the integration set up on it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncGenerator, Callable, Generator
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, PropertyMock, patch

import pytest
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry

# Imported at import time, so that Home Assistant finds this custom_components
# package rather than the harness's own (see DESIGN.md).
import custom_components.beerpi
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.coordinator import BeerPiCoordinator
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.models import State as ProtocolState

from .daemon import Daemon

assert custom_components.beerpi


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Every test may load custom integrations."""


@pytest.fixture(autouse=True)
def fast_reconnect() -> Generator[None]:
    """Reconnect within a fraction of a second instead of the production backoff."""
    with (
        patch("custom_components.beerpi.coordinator.RECONNECT_MIN_DELAY_S", 0.05),
        patch("custom_components.beerpi.coordinator.RECONNECT_MAX_DELAY_S", 0.3),
    ):
        yield


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Entities disabled by default (the manual relay switches, fault details) are created."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


# The daemon's id (its data dir keeps it); entries of it carry it as their unique id.
DEVICE_ID = "beerpi-test-0001"


@pytest.fixture
def daemon(tmp_path: Path, socket_enabled: None) -> Generator[Daemon]:
    """A simulated daemon on a free loopback port, stopped after the test."""
    process = Daemon(tmp_path / "daemon")
    process.data_dir.mkdir(parents=True)
    (process.data_dir / "device.json").write_text(json.dumps({"id": DEVICE_ID}))
    process.start()
    yield process
    process.stop()


@pytest.fixture
def mock_config_entry(daemon: Daemon) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="BeerPi",
        unique_id=DEVICE_ID,
        data={CONF_HOST: daemon.host, CONF_PORT: daemon.port, CONF_TOKEN: daemon.token},
    )


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Config-flow tests create entries without setting them up."""
    with patch("custom_components.beerpi.async_setup_entry", return_value=True) as setup_entry:
        yield setup_entry


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """The integration set up on the daemon; unloaded (link closed) after the test."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    yield mock_config_entry
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def daemon_client(daemon: Daemon) -> AsyncGenerator[BeerPiClient]:
    """A second client of the daemon, to act on the simulation like a person would."""
    client = BeerPiClient(daemon.host, daemon.port, daemon.token)
    await client.connect()
    yield client
    await client.disconnect()


async def wait_for_state(
    hass: HomeAssistant,
    entity_id: str,
    predicate: Callable[[State], bool],
    timeout_s: float = 15.0,
) -> State:
    """Wait until the entity's state satisfies ``predicate`` (pushes are asynchronous)."""
    current = hass.states.get(entity_id)
    if current is not None and predicate(current):
        return current
    future: asyncio.Future[State] = hass.loop.create_future()

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is not None and predicate(state) and not future.done():
            future.set_result(state)

    unsub = async_track_state_change_event(hass, [entity_id], changed)
    try:
        async with asyncio.timeout(timeout_s):
            return await future
    finally:
        unsub()


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 15.0) -> None:
    """Poll for what no event announces (e.g. a flow started by a background task)."""
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110 - no event to wait on
            await asyncio.sleep(0.05)


async def set_profile(
    hass: HomeAssistant, entry: MockConfigEntry, steps: list[dict[str, Any]], **fields: Any
) -> None:
    """The set_profile action on ``entry``, as an automation calls it (name, mode: ``fields``)."""
    data = {"config_entry_id": entry.entry_id, **fields, "steps": steps}
    await hass.services.async_call(DOMAIN, "set_profile", data, blocking=True)


def state_is(value: str) -> Callable[[State], bool]:
    return lambda state: state.state == value


def attribute_is(name: str, value: Any) -> Callable[[State], bool]:
    return lambda state: state.attributes.get(name) == value


def has_number(state: State) -> bool:
    try:
        float(state.state)
    except ValueError:
        return False
    return True


async def detach(entry: MockConfigEntry) -> BeerPiCoordinator:
    """Stop the daemon's pushes reaching the entry (the link stays "up"): tests then
    push their own snapshots with ``push`` and nothing else moves the entities."""
    coordinator: BeerPiCoordinator = entry.runtime_data
    await coordinator._reconnect.stop()
    return coordinator


def push(coordinator: BeerPiCoordinator, **changes: Any) -> ProtocolState:
    """A daemon ``state`` push: the coordinator's snapshot with ``changes``."""
    state = dataclasses.replace(coordinator.data, **changes)
    coordinator._on_state(state)
    return state
