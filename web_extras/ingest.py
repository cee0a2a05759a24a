"""Recorder: what every link does with what a daemon pushes.

Readings are stored with the daemon's cursor in the same write, so a crash can
replay a batch but never skip one. A pushed page is stored only when it starts
right after the stored cursor; otherwise (a push was missed, the service was
away) the recorder catches up with ``readings_since`` from the stored cursor.
One lock per device keeps a push and a catch-up from interleaving.

Events are stamped by the daemon's clock, like its readings: ``connected`` with
the link's first state (and the daemon's boot id, beside the one it had when it
connected before: the trend page tells a reboot from a daemon restart by them),
the others with the hub's estimate of the daemon's time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from beerpi_protocol.const import Request
from beerpi_protocol.errors import BeerPiRequestError
from beerpi_protocol.models import DeviceInfo, FaultInfo, MediaInfo, ReadingsPage, State

from .hub import DeviceHub, DeviceLink
from .statediff import state_events
from .store import Event, EventKind, LinkCursor, MediaKind, StoredReading
from .store import MediaInfo as StoredMedia
from .timefmt import parse_iso

_LOGGER = logging.getLogger(__name__)

PAGE_LIMIT = 1000
# A daemon's outbox holds at most a few hundred thousand readings; this bounds a
# catch-up even if a broken daemon kept answering ``more``.
MAX_CATCH_UP_PAGES = 10_000


def _seq_of(cursor: str | None) -> int:
    """The last stored seq (protocol cursors are seq numbers); 0 before the first."""
    if cursor is None:
        return 0
    try:
        return int(cursor)
    except ValueError:
        return -1  # not a seq: never "next", so the recorder catches up


# Later than any event: last_event() before it is the newest one.
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


class Recorder:
    def __init__(self, hub: DeviceHub) -> None:
        self.hub = hub
        self.store = hub.store
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Links whose ``connected`` event waits for their first state (its time).
        self._connecting: dict[str, DeviceLink] = {}

    def _stamp(self, device: str, text: str | None) -> datetime:
        """A time the daemon sent, else now by its clock."""
        if text:
            try:
                return parse_iso(text)
            except ValueError:
                pass
        return self.hub.device_time(device)

    # -- connection ----------------------------------------------------------

    async def connected(self, device: str, link: DeviceLink, info: DeviceInfo | None) -> None:
        await self.hub.attach(device, link, info)
        self._connecting[device] = link

    async def _record_connected(self, device: str, when: datetime) -> None:
        link = self._connecting.pop(device, None)
        if link is None:
            return
        record = self.hub.find(device)
        boot = record.info.boot_id if record is not None and record.info is not None else None
        before = await self.store.last_event(device, EventKind.CONNECTED, _FAR_FUTURE)
        previous = None if before is None else before.data.get("boot_id")
        data = {"link": link.kind, "boot_id": boot, "previous_boot_id": previous}
        await self._event(Event(device, when, EventKind.CONNECTED, data))

    async def disconnected(self, device: str, link: DeviceLink) -> None:
        if await self.hub.detach(device, link):
            when = self.hub.device_time(device)
            await self._record_connected(device, when)  # a link that never sent a state
            await self._event(Event(device, when, EventKind.DISCONNECTED, {"link": link.kind}))

    # -- readings ------------------------------------------------------------

    async def catch_up(self, device: str, link: DeviceLink) -> int:
        """Fetch every reading after the stored cursor; returns how many were new."""
        async with self._locks[device]:
            return await self._catch_up(device, link)

    async def _catch_up(self, device: str, link: DeviceLink) -> int:
        added = 0
        cursor = await self.store.get_cursor(device)
        for _ in range(MAX_CATCH_UP_PAGES):
            try:
                answer = await link.call(
                    Request.READINGS_SINCE.value, {"cursor": cursor, "limit": PAGE_LIMIT}
                )
            except BeerPiRequestError as err:
                if err.code != "invalid_argument" or cursor is None:
                    raise
                # A cursor from another outbox (the daemon's data dir was reset):
                # start again from its oldest reading; storing is idempotent.
                _LOGGER.warning("%s: cursor %s unknown to the daemon; refetching", device, cursor)
                cursor = None
                continue
            page = ReadingsPage.from_dict(answer)
            if page.gap:
                when = self.hub.device_time(device)
                await self._event(Event(device, when, EventKind.GAP, {"after_cursor": cursor}))
            added += await self._store_page(device, page)
            cursor = page.cursor if page.cursor is not None else cursor
            if not page.more or not page.readings:
                break
        return added

    async def pushed(self, device: str, page: ReadingsPage, link: DeviceLink) -> int:
        """A ``readings`` push: store it if it follows the cursor, else catch up."""
        if not page.readings:
            return 0
        async with self._locks[device]:
            last = _seq_of(await self.store.get_cursor(device))
            fresh = ReadingsPage(
                readings=tuple(r for r in page.readings if r.seq > last),
                cursor=page.cursor,
            )
            if not fresh.readings:
                return 0  # already stored (a catch-up got there first)
            if last >= 0 and fresh.readings[0].seq == last + 1:
                return await self._store_page(device, fresh)
            _LOGGER.info(
                "%s: push starts at seq %d, stored cursor is %d; catching up",
                device,
                fresh.readings[0].seq,
                last,
            )
            return await self._catch_up(device, link)

    async def _store_page(self, device: str, page: ReadingsPage) -> int:
        readings = []
        for reading in page.readings:
            try:
                readings.append(StoredReading.from_protocol(device, reading))
            except ValueError as err:
                _LOGGER.warning("%s: skipping unreadable reading %r: %s", device, reading, err)
        cursor = LinkCursor(device, page.cursor) if page.cursor is not None else None
        added = await self.store.add_readings(readings, cursor=cursor)
        self.hub.touch(device)
        if readings:
            await self.hub.readings_added(device, readings)
        return added

    # -- state, faults, media ------------------------------------------------

    async def state(self, device: str, state: State) -> None:
        previous = await self.hub.set_state(device, state)
        await self._record_connected(device, self._stamp(device, state.timestamp))
        for event in state_events(device, previous, state):
            await self._event(event)

    async def fault(self, device: str, fault: FaultInfo) -> None:
        kind = EventKind.FAULT_RAISED if fault.active else EventKind.FAULT_CLEARED
        await self._event(Event(device, self._stamp(device, fault.since), kind, fault.to_dict()))

    async def media(self, device: str, media: MediaInfo, *, announce: bool) -> StoredMedia | None:
        """Record a photo/video; ``announce`` (a ``photo`` push) also adds a timeline event."""
        try:
            stored = StoredMedia(
                device=device,
                id=media.id,
                timestamp=self._stamp(device, media.timestamp),
                kind=MediaKind(media.kind),
                content_type=media.content_type,
                size=media.size,
                path=media.url,
            )
        except ValueError as err:
            _LOGGER.warning("%s: unreadable media %r: %s", device, media, err)
            return None
        await self.store.add_media(stored)
        if announce:
            kind = EventKind.VIDEO if stored.kind is MediaKind.VIDEO else EventKind.PHOTO
            await self._event(Event(device, stored.timestamp, kind, _media_data(media)))
        return stored

    async def _event(self, event: Event) -> None:
        await self.store.add_event(event)
        await self.hub.event_added(event)


def _media_data(media: MediaInfo) -> Mapping[str, Any]:
    return {"id": media.id, "content_type": media.content_type, "size": media.size}
