"""DeviceHub: every device the service knows, whether it is online, over which link.

Links are either dial-in (the service is a client of the daemon) or dial-out (the
daemon is a client of the service's ``/devices`` namespace); the rest of the
service only sees ``DeviceLink``. A device with history but no link right now
is listed offline. With Redis, a device linked to another service process is
reached through ``RemoteRouter``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from beerpi_protocol.errors import BeerPiConnectionError, BeerPiRequestError
from beerpi_protocol.models import DeviceInfo, State

from . import sanitize
from .errors import device_offline, from_daemon, not_found
from .store import Event, HistoryStore, StoredReading
from .timefmt import iso, now, parse_iso

_LOGGER = logging.getLogger(__name__)


class DeviceLink(Protocol):
    kind: str  # "dial-in" | "dial-out"

    async def call(self, request: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The ``{"ok": true, ...}`` answer, or BeerPiRequestError/BeerPiConnectionError."""
        ...


class RemoteRouter(Protocol):
    """Devices linked to other service processes (scale-out)."""

    async def device_ids(self) -> list[str]: ...

    async def describe(self, device: str) -> dict[str, Any] | None: ...

    async def call(
        self, device: str, request: str, payload: Mapping[str, Any]
    ) -> dict[str, Any]: ...


class HubListener(Protocol):
    async def device_changed(self, record: DeviceRecord) -> None: ...

    async def state_changed(self, record: DeviceRecord) -> None: ...

    async def readings_added(self, device: str, readings: Sequence[StoredReading]) -> None: ...

    async def event_added(self, event: Event) -> None: ...


class QuietListener:
    """A HubListener that ignores everything: a listener overrides only what it watches."""

    async def device_changed(self, record: DeviceRecord) -> None:
        return None

    async def state_changed(self, record: DeviceRecord) -> None:
        return None

    async def readings_added(self, device: str, readings: Sequence[StoredReading]) -> None:
        return None

    async def event_added(self, event: Event) -> None:
        return None


@dataclass
class DeviceRecord:
    id: str
    info: DeviceInfo | None = None
    state: State | None = None
    link: DeviceLink | None = None
    last_seen: datetime | None = None
    # Linked to another service process (scale-out through Redis).
    remote: bool = False
    # The daemon's clock minus ours when its last state arrived (see device_time).
    clock_offset: timedelta | None = None

    @property
    def online(self) -> bool:
        return self.link is not None or self.remote

    def to_json(self) -> dict[str, Any]:
        info = self.info
        return {
            "id": self.id,
            "name": info.name if info else self.id,
            "model": info.model if info else "",
            "online": self.online,
            "last_seen": None if self.last_seen is None else iso(self.last_seen),
            "device": None if info is None else info.to_dict(),
            "state": None if self.state is None else self.state.to_dict(),
        }


