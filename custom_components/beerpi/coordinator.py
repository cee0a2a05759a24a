"""Push coordinator: one BeerPi daemon connection per config entry.

Setup and every reconnect run the protocol 2 handshake with the entry's
unique_id as the expected device: a daemon that proves another id gets nothing
(not even our proof), a repair issue says so, and the entry stays unloaded
until the user reconfigures it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

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
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import (
    ATTR_CODE,
    ATTR_MESSAGE,
    ATTR_SOURCE,
    BEERPI_EVENT,
    CONF_UNAVAILABLE_AFTER,
    DEFAULT_UNAVAILABLE_AFTER_S,
    DOMAIN,
    EVENT_FAULT_CLEARED,
    EVENT_FAULT_RAISED,
    MAX_PROBE_SENSORS,
    PROTOCOL_RETRY_S,
    RECONNECT_MAX_DELAY_S,
    RECONNECT_MIN_DELAY_S,
)
from .helpers import device_info, fault_code, issue_text, printable
from .protocol.client import BeerPiClient
from .protocol.const import HYDROMETER_ID, PROTOCOL_VERSION, FaultCode
from .protocol.errors import (
    BeerPiAuthError,
    BeerPiError,
    BeerPiProtocolVersionError,
    BeerPiWrongDeviceError,
)
from .protocol.models import DeviceInfo, FaultInfo, MediaInfo, State
from .protocol.numbers import has_control
from .protocol.reconnect import LinkState, ReconnectLogic

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


class LinkStatus(StrEnum):
    """Why the link is up or down (the connectivity sensor's ``reason``)."""

    CONNECTED = "connected"
    LOST = "lost"  # dropped; reconnecting
    UNREACHABLE = "unreachable"  # a reconnect try failed; retrying with backoff
    AUTH_FAILED = "auth_failed"  # the daemon refused the token: re-authenticate
    WRONG_DEVICE = "wrong_device"  # another BeerPi proved itself at the address
    INCOMPATIBLE = "incompatible"  # another major protocol version: update one side


def protocol_minor(version: str) -> int:
    """Minor number of a "major.minor" version; 0 when absent or unreadable."""
    parts = version.split(".")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def issue_ids(entry_id: str) -> tuple[str, str, str]:
    """The repair issues an entry may raise: a newer minor, an incompatible major, and
    the Pi's storage (its card refuses writes, or held a damaged file)."""
    return (
        f"protocol_newer_{entry_id}",
        f"protocol_incompatible_{entry_id}",
        f"storage_{entry_id}",
    )


def _entity_shape(device: DeviceInfo) -> tuple[object, ...]:
    """What the entities are built from at set-up; a daemon announcing another needs a reload."""
    return (device.probes, device.relays, device.camera, device.thermostat, device.capabilities)


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
        self.link_status = LinkStatus.CONNECTED
        self.link_detail = ""
        self.link_changed_at: datetime = dt_util.utcnow()
        self._grace_unsub: CALLBACK_TYPE | None = None
        self._retry_unsub: CALLBACK_TYPE | None = None
        self._fault_listeners: list[FaultChangeListener] = []
        # The `storage` fault's message the repair issue shows (None: no issue), once
        # synced: the first sync always writes, so a reload clears an issue left behind.
        self._storage_issue: str | None = None
        self._storage_issue_synced = False
        self._reconnect = ReconnectLogic(
            client,
            on_connected=self._async_on_connected,
            on_disconnected=self._async_on_disconnected,
            on_connect_failed=self._async_on_connect_failed,
            on_fatal=self._async_on_fatal,
            min_delay_s=RECONNECT_MIN_DELAY_S,
            max_delay_s=RECONNECT_MAX_DELAY_S,
            # The coordinator logs the link going and coming back, once each.
            quiet=True,
        )

    @property
    def device_id(self) -> str:
        return self.device.id

    @property
    def unavailable_after_s(self) -> float:
        return float(
            self.config_entry.options.get(CONF_UNAVAILABLE_AFTER, DEFAULT_UNAVAILABLE_AFTER_S)
        )

    @property
    def link_up(self) -> bool:
        return self.link_status is LinkStatus.CONNECTED

    @property
    def entities_available(self) -> bool:
        """Up, or down for less than the grace period (entities keep their last values)."""
        return self.link_up or self._grace_unsub is not None

    def probe_ids(self) -> list[str]:
        """Probes the daemon announced, then any that only its state shows.

        Ids with control characters are left out, and at most MAX_PROBE_SENSORS
        are given: each becomes an entity for good, so a broken daemon listing
        hundreds must not fill the entity registry.
        """
        ids = [probe.id for probe in self.device.probes]
        ids += [probe for probe in self.data.probes if probe not in ids]
        return [probe for probe in ids if not has_control(probe)][:MAX_PROBE_SENSORS]

    def hydrometer_ids(self) -> list[str]:
        """Hydrometers in the state under a name the protocol allows."""
        ids = [h.id for h in self.data.hydrometers if HYDROMETER_ID.fullmatch(h.id)]
        return list(dict.fromkeys(ids))

    def probe_name(self, probe_id: str) -> str:
        names = {probe.id: printable(probe.name) for probe in self.device.probes}
        return names.get(probe_id) or probe_id

    def relay_name(self, relay_id: str) -> str:
        names = {relay.id: printable(relay.name) for relay in self.device.relays}
        return names.get(relay_id) or relay_id

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
        self._async_register_device()
        self._async_check_protocol()
        self._async_sync_storage_issue(self.data)
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
        self._cancel_grace()
        if self._retry_unsub is not None:
            self._retry_unsub()
            self._retry_unsub = None
        await self._reconnect.stop()

    @callback
    def async_wake(self) -> None:
        """Zeroconf saw the daemon: try now instead of waiting out the backoff."""
        if self._reconnect.state is LinkState.WAITING:
            self._reconnect.wake()
        elif self.link_status is LinkStatus.INCOMPATIBLE:
            # It restarted, perhaps with a compatible version: one try now.
            self._async_retry_incompatible()

    @callback
    def async_add_fault_listener(self, listener: FaultChangeListener) -> CALLBACK_TYPE:
        """Call ``listener(fault, active)`` when a fault is raised or cleared."""
        self._fault_listeners.append(listener)
        return lambda: self._fault_listeners.remove(listener)

    async def _async_update_data(self) -> State:
        """``homeassistant.update_entity``: ask the daemon for a fresh snapshot."""
        if not self.client.connected:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="not_connected",
                translation_placeholders={"name": self.device.name},
            )
        try:
            state = await self.client.get_state()
        except BeerPiError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
        self._accept(state)
        return state

    @callback
    def _on_state(self, state: State) -> None:
        if not self.link_up:
            # A reconnect's first states come before the link counts as up: taken then,
            # a fault raised during the outage would fire its event on an unavailable
            # entity. _async_on_connected takes the latest state once it is up.
            return
        self._accept(state)
        self.async_set_updated_data(state)

    @callback
    def _accept(self, state: State) -> None:
        """What a new snapshot changes besides the data: the photo, fault edges."""
        if state.latest_photo is not None:
            self.latest_photo = state.latest_photo
        self._async_diff_faults(self.data, state)
        self._async_sync_storage_issue(state)

    @callback
    def _async_sync_storage_issue(self, state: State) -> None:
        """A repair issue while the daemon reports a `storage` fault.

        The SD card is what fails on a Pi, and nothing on it can be fixed from Home
        Assistant: the brewer must free space, replace the card or look at a file the
        daemon moved aside. The daemon runs on (its message says whether the thermostat
        still heats and cools), so a warning; it goes when the fault clears (or, for a
        moved file, at the daemon's next start).
        """
        message = next(
            (
                issue_text(f.message or "")
                for f in state.faults
                if fault_code(f) == FaultCode.STORAGE.value
            ),
            None,
        )
        if self._storage_issue_synced and message == self._storage_issue:
            return
        self._storage_issue, self._storage_issue_synced = message, True
        issue_id = issue_ids(self.config_entry.entry_id)[2]
        if message is None:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        else:
            self._async_warn(issue_id, "storage", message=message)

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
        old = {(f.source, fault_code(f)): f for f in before.faults}
        new = {(f.source, fault_code(f)): f for f in after.faults}
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
                ATTR_CODE: fault_code(fault),
                ATTR_MESSAGE: fault.message,
            },
        )

    # -- the link ----------------------------------------------------------------

    @callback
    def _async_register_device(self) -> None:
        """The device registry follows what the daemon announced (name, model, firmware)."""
        device = dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.config_entry.entry_id, **device_info(self.device)
        )
        self.ha_device_id = device.id

    @callback
    def _set_link(self, status: LinkStatus, detail: str = "") -> None:
        # ``since`` is when the link went down (or came up): a drop that turns into
        # "unreachable" a second later, or a retry with another error, keeps it.
        if self.link_up != (status is LinkStatus.CONNECTED):
            self.link_changed_at = dt_util.utcnow()
        self.link_status = status
        self.link_detail = detail
        self.async_update_listeners()

    @callback
    def _cancel_grace(self) -> None:
        if self._grace_unsub is not None:
            self._grace_unsub()
            self._grace_unsub = None

    @callback
    def _async_grace_over(self, _now: datetime) -> None:
        self._grace_unsub = None
        self.async_update_listeners()

    async def _async_on_connected(self) -> None:
        was = self.link_status
        rebuild = False
        if self.client.device is not None:
            rebuild = _entity_shape(self.client.device) != _entity_shape(self.device)
            self.device = self.client.device
        self._async_register_device()
        self._async_check_protocol()
        ir.async_delete_issue(self.hass, DOMAIN, issue_ids(self.config_entry.entry_id)[1])
        self._cancel_grace()
        if was is not LinkStatus.CONNECTED:
            _LOGGER.info("%s: connection to the daemon restored", self.device.name)
            self.link_changed_at = dt_util.utcnow()
        self.link_status = LinkStatus.CONNECTED
        self.link_detail = ""
        if self.client.state is not None:
            # Available first, then the events of what changed meanwhile: an event fired
            # straight out of "unavailable" is missed by automations that skip those.
            self.async_update_listeners()
            self._on_state(self.client.state)
        if rebuild:
            # The entities were built from the old probes, relays, camera and thermostat
            # limits (a climate refusing a target the daemon now allows): build them again.
            _LOGGER.info("%s: the daemon's configuration changed; reloading", self.device.name)
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)

    async def _async_on_disconnected(self) -> None:
        grace = self.unavailable_after_s
        _LOGGER.info(
            "%s: connection to the daemon lost; entities keep their last values for %g s",
            self.device.name,
            grace,
        )
        self._cancel_grace()
        if grace > 0:
            self._grace_unsub = async_call_later(self.hass, grace, self._async_grace_over)
        self._set_link(LinkStatus.LOST, "connection lost")

    async def _async_on_connect_failed(self, err: BeerPiError) -> None:
        self._set_link(LinkStatus.UNREACHABLE, str(err))

    async def _async_on_fatal(self, err: BeerPiError) -> None:
        if isinstance(err, BeerPiWrongDeviceError):
            # Another BeerPi answers at the entry's address: nothing was sent to it.
            # Reloading runs setup's check again, which raises the repair issue and
            # leaves the entry unloaded until the user reconfigures it.
            _LOGGER.error("%s: %s; not connecting to it", self.device.name, err)
            self._set_link(LinkStatus.WRONG_DEVICE, str(err))
            async_create_wrong_device_issue(self.hass, self.config_entry, err)
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
            return
        if isinstance(err, BeerPiProtocolVersionError):
            # Said once; the hourly retries that find the same daemon add nothing new.
            again = self.link_status is LinkStatus.INCOMPATIBLE
            level = logging.DEBUG if again else logging.WARNING
            _LOGGER.log(
                level,
                "%s: the daemon now speaks protocol %s, this integration %s; retrying in %g s "
                "or when it is discovered again",
                self.device.name,
                err.daemon_version,
                PROTOCOL_VERSION,
                PROTOCOL_RETRY_S,
            )
            self._async_raise_incompatible(err.daemon_version)
            self._retry_unsub = async_call_later(
                self.hass, PROTOCOL_RETRY_S, self._async_retry_incompatible
            )
            self._set_link(LinkStatus.INCOMPATIBLE, str(err))
            return
        # Only a refused token is fatal otherwise: Home Assistant asks for a new one.
        _LOGGER.warning("%s: the daemon refused the token; not retrying", self.device.name)
        self._set_link(LinkStatus.AUTH_FAILED, str(err))
        self.config_entry.async_start_reauth(self.hass)

    @callback
    def _async_retry_incompatible(self, _now: datetime | None = None) -> None:
        if self._retry_unsub is not None:
            self._retry_unsub()
            self._retry_unsub = None
        self._reconnect.start()

    @callback
    def _async_raise_incompatible(self, daemon_version: str) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_ids(self.config_entry.entry_id)[1],
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="protocol_incompatible",
            translation_placeholders={
                "name": self.device.name,
                "daemon_version": daemon_version or "unknown",
                "our_version": PROTOCOL_VERSION,
            },
        )

    @callback
    def _async_check_protocol(self) -> None:
        """Raise a repair issue while the daemon speaks a newer minor than we know."""
        issue_id = issue_ids(self.config_entry.entry_id)[0]
        daemon = self.device.protocol_version
        if protocol_minor(daemon) > protocol_minor(PROTOCOL_VERSION):
            self._async_warn(
                issue_id, "protocol_newer", daemon_version=daemon, our_version=PROTOCOL_VERSION
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    @callback
    def _async_warn(self, issue_id: str, key: str, **placeholders: str) -> None:
        """A warning in Repairs that the user cannot fix from here (it names the device)."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=key,
            translation_placeholders={"name": self.device.name, **placeholders},
        )
