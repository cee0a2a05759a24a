"""The link to the daemon: grace period, connectivity sensor, logging, wake-up, registry,
an incompatible daemon at run time, and ``homeassistant.update_entity``."""

from __future__ import annotations

import logging
from collections.abc import Generator
from datetime import timedelta
from ipaddress import ip_address
from pathlib import Path
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_ZEROCONF
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

import custom_components.beerpi
from custom_components.beerpi.const import CONF_UNAVAILABLE_AFTER, DOMAIN, PROTOCOL_RETRY_S
from custom_components.beerpi.coordinator import LinkStatus
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.errors import (
    BeerPiConnectionError,
    BeerPiProtocolVersionError,
)
from custom_components.beerpi.protocol.reconnect import LinkState

from .conftest import attribute_is, has_number, state_is, wait_for_state, wait_until
from .daemon import Daemon

assert custom_components.beerpi

LINK = "binary_sensor.beerpi_link"
BEER = "sensor.beerpi_beer_temperature"
# Loggers of the integration and of its vendored client (the link's own messages).
OUR_LOGGERS = ("custom_components.beerpi",)


def _our_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(OUR_LOGGERS) and r.levelno >= level]


async def test_outage_keeps_values_then_unavailable(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon: Daemon,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Like ESPHome: a reboot of the Pi does not blank the dashboards for a minute; the
    link sensor says at once that the daemon is gone, and why."""
    beer = await wait_for_state(hass, BEER, has_number)
    link = hass.states.get(LINK)
    assert link is not None
    assert link.state == STATE_ON
    assert link.attributes["device_class"] == "connectivity"
    assert link.attributes["reason"] == "connected"
    caplog.clear()

    await hass.async_add_executor_job(daemon.stop)
    link = await wait_for_state(hass, LINK, state_is(STATE_OFF))
    assert link.attributes["reason"] in ("lost", "unreachable")
    await wait_for_state(hass, LINK, attribute_is("reason", "unreachable"))
    link = hass.states.get(LINK)
    assert link is not None
    assert "cannot connect" in link.attributes["detail"]
    # Within the grace period: the last values stay.
    assert hass.states.get(BEER).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert hass.states.get("climate.beerpi_thermostat").state == "off"  # type: ignore[union-attr]

    # The default grace is a minute (README): still there just before it ends...
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=50))
    await hass.async_block_till_done()
    assert hass.states.get(BEER).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    # ...and gone once it has.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await wait_for_state(hass, BEER, state_is(STATE_UNAVAILABLE))
    assert hass.states.get("climate.beerpi_thermostat").state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert hass.states.get(LINK).state == STATE_OFF  # type: ignore[union-attr]  # still there

    await hass.async_add_executor_job(daemon.start)
    await wait_for_state(hass, LINK, state_is(STATE_ON))
    await wait_for_state(hass, BEER, has_number)
    assert float(beer.state) > 0
    # One line when the link went, one when it came back, at info level; nothing louder.
    lines = [r.getMessage() for r in _our_records(caplog, logging.INFO)]
    assert len(lines) == 2, lines
    assert "lost" in lines[0]
    assert "restored" in lines[1]


async def test_grace_period_is_an_option(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon: Daemon
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    # The guide's Options: 60 s unless changed, at most an hour.
    schema = result["data_schema"]
    assert schema is not None
    [field] = [k for k in schema.schema if k == CONF_UNAVAILABLE_AFTER]
    assert field.default() == 60
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_UNAVAILABLE_AFTER: 3601}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_UNAVAILABLE_AFTER: 0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options == {CONF_UNAVAILABLE_AFTER: 0}
    await hass.async_add_executor_job(daemon.stop)
    # No grace: unavailable with the drop.
    await wait_for_state(hass, BEER, state_is(STATE_UNAVAILABLE))
    await hass.async_add_executor_job(daemon.start)
    await wait_for_state(hass, BEER, has_number)


@pytest.fixture
def slow_reconnect() -> Generator[None]:
    """The production backoff (the conftest's is a fraction of a second)."""
    with (
        patch("custom_components.beerpi.coordinator.RECONNECT_MIN_DELAY_S", 30.0),
        patch("custom_components.beerpi.coordinator.RECONNECT_MAX_DELAY_S", 60.0),
    ):
        yield


def _zeroconf(daemon: Daemon, device_id: str) -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address(daemon.host),
        ip_addresses=[ip_address(daemon.host)],
        hostname="beerpi.local.",
        name="BeerPi._beerpi._tcp.local.",
        port=daemon.port,
        type="_beerpi._tcp.local.",
        properties={"id": device_id},
    )


@pytest.mark.usefixtures("slow_reconnect")
async def test_zeroconf_sighting_wakes_the_reconnect(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon: Daemon
) -> None:
    """The Pi rebooted: it advertises itself again; no need to wait out the backoff."""
    coordinator = init_integration.runtime_data
    await hass.async_add_executor_job(daemon.stop)
    await wait_for_state(hass, LINK, state_is(STATE_OFF))
    assert coordinator._reconnect.state is LinkState.WAITING  # 24-30 s until the next try
    await hass.async_add_executor_job(daemon.start)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_ZEROCONF},
        data=_zeroconf(daemon, coordinator.device_id),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await wait_for_state(hass, LINK, state_is(STATE_ON), timeout_s=10)


