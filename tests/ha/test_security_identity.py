"""The right device or nothing (issue 14 class 2, issue 19 "wrong device"), in Home Assistant.

- Token theft through discovery: a zeroconf advert with a configured device's id
  at an impostor's address moves nothing, and the impostor gets no token (nor
  anything that proves it): it records every byte the integration sends it.
- The real device at a new address proves itself with the stored token: the
  entry follows it.
- Another BeerPi (same token, another id) at the entry's address, at setup or
  on a reconnect: nothing is sent to it, a repair issue says so, and the entry
  stays unloaded until the user reconfigures it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from ipaddress import ip_address
from pathlib import Path

import pytest
from homeassistant.config_entries import (
    SOURCE_IGNORE,
    SOURCE_ZEROCONF,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.beerpi
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.protocol.client import BeerPiClient
from tests.support.impostor import Impostor

from .conftest import has_number, wait_for_state, wait_until
from .daemon import Daemon, free_port

assert custom_components.beerpi

# The daemon logs this only once a client has proved the token.
AUTHENTICATED = "client connected from"


async def _device_id(daemon: Daemon) -> str:
    client = BeerPiClient(daemon.host, daemon.port, daemon.token)
    device = await client.connect()
    await client.disconnect()
    return device.id


def _entry(daemon: Daemon, device_id: str) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="BeerPi",
        unique_id=device_id,
        data={CONF_HOST: daemon.host, CONF_PORT: daemon.port, CONF_TOKEN: daemon.token},
    )


def _zeroconf(port: int, device_id: str) -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address("127.0.0.1"),
        ip_addresses=[ip_address("127.0.0.1")],
        hostname="beerpi.local.",
        name="BeerPi._beerpi._tcp.local.",
        port=port,
        type="_beerpi._tcp.local.",
        properties={"id": device_id},
    )


@pytest.fixture
async def impostor(socket_enabled: None) -> AsyncGenerator[Impostor]:
    fake = Impostor(device_id="")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def other_daemon(tmp_path: Path, socket_enabled: None) -> Generator[Daemon]:
    """A second BeerPi with the same token and its own device id (not started)."""
    process = Daemon(tmp_path / "other")
    yield process
    process.stop()


def _proofs_received(daemon: Daemon) -> int:
    return daemon.log.read_text().count(AUTHENTICATED) if daemon.log.exists() else 0


async def _loaded(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def _impostor_announced(
    hass: HomeAssistant, daemon: Daemon, impostor: Impostor
) -> tuple[MockConfigEntry, ConfigFlowResult]:
    """The entry loaded on the real device, then the impostor announced with its id."""
    device_id = await _device_id(daemon)
    impostor.device_id = device_id
    entry = _entry(daemon, device_id)
    await _loaded(hass, entry)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(impostor.port, device_id)
    )
    await hass.async_block_till_done()
    return entry, result


async def test_rediscovery_by_an_impostor_moves_nothing_and_gets_no_token(
    hass: HomeAssistant, daemon: Daemon, impostor: Impostor
) -> None:
    entry, result = await _impostor_announced(hass, daemon, impostor)
    # Not moved, still loaded on the real device; the user is asked instead.
    assert (entry.data[CONF_HOST], entry.data[CONF_PORT]) == (daemon.host, daemon.port)
    assert entry.state is ConfigEntryState.LOADED
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_moved"
    # A user who types the token there moves nothing either: the impostor must prove it.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: daemon.token}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert entry.data[CONF_PORT] == daemon.port

    captured = "\n".join(impostor.captured)
    assert impostor.connect_auths(), "the integration never tried the advertised address"
    assert daemon.token not in captured
    assert not impostor.sent_anything_but_connect(), impostor.socketio_packets()
    for auth in impostor.connect_auths():
        assert set(auth) == {"protocol", "nonce"}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_move_asked_for_an_entry_removed_meanwhile_ends_the_flow(
    hass: HomeAssistant, daemon: Daemon, impostor: Impostor
) -> None:
    """The user removed the entry while the move was asked: nothing is left to move."""
    entry, result = await _impostor_announced(hass, daemon, impostor)
    assert result["step_id"] == "zeroconf_moved"
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: daemon.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert not hass.config_entries.async_entries(DOMAIN)
    assert daemon.token not in "\n".join(impostor.captured)


async def test_ignoring_the_move_question_keeps_the_working_entry(
    hass: HomeAssistant, daemon: Daemon, impostor: Impostor
) -> None:
    """The frontend's Ignore on the "moved?" card only dismisses it: Home Assistant's own
    ignore would store an ignored entry under the device id and remove the real one."""
    entry, result = await _impostor_announced(hass, daemon, impostor)
    assert result["step_id"] == "zeroconf_moved"
    ignored = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_IGNORE},
        data={"unique_id": entry.unique_id, "title": entry.title},
    )
    await hass.async_block_till_done()
    assert ignored["type"] is FlowResultType.ABORT
    assert hass.config_entries.async_entries(DOMAIN, include_ignore=True) == [entry]
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # card gone
    await wait_for_state(hass, "sensor.beerpi_beer_temperature", has_number)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_an_ignored_beerpi_announcing_itself_is_left_alone(
    hass: HomeAssistant, daemon: Daemon
) -> None:
    device_id = await _device_id(daemon)
    MockConfigEntry(domain=DOMAIN, unique_id=device_id, source=SOURCE_IGNORE, data={}).add_to_hass(
        hass
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon.port, device_id)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_an_unreachable_new_address_asks_nothing_and_a_later_sighting_moves_it(
    hass: HomeAssistant, daemon: Daemon
) -> None:
    """A first announcement before the daemon answers there (a network settling) must
    not leave a question open that blocks every later one."""
    device_id = await _device_id(daemon)
    entry = _entry(daemon, device_id)
    await _loaded(hass, entry)
    daemon.stop()
    daemon.port = free_port()
    early = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon.port, device_id)
    )
    assert early["type"] is FlowResultType.ABORT
    assert early["reason"] == "cannot_connect"
    daemon.start()
    later = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon.port, device_id)
    )
    assert later["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert entry.data[CONF_PORT] == daemon.port
    await wait_until(lambda: entry.state is ConfigEntryState.LOADED)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_sighting_at_its_address_retries_an_entry_waiting_to_set_up(
    hass: HomeAssistant, daemon: Daemon
) -> None:
    """Home Assistant started while the daemon was down: its announcement, once back,
    sets the entry up now rather than at the next retry (up to 10 minutes later)."""
    device_id = await _device_id(daemon)
    entry = _entry(daemon, device_id)
    daemon.stop()
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    daemon.start()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon.port, device_id)
    )
    assert result["reason"] == "already_configured"
    # Home Assistant's own first retry comes after about 5 s.
    await wait_until(lambda: entry.state is ConfigEntryState.LOADED, timeout_s=3.0)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_the_real_device_at_a_new_address_is_followed(
    hass: HomeAssistant, daemon: Daemon
) -> None:
    device_id = await _device_id(daemon)
    entry = _entry(daemon, device_id)
    await _loaded(hass, entry)
    # The Pi comes back elsewhere (a DHCP change): same data dir, same id, new port.
    daemon.stop()
    daemon.port = free_port()
    daemon.start()

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon.port, device_id)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert entry.data[CONF_PORT] == daemon.port
    await wait_until(lambda: entry.state is ConfigEntryState.LOADED)
    await wait_for_state(hass, "sensor.beerpi_beer_temperature", has_number)
    await hass.config_entries.async_unload(entry.entry_id)


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"wrong_device_{entry.entry_id}")


async def test_another_device_at_setup_gets_nothing_and_raises_a_repair(
    hass: HomeAssistant, daemon: Daemon, other_daemon: Daemon
) -> None:
    device_id = await _device_id(daemon)
    other_daemon.start()
    other_id = await _device_id(other_daemon)
    proofs_before = _proofs_received(other_daemon)
    # The entry is this device's, but the address now answers for the other one.
    entry = _entry(other_daemon, device_id)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    issue = _issue(hass, entry)
    assert issue is not None
    assert issue.translation_key == "wrong_device"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["expected"] == device_id
    assert issue.translation_placeholders["actual"] == other_id
    assert _proofs_received(other_daemon) == proofs_before  # it never got our proof
    assert hass.states.async_entity_ids("climate") == []

    # The user reconfigures to the right address: loaded, and the issue is gone.
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: daemon.host, CONF_PORT: daemon.port, CONF_TOKEN: daemon.token},
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    await wait_until(lambda: entry.state is ConfigEntryState.LOADED)
    assert _issue(hass, entry) is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_another_device_on_reconnect_gets_nothing_and_unloads(
    hass: HomeAssistant, daemon: Daemon, other_daemon: Daemon
) -> None:
    device_id = await _device_id(daemon)
    entry = _entry(daemon, device_id)
    await _loaded(hass, entry)
    # Another BeerPi with the same token takes the address (an SD-card swap).
    daemon.stop()
    other_daemon.port = daemon.port
    other_daemon.start(token=daemon.token)
    proofs_before = _proofs_received(other_daemon)

    await wait_until(lambda: entry.state is ConfigEntryState.SETUP_ERROR)
    await hass.async_block_till_done()
    issue = _issue(hass, entry)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["expected"] == device_id
    assert _proofs_received(other_daemon) == proofs_before
    # No entity of the entry drives anything now. The Link sensor too is unavailable, not
    # off with a reason: the entry is unloaded; the repair issue is what says why.
    assert all(
        state.state == "unavailable"
        for state in hass.states.async_all()
        if state.entity_id.startswith(("climate.beerpi", "switch.beerpi"))
    )
    link = hass.states.get("binary_sensor.beerpi_link")
    assert link is not None
    assert link.state == "unavailable"


async def test_a_reset_device_moves_only_when_the_new_token_proves_it(
    hass: HomeAssistant, daemon: Daemon
) -> None:
    """New address and new token (a re-installed Pi): the user is asked, and the token
    they give must prove the same device there."""
    device_id = await _device_id(daemon)
    entry = _entry(daemon, device_id)
    entry.add_to_hass(hass)
    daemon.stop()
    daemon.port = free_port()
    daemon.start(token="a-brand-new-token-0123")
    unchanged = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_ZEROCONF},
        data=_zeroconf(entry.data[CONF_PORT], device_id),
    )
    assert unchanged["reason"] == "already_configured"  # the address it has: nothing to do
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon.port, device_id)
    )
    assert result["step_id"] == "zeroconf_moved"  # the stored token proves nothing there
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "a-brand-new-token-0123"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "moved"
    assert entry.data[CONF_PORT] == daemon.port
    assert entry.data[CONF_TOKEN] == "a-brand-new-token-0123"
    await hass.async_block_till_done()
    await wait_until(lambda: entry.state is ConfigEntryState.LOADED)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reauth_against_another_device_sends_it_nothing(
    hass: HomeAssistant, daemon: Daemon, other_daemon: Daemon
) -> None:
    device_id = await _device_id(daemon)
    other_daemon.start()
    proofs_before = _proofs_received(other_daemon)
    entry = _entry(other_daemon, device_id)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: other_daemon.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert _proofs_received(other_daemon) == proofs_before
