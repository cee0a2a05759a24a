"""Push coordinator: one BeerPi daemon connection per config entry.

Setup and every reconnect run the protocol 2 handshake with the entry's
unique_id as the expected device: a daemon that proves another id gets nothing
(not even our proof), a repair issue says so, and the entry stays unloaded
until the user reconfigures it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_DEVICE_ID,
    CONF_HOST,
    CONF_PORT,
    CONF_TYPE,
    EVENT_HOMEASSISTANT_STOP,
)
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .const import (
    ATTR_CODE,
    ATTR_MESSAGE,
    ATTR_SOURCE,
    BEERPI_EVENT,
    DOMAIN,
    EVENT_FAULT_CLEARED,
    EVENT_FAULT_RAISED,
    RECONNECT_MAX_DELAY_S,
    RECONNECT_MIN_DELAY_S,
)
from .protocol.client import BeerPiClient
from .protocol.const import PROTOCOL_VERSION
from .protocol.errors import (
    BeerPiAuthError,
    BeerPiConnectionError,
    BeerPiError,
    BeerPiProtocolVersionError,
    BeerPiWrongDeviceError,
)
from .protocol.models import DeviceInfo, FaultInfo, MediaInfo, State
from .protocol.reconnect import ReconnectLogic

_LOGGER = logging.getLogger(__name__)

type BeerPiConfigEntry = ConfigEntry[BeerPiCoordinator]
type FaultChangeListener = Callable[[FaultInfo, bool], None]


def _wrong_device_issue_id(entry: ConfigEntry) -> str:
    return f"wrong_device_{entry.entry_id}"


@callback
def async_create_wrong_device_issue(
    hass: HomeAssistant, entry: ConfigEntry, err: BeerPiWrongDeviceError
) -> None:
    """Tell the user the address answers for another BeerPi; nothing was sent to it."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        _wrong_device_issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="wrong_device",
        translation_placeholders={
            "name": entry.title,
            "host": str(entry.data.get(CONF_HOST)),
            "port": str(entry.data.get(CONF_PORT)),
            "expected": err.expected,
            "actual": err.actual,
        },
    )


@callback
def async_delete_wrong_device_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    ir.async_delete_issue(hass, DOMAIN, _wrong_device_issue_id(entry))


def protocol_minor(version: str) -> int:
    """Minor number of a "major.minor" version; 0 when absent or unreadable."""
    parts = version.split(".")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


