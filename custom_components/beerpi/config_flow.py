"""Config flow: host, port and token, tried before the entry is made.

The token never crosses the wire (protocol 2), and a daemon must prove the
device id with it before the client sends anything: a known device found at a
new address (zeroconf) moves its entry only once the new address proves the
entry's device with the stored token; otherwise the user is asked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from homeassistant.config_entries import (
    SOURCE_IGNORE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

from .const import (
    CONF_UNAVAILABLE_AFTER,
    DEFAULT_UNAVAILABLE_AFTER_S,
    DOMAIN,
    MAX_UNAVAILABLE_AFTER_S,
)
from .coordinator import BeerPiConfigEntry
from .protocol.client import BeerPiClient
from .protocol.const import DEFAULT_PORT
from .protocol.errors import (
    BeerPiAuthError,
    BeerPiError,
    BeerPiProtocolVersionError,
    BeerPiWrongDeviceError,
)
from .protocol.models import DeviceInfo
from .validation import vol

_LOGGER = logging.getLogger(__name__)

# How long the form waits, after a failed connect, for the address to answer plain HTTP.
HEALTH_PROBE_TIMEOUT_S = 5.0

_TOKEN_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
_PORT_SELECTOR = vol.All(
    NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)),
    vol.Coerce(int),
)
USER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT, default=DEFAULT_PORT): _PORT_SELECTOR,
        vol.Required(CONF_TOKEN): _TOKEN_SELECTOR,
    }
)
TOKEN_SCHEMA = vol.Schema({vol.Required(CONF_TOKEN): _TOKEN_SELECTOR})
# The stored token is never sent back to the browser: left empty, it stays as it is.
RECONFIGURE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT, default=DEFAULT_PORT): _PORT_SELECTOR,
        vol.Optional(CONF_TOKEN): _TOKEN_SELECTOR,
    }
)
OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_UNAVAILABLE_AFTER, default=DEFAULT_UNAVAILABLE_AFTER_S): vol.All(
            NumberSelector(
                NumberSelectorConfig(
                    min=0,
                    max=MAX_UNAVAILABLE_AFTER_S,
                    step=1,
                    unit_of_measurement="s",
                    mode=NumberSelectorMode.BOX,
                )
            ),
            vol.Coerce(int),
        )
    }
)


async def _async_try_connect(
    flow: ConfigFlow, host: str, port: int, token: str, device_id: str | None = None
) -> tuple[DeviceInfo | None, dict[str, str]]:
    """Connect once to learn (or, given ``device_id``, check) the device id.

    The errors map to the form's messages. With ``device_id``, a daemon that
    proves another id is refused before anything is sent to it.
    """
    client = BeerPiClient(
        host, port, token, device_id=device_id, session=async_get_clientsession(flow.hass)
    )
    try:
        device = await client.connect()
    except BeerPiAuthError:
        return None, {"base": "invalid_auth"}
    except BeerPiWrongDeviceError:
        return None, {"base": "wrong_device"}
    except BeerPiProtocolVersionError:
        return None, {"base": "unsupported_protocol"}
    except BeerPiError:
        if await _async_answers_not_as_beerpi(flow, client.base_url):
            return None, {"base": "not_beerpi"}
        return None, {"base": "cannot_connect"}
    except Exception:
        _LOGGER.exception("Unexpected error while connecting to %s:%s", host, port)
        return None, {"base": "unknown"}
    await client.disconnect()
    return device, {}


async def _async_answers_not_as_beerpi(flow: ConfigFlow, base_url: str) -> bool:
    """Whether something other than a BeerPi daemon answers HTTP at ``base_url``.

    A wrong port often reaches another web server (a router, Home Assistant itself),
    which "Failed to connect" does not explain. The daemon's ``/health`` needs no
    token, so nothing about the token is sent.
    """
    try:
        async with async_get_clientsession(flow.hass).get(
            base_url + "/health",
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=HEALTH_PROBE_TIMEOUT_S),
        ) as response:
            try:
                health = await response.json(content_type=None)
            except ValueError:
                return True
    except (aiohttp.ClientError, TimeoutError):
        return False  # nothing answers: "Failed to connect"
    return not (isinstance(health, dict) and "protocol_version" in health)


class BeerPiConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a BeerPi daemon, by hand or from zeroconf."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: BeerPiConfigEntry) -> BeerPiOptionsFlow:
        return BeerPiOptionsFlow()

    def __init__(self) -> None:
        self._host = ""
        self._port = DEFAULT_PORT
        self._name = ""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            device, errors = await _async_try_connect(
                self, user_input[CONF_HOST], user_input[CONF_PORT], user_input[CONF_TOKEN]
            )
            if device is not None:
                await self.async_set_unique_id(device.id, raise_on_progress=False)
                self._abort_if_unique_id_configured(
                    updates={CONF_HOST: user_input[CONF_HOST], CONF_PORT: user_input[CONF_PORT]}
                )
                return self.async_create_entry(title=device.name, data=user_input)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        self._host = discovery_info.host
        self._port = discovery_info.port or DEFAULT_PORT
        self._name = discovery_info.name.split(".", 1)[0]
        device_id = discovery_info.properties.get("id")
        if device_id:
            # A sighting wakes the entry's own link (at its stored address) at once.
            _async_wake_link(self, device_id)
            await self.async_set_unique_id(device_id)
            entry = self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, device_id)
            if entry is not None and entry.source == SOURCE_IGNORE:
                return self.async_abort(reason="already_configured")
            if entry is not None:
                return await self._async_known_device_moved(entry)
        else:
            self._async_abort_entries_match({CONF_HOST: self._host, CONF_PORT: self._port})
        self.context["title_placeholders"] = {"name": self._name}
        return await self.async_step_zeroconf_confirm()

    async def _async_known_device_moved(self, entry: ConfigEntry) -> ConfigFlowResult:
        """A configured device announced at an address: follow it only once it proves itself.

        Anyone can announce any id. The entry moves only when the new address proves
        the entry's device id with the stored token (nothing is sent to it before);
        otherwise the user is asked.
        """
        if (entry.data[CONF_HOST], entry.data[CONF_PORT]) == (self._host, self._port):
            # Back at its address: an entry waiting to retry its set-up (Home Assistant
            # started while the daemon was down) tries now, not at its next backoff.
            if entry.state is ConfigEntryState.SETUP_RETRY:
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_abort(reason="already_configured")
        device, errors = await _async_try_connect(
            self, self._host, self._port, entry.data[CONF_TOKEN], entry.unique_id
        )
        if errors.get("base") in ("cannot_connect", "not_beerpi", "unknown"):
            # Not reachable yet (a network settling, a daemon still starting): no
            # question to ask; its next announcement tries again.
            return self.async_abort(reason="cannot_connect")
        if device is not None:
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_HOST: self._host, CONF_PORT: self._port}
            )
            if entry.disabled_by is None:
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_abort(reason="already_configured")
        _LOGGER.warning(
            "%s:%s announces itself as %s but cannot prove it with the stored token; "
            "the entry stays at %s:%s",
            self._host,
            self._port,
            entry.title,
            entry.data[CONF_HOST],
            entry.data[CONF_PORT],
        )
        self.context["title_placeholders"] = {"name": entry.title}
        return await self.async_step_zeroconf_moved()

    async def async_step_ignore(self, user_input: dict[str, Any]) -> ConfigFlowResult:
        """Ignoring the "moved?" question of a configured BeerPi dismisses it.

        Home Assistant's own ignore stores an ignored entry under the flow's unique id,
        which replaces an entry already there: the working BeerPi would be removed.
        """
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(
            DOMAIN, user_input["unique_id"]
        )
        if entry is None or entry.source == SOURCE_IGNORE:
            return await super().async_step_ignore(user_input)
        flows = self.hass.config_entries.flow
        for flow in flows.async_progress_by_handler(DOMAIN):
            if flow["flow_id"] != self.flow_id and flow["context"].get("unique_id") == (
                entry.unique_id
            ):
                flows.async_abort(flow["flow_id"])
        return self.async_abort(reason="already_configured")

    async def async_step_zeroconf_moved(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask: move the entry to the announced address, if its token proves the device."""
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(
            DOMAIN, self.unique_id or ""
        )
        if entry is None:
            return self.async_abort(reason="already_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            device, errors = await _async_try_connect(
                self, self._host, self._port, user_input[CONF_TOKEN], entry.unique_id
            )
            if device is not None:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_HOST: self._host,
                        CONF_PORT: self._port,
                        CONF_TOKEN: user_input[CONF_TOKEN],
                    },
                    reason="moved",
                )
        return self.async_show_form(
            step_id="zeroconf_moved",
            data_schema=TOKEN_SCHEMA,
            description_placeholders={
                "name": entry.title,
                "host": self._host,
                "port": str(self._port),
                "old_host": str(entry.data[CONF_HOST]),
                "old_port": str(entry.data[CONF_PORT]),
            },
            errors=errors,
        )

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Discovery cannot know the token: ask for it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device, errors = await _async_try_connect(
                self, self._host, self._port, user_input[CONF_TOKEN]
            )
            if device is not None:
                await self.async_set_unique_id(device.id, raise_on_progress=False)
                self._abort_if_unique_id_configured(
                    updates={CONF_HOST: self._host, CONF_PORT: self._port}
                )
                return self.async_create_entry(
                    title=device.name,
                    data={
                        CONF_HOST: self._host,
                        CONF_PORT: self._port,
                        CONF_TOKEN: user_input[CONF_TOKEN],
                    },
                )
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=TOKEN_SCHEMA,
            description_placeholders={
                "name": self._name,
                "host": self._host,
                "port": str(self._port),
            },
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The daemon refused the token: ask only for a new one."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            device, errors = await _async_try_connect(
                self,
                entry.data[CONF_HOST],
                entry.data[CONF_PORT],
                user_input[CONF_TOKEN],
                entry.unique_id,
            )
            if errors.get("base") == "wrong_device":
                return self.async_abort(reason="wrong_device")
            if device is not None:
                await self.async_set_unique_id(device.id)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=TOKEN_SCHEMA,
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = {CONF_TOKEN: entry.data[CONF_TOKEN]} | {
                key: value for key, value in user_input.items() if value != ""
            }
            device, errors = await _async_try_connect(
                self,
                user_input[CONF_HOST],
                user_input[CONF_PORT],
                user_input[CONF_TOKEN],
                entry.unique_id,
            )
            if errors.get("base") == "wrong_device":
                return self.async_abort(reason="wrong_device")
            if device is not None:
                await self.async_set_unique_id(device.id)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                return self.async_update_reload_and_abort(entry, data_updates=user_input)
        shown = {
            key: value for key, value in (user_input or entry.data).items() if key != CONF_TOKEN
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(RECONFIGURE_SCHEMA, shown),
            errors=errors,
        )


class BeerPiOptionsFlow(OptionsFlow):
    """How long entities keep their last values when the link drops."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, self.config_entry.options
            ),
        )


@callback
def _async_wake_link(flow: ConfigFlow, device_id: str) -> None:
    """A loaded entry of this daemon retries now (it may have just rebooted)."""
    entries: list[BeerPiConfigEntry] = flow.hass.config_entries.async_entries(DOMAIN)
    for entry in entries:
        if entry.unique_id == device_id and entry.state is ConfigEntryState.LOADED:
            entry.runtime_data.async_wake()
