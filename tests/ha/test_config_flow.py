"""Config flow against the real daemon: user, errors, zeroconf, reauth, reconfigure."""

from __future__ import annotations

import threading
from collections.abc import Generator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from unittest.mock import AsyncMock, patch

import pytest
from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_USER, SOURCE_ZEROCONF
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.beerpi
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.protocol.errors import BeerPiProtocolVersionError

from .daemon import Daemon, free_port

assert custom_components.beerpi

pytestmark = pytest.mark.usefixtures("mock_setup_entry")


def _user_input(daemon: Daemon, **changes: object) -> dict[str, object]:
    return {CONF_HOST: daemon.host, CONF_PORT: daemon.port, CONF_TOKEN: daemon.token} | changes


async def _device_id(daemon: Daemon) -> str:
    from custom_components.beerpi.protocol.client import BeerPiClient

    client = BeerPiClient(daemon.host, daemon.port, daemon.token)
    device = await client.connect()
    await client.disconnect()
    return device.id


async def test_user_flow(hass: HomeAssistant, daemon: Daemon, mock_setup_entry: AsyncMock) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _user_input(daemon))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "BeerPi"
    assert result["data"] == _user_input(daemon)
    assert result["result"].unique_id == await _device_id(daemon)
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({CONF_TOKEN: "wrong"}, "invalid_auth"),
        ({CONF_PORT: 1}, "cannot_connect"),
    ],
)
async def test_user_flow_errors_recover(
    hass: HomeAssistant, daemon: Daemon, changes: dict[str, object], error: str
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(daemon, **changes)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _user_input(daemon))
    assert result["type"] is FlowResultType.CREATE_ENTRY


class _RouterPage(BaseHTTPRequestHandler):
    """Another web server (a router's page, Home Assistant's own) at the port typed."""

    def do_GET(self) -> None:
        body = b"<html><title>Router</title></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def other_web_server(socket_enabled: None) -> Generator[int]:
    """A port where an HTTP server that is not a BeerPi answers."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RouterPage)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


async def test_user_flow_names_a_server_that_is_not_a_beerpi(
    hass: HomeAssistant, daemon: Daemon, other_web_server: int
) -> None:
    """A wrong port that reaches another web server is not "Failed to connect": something
    answered, and the form says it is not a BeerPi (check the port)."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(daemon, port=other_web_server)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_beerpi"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _user_input(daemon))
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("exception", "error"),
    [
        (BeerPiProtocolVersionError("3.0", "2.0"), "unsupported_protocol"),
        (RuntimeError("boom"), "unknown"),
    ],
)
async def test_user_flow_unexpected_errors_recover(
    hass: HomeAssistant, daemon: Daemon, exception: Exception, error: str
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch("custom_components.beerpi.config_flow.BeerPiClient.connect", side_effect=exception):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], _user_input(daemon)
        )
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _user_input(daemon))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_already_configured(hass: HomeAssistant, daemon: Daemon) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await _device_id(daemon),
        data=_user_input(daemon, **{CONF_HOST: "old-host"}),
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _user_input(daemon))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == daemon.host


def _zeroconf(daemon: Daemon, properties: dict[str, str]) -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address(daemon.host),
        ip_addresses=[ip_address(daemon.host)],
        hostname="beerpi.local.",
        name="BeerPi._beerpi._tcp.local.",
        port=daemon.port,
        type="_beerpi._tcp.local.",
        properties=properties,
    )


async def test_zeroconf_flow(hass: HomeAssistant, daemon: Daemon) -> None:
    device_id = await _device_id(daemon)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon, {"id": device_id})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: daemon.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == _user_input(daemon)
    assert result["result"].unique_id == device_id


async def test_zeroconf_without_id(hass: HomeAssistant, daemon: Daemon) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon, {})
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: daemon.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_zeroconf_updates_known_host(hass: HomeAssistant, daemon: Daemon) -> None:
    device_id = await _device_id(daemon)
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=device_id, data=_user_input(daemon, **{CONF_HOST: "10.0.0.9"})
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon, {"id": device_id})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == daemon.host


async def test_reauth_flow(hass: HomeAssistant, daemon: Daemon) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await _device_id(daemon),
        data=_user_input(daemon, **{CONF_TOKEN: "old"}),
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: daemon.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == daemon.token


async def test_reconfigure_flow(hass: HomeAssistant, daemon: Daemon) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await _device_id(daemon),
        data=_user_input(daemon, **{CONF_PORT: free_port()}),
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(daemon, **{CONF_PORT: 1})
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _user_input(daemon))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == daemon.port


async def test_reconfigure_other_device(hass: HomeAssistant, daemon: Daemon) -> None:
    entry = MockConfigEntry(domain=DOMAIN, unique_id="another-daemon", data=_user_input(daemon))
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _user_input(daemon))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"


async def test_reconfigure_keeps_the_token_private(hass: HomeAssistant, daemon: Daemon) -> None:
    """The stored token is not sent to the browser; left empty, it stays as it is."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await _device_id(daemon),
        data=_user_input(daemon, **{CONF_PORT: free_port()}),
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    for field in result["data_schema"].schema:
        suggested = (field.description or {}).get("suggested_value")
        assert suggested != daemon.token
        if str(field) == CONF_TOKEN:
            assert suggested is None
            assert type(field).__name__ == "Optional"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: daemon.host, CONF_PORT: daemon.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == _user_input(daemon)


async def test_second_discovery_while_one_is_open(hass: HomeAssistant, daemon: Daemon) -> None:
    device_id = await _device_id(daemon)
    first = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon, {"id": device_id})
    )
    assert first["type"] is FlowResultType.FORM
    second = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon, {"id": device_id})
    )
    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"


async def test_ignoring_a_new_discovery_stores_an_ignored_entry(
    hass: HomeAssistant, daemon: Daemon
) -> None:
    """Ignore on the card of a BeerPi not set up yet is Home Assistant's own: the card
    goes, an ignored entry keeps the device's later announcements quiet."""
    device_id = await _device_id(daemon)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon, {"id": device_id})
    )
    assert result["step_id"] == "zeroconf_confirm"
    ignored = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_IGNORE},
        data={"unique_id": device_id, "title": "BeerPi"},
    )
    await hass.async_block_till_done()
    assert ignored["type"] is FlowResultType.CREATE_ENTRY
    (entry,) = hass.config_entries.async_entries(DOMAIN, include_ignore=True)
    assert entry.source == SOURCE_IGNORE
    assert entry.unique_id == device_id
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # card gone
    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(daemon, {"id": device_id})
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