class BeerPiCoordinator(DataUpdateCoordinator[State]):
    """Holds the daemon's latest ``state``; the daemon pushes, nothing polls."""

    config_entry: BeerPiConfigEntry

    def __init__(self, hass: HomeAssistant, entry: BeerPiConfigEntry, client: BeerPiClient) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {client.host}:{client.port}",
            update_interval=None,
        )
        self.client = client
        self.device: DeviceInfo
        self.latest_photo: MediaInfo | None = None
        # Home Assistant's id of the daemon's device, set at setup (device triggers use it).
        self.ha_device_id = ""
        self._fault_listeners: list[FaultChangeListener] = []
        self._reconnect = ReconnectLogic(
            client,
            on_connected=self._async_on_connected,
            on_disconnected=self._async_on_disconnected,
            on_fatal=self._async_on_fatal,
            min_delay_s=RECONNECT_MIN_DELAY_S,
            max_delay_s=RECONNECT_MAX_DELAY_S,
        )

    @property
    def device_id(self) -> str:
        return self.device.id

    def probe_ids(self) -> list[str]:
        """Probes the daemon announced, then any that only its state shows."""
        ids = [probe.id for probe in self.device.probes]
        return ids + [probe for probe in self.data.probes if probe not in ids]

    def probe_name(self, probe_id: str) -> str:
        names = {probe.id: probe.name for probe in self.device.probes}
        return names.get(probe_id) or probe_id

    async def async_connect(self) -> None:
        """First connection, at setup: its failures decide how setup fails."""
        try:
            device = await self.client.connect()
        except BeerPiAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except BeerPiWrongDeviceError as err:
            async_create_wrong_device_issue(self.hass, self.config_entry, err)
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="wrong_device",
                translation_placeholders={"expected": err.expected, "actual": err.actual},
            ) from err
        except BeerPiProtocolVersionError as err:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="unsupported_protocol",
                translation_placeholders={"version": err.daemon_version},
            ) from err
        except BeerPiError as err:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        async_delete_wrong_device_issue(self.hass, self.config_entry)
        self.device = device
        assert self.client.state is not None  # connect() waits for the first state
        self.data = self.client.state
        self.latest_photo = self.client.state.latest_photo
        self._async_check_protocol()
        entry = self.config_entry
        entry.async_on_unload(self.client.add_state_listener(self._on_state))
        entry.async_on_unload(self.client.add_media_listener(self._on_media))
        # The link is up: the reconnect logic only watches it until it drops.
        self._reconnect.start()
        entry.async_on_unload(self.async_shutdown_link)
        entry.async_on_unload(
            self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self.async_shutdown_link)
        )

    async def async_shutdown_link(self, _event: Event | None = None) -> None:
        """Close the link for good (unload, or Home Assistant stopping)."""
        await self._reconnect.stop()

    @callback
    def async_add_fault_listener(self, listener: FaultChangeListener) -> CALLBACK_TYPE:
        """Call ``listener(fault, active)`` when a fault is raised or cleared."""
        self._fault_listeners.append(listener)
        return lambda: self._fault_listeners.remove(listener)

    @callback
    def _on_state(self, state: State) -> None:
        previous = self.data
        if state.latest_photo is not None:
            self.latest_photo = state.latest_photo
        self.async_set_updated_data(state)
        self._async_diff_faults(previous, state)

    @callback
    def _on_media(self, media: MediaInfo) -> None:
        if media.kind == "photo":
            self.set_latest_photo(media)

    @callback
    def set_latest_photo(self, photo: MediaInfo) -> None:
        self.latest_photo = photo
        self.async_update_listeners()

    @callback
    def _async_diff_faults(self, before: State, after: State) -> None:
        """Derive raise/clear events from consecutive snapshots (they carry every fault)."""
        old = {(f.source, f.code): f for f in before.faults}
        new = {(f.source, f.code): f for f in after.faults}
        changes = [(f, True) for key, f in new.items() if key not in old]
        changes += [(f, False) for key, f in old.items() if key not in new]
        for fault, active in changes:
            for listener in list(self._fault_listeners):
                listener(fault, active)
            self._async_fire_fault_event(fault, active)

    @callback
    def _async_fire_fault_event(self, fault: FaultInfo, active: bool) -> None:
        """Put the change on the bus, keyed by Home Assistant's device id (device triggers)."""
        self.hass.bus.async_fire(
            BEERPI_EVENT,
            {
                ATTR_DEVICE_ID: self.ha_device_id,
                CONF_TYPE: EVENT_FAULT_RAISED if active else EVENT_FAULT_CLEARED,
                ATTR_SOURCE: fault.source,
                ATTR_CODE: None if fault.code is None else fault.code.value,
                ATTR_MESSAGE: fault.message,
            },
        )

    async def _async_on_connected(self) -> None:
        if self.client.device is not None:
            self.device = self.client.device
        self._async_check_protocol()
        if self.client.state is not None:
            self._on_state(self.client.state)

    async def _async_on_disconnected(self) -> None:
        self.async_set_update_error(BeerPiConnectionError("connection to the daemon lost"))

    async def _async_on_fatal(self, err: BeerPiError) -> None:
        self.async_set_update_error(err)
        if isinstance(err, BeerPiAuthError):
            self.config_entry.async_start_reauth(self.hass)
        elif isinstance(err, BeerPiWrongDeviceError):
            # Another BeerPi answers at the entry's address: nothing was sent to it.
            # Reloading runs setup's check again, which raises the repair issue and
            # leaves the entry unloaded until the user reconfigures it.
            async_create_wrong_device_issue(self.hass, self.config_entry, err)
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)

    @callback
    def _async_check_protocol(self) -> None:
        """Raise a repair issue while the daemon speaks a newer minor than we know."""
        issue_id = f"protocol_newer_{self.config_entry.entry_id}"
        daemon = self.device.protocol_version
        if protocol_minor(daemon) > protocol_minor(PROTOCOL_VERSION):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="protocol_newer",
                translation_placeholders={
                    "name": self.device.name,
                    "daemon_version": daemon,
                    "our_version": PROTOCOL_VERSION,
                },
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