async def test_device_registry_follows_the_daemon(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon: Daemon, tmp_path: Path
) -> None:
    """Renamed (or updated) while Home Assistant runs: the device page shows it."""
    registry = dr.async_get(hass)
    [device] = dr.async_entries_for_config_entry(registry, init_integration.entry_id)
    assert device.name == "BeerPi"
    config = tmp_path / "renamed.toml"
    config.write_text('[device]\nname = "Cellar fermenter"\n')
    await hass.async_add_executor_job(daemon.stop)
    await wait_for_state(hass, LINK, state_is(STATE_OFF))
    daemon.extra_args = ("--config", str(config))
    await hass.async_add_executor_job(daemon.start)
    await wait_for_state(hass, LINK, state_is(STATE_ON))
    updated = registry.async_get(device.id)
    assert updated is not None
    assert updated.name == "Cellar fermenter"
    assert dr.async_entries_for_config_entry(registry, init_integration.entry_id) == [updated]


async def test_incompatible_daemon_at_run_time(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon: Daemon,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The daemon was updated to protocol 2 while Home Assistant ran: a repair issue says
    what to do, the link stops retrying, and it recovers once the versions match."""
    coordinator = init_integration.runtime_data
    issue_id = f"protocol_incompatible_{init_integration.entry_id}"
    registry = ir.async_get(hass)
    real_connect = coordinator.client.connect
    await hass.async_add_executor_job(daemon.stop)
    await wait_for_state(hass, LINK, state_is(STATE_OFF))
    with patch.object(
        coordinator.client, "connect", side_effect=BeerPiProtocolVersionError("3.0", "2.0")
    ) as connect:
        await hass.async_add_executor_job(daemon.start)
        await wait_for_state(hass, LINK, attribute_is("reason", "incompatible"))
        issue = registry.async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.severity is ir.IssueSeverity.ERROR
        assert issue.translation_placeholders == {
            "name": "BeerPi",
            "daemon_version": "3.0",
            "our_version": "2.2",
        }
        assert coordinator._reconnect.state is LinkState.STOPPED
        tries = connect.call_count
        # Not retried with the backoff: an hour later, once.
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=PROTOCOL_RETRY_S / 2))
        await hass.async_block_till_done()
        assert connect.call_count == tries
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=PROTOCOL_RETRY_S + 1))
        await wait_until(lambda: connect.call_count == tries + 1)
        await wait_until(lambda: coordinator._reconnect.state is LinkState.STOPPED)
    assert coordinator.link_status is LinkStatus.INCOMPATIBLE
    warnings = [r.getMessage() for r in _our_records(caplog, logging.WARNING)]
    assert len(warnings) == 1, warnings  # once, not at every hourly retry nor backoff step
    # The daemon is back on a version we speak; it advertises itself again.
    assert coordinator.client.connect == real_connect
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon, coordinator.device_id)
    )
    assert result["reason"] == "already_configured"
    await wait_for_state(hass, LINK, state_is(STATE_ON))
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_update_entity_asks_the_daemon(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon: Daemon,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``homeassistant.update_entity`` fetches a fresh snapshot (get_state)."""
    assert await async_setup_component(hass, "homeassistant", {})
    coordinator = init_integration.runtime_data
    with patch.object(
        BeerPiClient, "get_state", autospec=True, side_effect=BeerPiClient.get_state
    ) as get_state:
        await hass.services.async_call(
            "homeassistant", "update_entity", {ATTR_ENTITY_ID: BEER}, blocking=True
        )
    assert get_state.call_count == 1
    assert coordinator.last_update_success
    assert not _our_records(caplog, logging.WARNING)
    assert "Unexpected error" not in caplog.text

    # A request that fails says why.
    with patch.object(
        BeerPiClient, "get_state", side_effect=BeerPiConnectionError("no answer within 10 s")
    ):
        await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert "did not answer: no answer within 10 s" in caplog.text

    # Without a link there is nothing to fetch: said once, entities untouched.
    await hass.async_add_executor_job(daemon.stop)
    await wait_for_state(hass, LINK, state_is(STATE_OFF))
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert isinstance(coordinator.last_exception, UpdateFailed)
    assert coordinator.last_exception.translation_key == "not_connected"
    assert hass.states.get(BEER).state != STATE_UNAVAILABLE  # type: ignore[union-attr]


async def test_unload_while_waiting_for_a_compatible_daemon(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The hourly retry does not outlive the entry (the harness fails lingering timers)."""
    coordinator = init_integration.runtime_data
    await coordinator._async_on_fatal(BeerPiProtocolVersionError("3.0", "2.0"))
    assert coordinator._retry_unsub is not None
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert coordinator._retry_unsub is None


async def test_reloading_once_the_versions_match_clears_the_incompatible_issue(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The repair says reloading the entry tries again: once that connects, the issue goes
    (docs/home-assistant.md, Repairs: "the issue goes away when they connect")."""
    coordinator = init_integration.runtime_data
    issue_id = f"protocol_incompatible_{init_integration.entry_id}"
    registry = ir.async_get(hass)
    await coordinator._async_on_fatal(BeerPiProtocolVersionError("3.0", "2.0"))
    assert registry.async_get_issue(DOMAIN, issue_id) is not None
    # The user updated one side and reloads the entry: it connects.
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    await wait_for_state(hass, LINK, state_is(STATE_ON))
    assert registry.async_get_issue(DOMAIN, issue_id) is None