class DeviceHub:
    def __init__(self, store: HistoryStore, max_probes: int = 32) -> None:
        self.store = store
        # Every device announcement and state passes ``sanitize`` on its way in.
        self.max_probes = max_probes
        self._records: dict[str, DeviceRecord] = {}
        self._listeners: list[HubListener] = []
        self.remote: RemoteRouter | None = None

    async def load_known(self) -> None:
        """Devices with history are listed (offline) even before they connect."""
        for device in await self.store.devices():
            self._records.setdefault(device, DeviceRecord(device))

    def add_listener(self, listener: HubListener) -> None:
        self._listeners.append(listener)

    # -- queries -------------------------------------------------------------

    def records(self) -> list[DeviceRecord]:
        return [self._records[k] for k in sorted(self._records)]

    def find(self, device: str) -> DeviceRecord | None:
        return self._records.get(device)

    async def get(self, device: str) -> DeviceRecord:
        """The record, asking the other processes when this one never saw it; 404 if none."""
        record = self._records.get(device)
        if record is not None and (record.online or self.remote is None):
            return record
        if self.remote is not None:
            described = await self.remote.describe(device)
            if described is not None:
                return _remote_record(device, described)
        if record is None:
            raise not_found(f"unknown device {device!r}", "unknown_device")
        return record

    async def all_json(self) -> list[dict[str, Any]]:
        ids = set(self._records)
        if self.remote is not None:
            ids.update(await self.remote.device_ids())
        return [(await self.get(device)).to_json() for device in sorted(ids)]

    # -- links ---------------------------------------------------------------

    async def attach(
        self, device: str, link: DeviceLink, info: DeviceInfo | None = None
    ) -> DeviceRecord:
        """Mark ``device`` online over ``link``; ``info`` None keeps what was known.

        InvalidDeviceData when the id is not one, or the announcement names another device.
        """
        sanitize.check_id(device, "device id")
        if info is not None:
            sent_boot_id = info.boot_id
            info = sanitize.device_info(info, max_probes=self.max_probes)
            if sent_boot_id is not None and info.boot_id is None:
                _LOGGER.warning(
                    "%s: ignoring its boot id %r: not an id (%s)",
                    device,
                    sent_boot_id[:40],
                    sanitize.ID.pattern,
                )
            if info.id != device:
                raise sanitize.InvalidDeviceData(f"{device} announced itself as {info.id}")
        record = self._records.setdefault(device, DeviceRecord(device))
        if record.link is not None and record.link is not link:
            _LOGGER.warning("device %s linked again (%s); the newest link wins", device, link.kind)
        record.link, record.last_seen = link, now()
        if info is not None:
            record.info = info
        await self._notify("device_changed", record)
        return record

    async def detach(self, device: str, link: DeviceLink) -> bool:
        """Forget ``link``; False if the device had moved to another link meanwhile."""
        record = self._records.get(device)
        if record is None or record.link is not link:
            return False
        record.link = None
        await self._notify("device_changed", record)
        return True

    async def set_state(self, device: str, state: State) -> State | None:
        sanitize.check_id(device, "device id")
        arrived = now()
        # A timestamp far from our clock is left out (sanitize.MAX_CLOCK_SKEW): the
        # offset stays what the last state said, so device_time stays a time.
        state = sanitize.state(state, max_probes=self.max_probes, now=arrived)
        record = self._records.setdefault(device, DeviceRecord(device))
        previous, record.state, record.last_seen = record.state, state, arrived
        stamp = _parse_stamp(state.timestamp)
        if stamp is not None:
            record.clock_offset = stamp - record.last_seen
        await self._notify("state_changed", record)
        return previous

    def device_time(self, device: str) -> datetime:
        """Now by ``device``'s clock, as its last state told it; ours if none came yet.

        Readings carry the daemon's time (a simulated daemon's runs faster), so
        events the service stamps itself use this to land among them.
        """
        record = self._records.get(device)
        offset = None if record is None else record.clock_offset
        return now() if offset is None else now() + offset

    def touch(self, device: str) -> None:
        record = self._records.get(device)
        if record is not None:
            record.last_seen = now()

    async def readings_added(self, device: str, readings: Sequence[StoredReading]) -> None:
        await self._notify("readings_added", device, readings)

    async def event_added(self, event: Event) -> None:
        await self._notify("event_added", event)

    async def _notify(self, method: str, *args: Any) -> None:
        for listener in list(self._listeners):
            try:
                await getattr(listener, method)(*args)
            except Exception:
                _LOGGER.exception("hub listener %s.%s failed", listener, method)

    # -- commands ------------------------------------------------------------

    async def call(
        self, device: str, request: str, payload: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send a request over whichever link the device has; ApiError when it cannot."""
        record = await self.get(device)
        try:
            if record.link is not None:
                return await record.link.call(request, payload or {})
            if self.remote is not None and record.remote:
                return await self.remote.call(device, request, payload or {})
        except (BeerPiRequestError, BeerPiConnectionError) as err:
            raise from_daemon(err, device) from None
        raise device_offline(device)


def _parse_stamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        return None


def _remote_record(device: str, described: Mapping[str, Any]) -> DeviceRecord:
    info = described.get("device")
    state = described.get("state")
    return DeviceRecord(
        device,
        info=DeviceInfo.from_dict(info) if isinstance(info, Mapping) else None,
        state=State.from_dict(state) if isinstance(state, Mapping) else None,
        last_seen=now(),
        remote=True,
    )
