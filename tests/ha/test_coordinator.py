"""Link life cycle: auth failures, reauth, protocol versions, late probes, diagnostics."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_TOKEN, STATE_OFF, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.beerpi
from custom_components.beerpi.const import CONF_UNAVAILABLE_AFTER, DOMAIN
from custom_components.beerpi.coordinator import async_create_wrong_device_issue
from custom_components.beerpi.diagnostics import async_get_config_entry_diagnostics
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.errors import (
    BeerPiProtocolVersionError,
    BeerPiWrongDeviceError,
)
from custom_components.beerpi.protocol.models import FaultInfo, ProbeState

from .conftest import state_is, wait_for_state, wait_until
from .daemon import Daemon

CLIMATE = "climate.beerpi_thermostat"

assert custom_components.beerpi


def _reauth_flows(hass: HomeAssistant) -> list[object]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"].get("source") == SOURCE_REAUTH
    ]


async def test_wrong_token_starts_reauth(
    hass: HomeAssistant, daemon: Daemon, mock_config_entry: MockConfigEntry
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={**mock_config_entry.data, CONF_TOKEN: "wrong"})
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(_reauth_flows(hass)) == 1


async def test_unreachable_daemon_is_not_ready(
    hass: HomeAssistant, daemon: Daemon, mock_config_entry: MockConfigEntry
) -> None:
    daemon.stop()
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_other_major_protocol_fails_setup(
    hass: HomeAssistant, daemon: Daemon, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    with patch(
        "custom_components.beerpi.BeerPiClient.connect",
        side_effect=BeerPiProtocolVersionError("3.0", "2.0"),
    ):
        assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR


async def test_token_changed_while_running_starts_reauth(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon: Daemon
) -> None:
    await hass.async_add_executor_job(daemon.stop)
    await wait_for_state(hass, "binary_sensor.beerpi_link", state_is(STATE_OFF))
    await hass.async_add_executor_job(daemon.start, secrets.token_hex(16))
    await wait_until(lambda: bool(_reauth_flows(hass)))
    assert len(_reauth_flows(hass)) == 1
    link = hass.states.get("binary_sensor.beerpi_link")
    assert link is not None
    assert link.state == STATE_OFF
    assert link.attributes["reason"] == "auth_failed"
    # Protocol 2: the daemon, holding another token, cannot prove ours. Said as a brewer
    # reads it, with where to look (before: "the peer could not prove it knows the token").
    assert link.attributes["detail"] == (
        "the BeerPi refused the token (it holds another one, or it is not a BeerPi): "
        "check the token against the Pi's token file"
    )


async def test_newer_protocol_minor_raises_repair_issue(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    coordinator = init_integration.runtime_data
    issue_id = f"protocol_newer_{init_integration.entry_id}"
    registry = ir.async_get(hass)
    assert registry.async_get_issue(DOMAIN, issue_id) is None
    coordinator.device = dataclasses.replace(coordinator.device, protocol_version="2.7")
    coordinator._async_check_protocol()
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "name": "BeerPi",
        "daemon_version": "2.7",
        "our_version": "2.2",
    }
    coordinator.device = dataclasses.replace(coordinator.device, protocol_version="2.0")
    coordinator._async_check_protocol()
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_late_probe_adds_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    coordinator = init_integration.runtime_data
    state = coordinator.data
    probes = {**state.probes, "spare": ProbeState(temperature=12.5)}
    coordinator.async_set_updated_data(dataclasses.replace(state, probes=probes))
    await hass.async_block_till_done()
    assert hass.states.get("sensor.beerpi_spare_temperature").state == "12.5"  # type: ignore[union-attr]
    # Its fault sensor too (a detail of "Problem", disabled until the user wants it).
    fault = er.async_get(hass).async_get("binary_sensor.beerpi_spare_probe_fault")
    assert fault is not None
    assert fault.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_diagnostics_redact_token(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    assert diagnostics["entry"]["data"][CONF_TOKEN] == "**REDACTED**"
    assert init_integration.data[CONF_TOKEN] not in str(diagnostics)
    assert diagnostics["connected"] is True
    assert diagnostics["device"]["id"] == init_integration.runtime_data.device_id
    assert set(diagnostics["state"]["probes"]) == {"beer", "fridge"}


async def test_removing_the_entry_removes_its_repair_issues(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    init_integration = mock_config_entry
    coordinator = init_integration.runtime_data
    coordinator.device = dataclasses.replace(coordinator.device, protocol_version="1.7")
    coordinator._async_check_protocol()
    coordinator._async_raise_incompatible("2.0")
    # All four the guide names: newer minor, incompatible major, another BeerPi, storage.
    async_create_wrong_device_issue(
        hass, init_integration, BeerPiWrongDeviceError(coordinator.device_id, "other")
    )
    storage = FaultInfo.from_dict({"source": "storage", "code": "storage", "message": "full"})
    coordinator._async_sync_storage_issue(dataclasses.replace(coordinator.data, faults=(storage,)))
    registry = ir.async_get(hass)
    issues = [
        f"protocol_newer_{init_integration.entry_id}",
        f"protocol_incompatible_{init_integration.entry_id}",
        f"wrong_device_{init_integration.entry_id}",
        f"storage_{init_integration.entry_id}",
    ]
    assert all(registry.async_get_issue(DOMAIN, issue) is not None for issue in issues)
    assert await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert [issue for issue in issues if registry.async_get_issue(DOMAIN, issue)] == []


async def test_a_daemon_whose_configuration_changed_gets_its_entities_rebuilt(
    hass: HomeAssistant, daemon: Daemon, mock_config_entry: MockConfigEntry, tmp_path: Path
) -> None:
    """A camera added and a wider target range on the Pi show without reloading by hand
    (the climate kept refusing a target the daemon allowed)."""
    config = tmp_path / "daemon.toml"
    config.write_text("[camera]\nenabled = false\n[thermostat]\nmax_target = 25\n")
    daemon.stop()
    daemon.extra_args = ("--config", str(config))
    daemon.start()
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("camera.beerpi_camera") is None
    await wait_for_state(hass, CLIMATE, lambda s: s.attributes.get("max_temp") == 25)
    config.write_text("[camera]\nenabled = true\n[thermostat]\nmax_target = 30\n")
    daemon.stop()
    daemon.start()
    await wait_for_state(hass, CLIMATE, lambda s: s.attributes.get("max_temp") == 30, 30)
    await wait_until(lambda: hass.states.get("camera.beerpi_camera") is not None)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_a_fault_raised_during_an_outage_fires_its_event_once_the_link_is_up(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """Not on an unavailable event entity, where automations that skip changes from
    "unavailable" would miss it."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_UNAVAILABLE_AFTER: 0})
    with (
        patch("custom_components.beerpi.coordinator.RECONNECT_MIN_DELAY_S", 2.0),
        patch("custom_components.beerpi.coordinator.RECONNECT_MAX_DELAY_S", 2.0),
    ):
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        coordinator = mock_config_entry.runtime_data
        changes: list[tuple[str, object]] = []

        @callback
        def record(event: Event[EventStateChangedData]) -> None:
            new = event.data["new_state"]
            if new is not None:
                changes.append((new.state, new.attributes.get("event_type")))

        async_track_state_change_event(hass, ["event.beerpi_fault"], record)
        await coordinator.client._sio.disconnect()
        await wait_until(lambda: not coordinator.link_up)
        await wait_for_state(hass, "event.beerpi_fault", state_is(STATE_UNAVAILABLE))
        await daemon_client.simulate(probe="fridge", fault="disconnected")
        await wait_until(lambda: any(kind == "fault_raised" for _, kind in changes))
        await hass.async_block_till_done()
        raised = next(i for i, (_, kind) in enumerate(changes) if kind == "fault_raised")
        # The entity was available again before the event: not unavailable -> fault_raised.
        assert changes[raised - 1][0] != STATE_UNAVAILABLE, changes
        await daemon_client.simulate(probe="fridge", clear=True)
        await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_the_daemon_pushes_and_home_assistant_never_polls(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """README: "It pushes, never polls": no refresh is scheduled, and the values move
    with the daemon's pushes while nothing asks it for a state."""
    coordinator = init_integration.runtime_data
    assert coordinator.update_interval is None
    with patch.object(
        BeerPiClient, "get_state", autospec=True, side_effect=BeerPiClient.get_state
    ) as get_state:
        for _ in range(3):  # a probe read every 0.2 s, each pushed
            before = coordinator.data.timestamp
            await wait_until(lambda: coordinator.data.timestamp != before)  # noqa: B023
    assert get_state.call_count == 0
