"""Recorder: what every link does with what a daemon pushes.

Readings are stored with the daemon's cursor in the same write, so a crash can
replay a batch but never skip one. A pushed page is stored only when it starts
right after the stored cursor; otherwise (a push was missed, the service was
away) the recorder catches up with ``readings_since`` from the stored cursor.
One lock per device keeps a push and a catch-up from interleaving.

A device is hostile until proven otherwise (``sanitize``), and it gets an
allowance: at most ``PAGE_LIMIT`` readings per batch (a bigger push is fetched
in pages instead), a number of readings and of events per minute (a pushed
photo or video is an event: its media row is kept only within that), and a
number of distinct probes. Beyond it the excess is not stored and a warning says so
(once a minute per device); the link stays up, and the readings wait in the
daemon's outbox until the allowance lets them in, so an honest daemon that
was offline for long still loses nothing. A reading no probe can take (a
temperature outside ``sanitize.reading``'s range) is dropped alone, with a
warning: the rest of its page is stored and the cursor moves past it. So is
one stamped further from the service's clock than ``sanitize.MAX_CLOCK_SKEW``.

Events are stamped by the daemon's clock, like its readings: ``connected`` with
the link's first state (and the daemon's boot id, beside the one it had when it
connected before: the trend page tells a reboot from a daemon restart by them),
the others with the hub's estimate of the daemon's time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from beerpi_guard.logthrottle import ThrottledLog
from beerpi_protocol.errors import BeerPiRequestError
from beerpi_protocol.models import DeviceInfo, FaultInfo, MediaInfo, ReadingsPage, State
from beerpi_protocol.requests import ReadingsSince

from . import sanitize
from .hub import DeviceHub, DeviceLink
from .limits import PerMinute
from .statediff import state_events
from .store import Event, EventKind, LinkCursor, MediaKind, StoredReading
from .store import MediaInfo as StoredMedia
from .timefmt import now

if TYPE_CHECKING:
    from .config import WebConfig

_LOGGER = logging.getLogger(__name__)

# Readings per batch: a page of 500 is about 47 KiB of JSON, under the 64 KiB a
# socket.io packet may carry (a dial-out daemon's answer of 1000 was cut off,
# and with it the link, so a long catch-up never finished).
PAGE_LIMIT = 500
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


@dataclass(frozen=True)
class IngestLimits:
    """What one device may send; the defaults are WebConfig's."""

    max_probes_per_device: int = 32
    max_readings_per_minute: int = 12_000
    max_events_per_minute: int = 120

    @classmethod
    def of(cls, config: WebConfig) -> IngestLimits:
        return cls(
            max_probes_per_device=config.max_probes_per_device,
            max_readings_per_minute=config.max_readings_per_minute,
            max_events_per_minute=config.max_events_per_minute,
        )


class OverAllowance(Exception):
    """A device sent more than its allowance; nothing of it was stored."""


class Recorder:
    def __init__(self, hub: DeviceHub, config: WebConfig | None = None) -> None:
        self.hub = hub
        self.store = hub.store
        self.limits = IngestLimits() if config is None else IngestLimits.of(config)
        hub.max_probes = self.limits.max_probes_per_device
        # A catch-up page never holds more than a minute's allowance.
        self._page_limit = min(PAGE_LIMIT, self.limits.max_readings_per_minute)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._readings_allowance: dict[str, PerMinute] = {}
        self._events_allowance: dict[str, PerMinute] = {}
        self._probes: dict[str, set[str]] = {}
        self._log = ThrottledLog(_LOGGER)
        # Links whose ``connected`` event waits for their first state (its time).
        self._connecting: dict[str, DeviceLink] = {}
        # The stored cursor per linked device, as this recorder last wrote or read it:
        # a push then costs one store call, not two. Only this process writes a
        # linked device's cursor (under its lock); a new link reads it from the
        # store again (with Redis the device may have been on another process).
        self._cursors: dict[str, str | None] = {}

    def _valid(self, device: str) -> bool:
        if sanitize.is_id(device):
            return True
        self._log.warning("bad-id", "ignoring data for the invalid device id %r", device[:80])
        return False

    def _stamp(self, device: str, text: str | None) -> datetime:
        """A time the daemon sent, else now by its clock (also for one far from ours)."""
        sent = sanitize.stamp(text, now())
        return self.hub.device_time(device) if sent is None else sent

    # -- connection ----------------------------------------------------------

    async def connected(self, device: str, link: DeviceLink, info: DeviceInfo | None) -> None:
        """Mark the device online; InvalidDeviceData (nothing attached) for a bad id."""
        self._cursors.pop(device, None)
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
        if not sanitize.is_id(previous):
            previous = None  # one stored before boot ids were checked
        data = {"link": link.kind, "boot_id": boot, "previous_boot_id": previous}
        await self._event(Event(device, when, EventKind.CONNECTED, data))

    async def disconnected(self, device: str, link: DeviceLink) -> None:
        if not self._valid(device):
            return
        self._cursors.pop(device, None)
        if await self.hub.detach(device, link):
            when = self.hub.device_time(device)
            await self._record_connected(device, when)  # a link that never sent a state
            await self._event(Event(device, when, EventKind.DISCONNECTED, {"link": link.kind}))

    # -- readings ------------------------------------------------------------

    async def catch_up(self, device: str, link: DeviceLink) -> int:
        """Fetch every reading after the stored cursor; returns how many were new."""
        if not self._valid(device):
            return 0
        async with self._locks[device]:
            return await self._catch_up(device, link)

    async def _catch_up(self, device: str, link: DeviceLink) -> int:
        added = 0
        cursor = await self.store.get_cursor(device)
        for _ in range(MAX_CATCH_UP_PAGES):
            try:
                # Built in here: a stored cursor the model refuses is refetched like
                # one the daemon does not know.
                request = ReadingsSince(cursor=cursor, limit=self._page_limit)
                answer = await link.call(request.NAME, request.to_dict())
            except BeerPiRequestError as err:
                if err.code != "invalid_argument" or cursor is None:
                    raise
                # A cursor from another outbox (the daemon's data dir was reset):
                # start again from its oldest reading; storing is idempotent.
                _LOGGER.warning("%s: cursor %s unknown to the daemon; refetching", device, cursor)
                cursor = None
                continue
            page = self._at_most_a_page(device, ReadingsPage.from_dict(answer))
            if page.gap:
                when = self.hub.device_time(device)
                await self._event(Event(device, when, EventKind.GAP, {"after_cursor": cursor}))
            try:
                added += await self._store_page(device, page)
            except OverAllowance as err:
                self._log.warning(f"allowance:{device}", "%s: %s; catching up later", device, err)
                break
            cursor = page.cursor if page.cursor is not None else cursor
            if not page.more or not page.readings:
                break
        return added

    def _at_most_a_page(self, device: str, page: ReadingsPage) -> ReadingsPage:
        """A page cut to the page limit, its cursor moved back to the last reading kept."""
        if len(page.readings) <= self._page_limit:
            return page
        self._log.warning(
            f"page:{device}",
            "%s answered %d readings for a page of %d; keeping %d",
            device,
            len(page.readings),
            self._page_limit,
            self._page_limit,
        )
        kept = page.readings[: self._page_limit]
        return dataclasses.replace(page, readings=kept, cursor=str(kept[-1].seq), more=True)

    async def pushed(self, device: str, page: ReadingsPage, link: DeviceLink) -> int:
        """A ``readings`` push: store it if it follows the cursor, else catch up."""
        if not page.readings or not self._valid(device):
            return 0
        if len(page.readings) > self._page_limit:
            self._log.warning(
                f"batch:{device}",
                "%s pushed %d readings at once (at most %d per batch); fetching them in pages",
                device,
                len(page.readings),
                self._page_limit,
            )
            return await self.catch_up(device, link)
        async with self._locks[device]:
            if device not in self._cursors:
                self._cursors[device] = await self.store.get_cursor(device)
            last = _seq_of(self._cursors[device])
            fresh = ReadingsPage(
                readings=tuple(r for r in page.readings if r.seq > last),
                cursor=page.cursor,
            )
            if not fresh.readings:
                return 0  # already stored (a catch-up got there first)
            if last >= 0 and fresh.readings[0].seq == last + 1:
                try:
                    return await self._store_page(device, fresh)
                except OverAllowance as err:
                    self._log.warning(
                        f"allowance:{device}", "%s: %s; catching up later", device, err
                    )
                    return 0
            _LOGGER.info(
                "%s: push starts at seq %d, stored cursor is %d; catching up",
                device,
                fresh.readings[0].seq,
                last,
            )
            return await self._catch_up(device, link)

    async def _store_page(self, device: str, page: ReadingsPage) -> int:
        readings = []
        arrived = now()
        for reading in page.readings:
            if not await self._probe_allowed(device, reading.probe):
                continue
            try:
                stored = StoredReading.from_protocol(device, reading)
            except (ValueError, OverflowError) as err:
                self._log.warning(
                    f"unreadable:{device}", "%s: skipping an unreadable reading: %s", device, err
                )
                continue
            try:
                sanitize.reading(reading)
                sanitize.near(stored.timestamp, arrived, f"a reading of probe {reading.probe}")
            except sanitize.InvalidDeviceData as err:
                # Dropped alone: the rest of the page is stored and the cursor moves on.
                self._log.warning(
                    f"implausible:{device}", "%s: refusing a reading: %s", device, err
                )
                continue
            readings.append(stored)
        allowance = self._readings_allowance.get(device)
        if allowance is None:
            allowance = PerMinute(self.limits.max_readings_per_minute)
            self._readings_allowance[device] = allowance
        if not allowance.take(len(readings)):
            raise OverAllowance(
                f"more than {self.limits.max_readings_per_minute} readings a minute"
            )
        cursor = LinkCursor(device, page.cursor) if page.cursor is not None else None
        try:
            added = await self.store.add_readings(readings, cursor=cursor)
        except BaseException:
            self._cursors.pop(device, None)  # not known whether it was written
            raise
        if cursor is not None:
            self._cursors[device] = cursor.cursor
        self.hub.touch(device)
        if readings:
            await self.hub.readings_added(device, readings)
        return added

    async def _probe_allowed(self, device: str, probe: str) -> bool:
        """A valid probe id, and within the device's number of probes."""
        if not sanitize.is_id(probe):
            self._log.warning(f"probe-id:{device}", "%s: refusing probe id %r", device, probe[:80])
            return False
        known = self._probes.get(device)
        if known is None:
            known = set(await self.store.probes(device))
            self._probes[device] = known
        if probe in known:
            return True
        if len(known) >= self.limits.max_probes_per_device:
            self._log.warning(
                f"probes:{device}",
                "%s: refusing readings of probe %s: it already has %d probes (the most allowed)",
                device,
                probe,
                len(known),
            )
            return False
        known.add(probe)
        return True

    # -- state, faults, media ------------------------------------------------

    async def state(self, device: str, state: State) -> None:
        if not self._valid(device):
            return
        sent = state.timestamp
        state = sanitize.state(state, max_probes=self.limits.max_probes_per_device, now=now())
        if sent and state.timestamp is None:
            self._log.warning(
                f"state-time:{device}",
                "%s: ignoring the state's timestamp %r: not a time within %d years of ours",
                device,
                sent[:40],
                sanitize.MAX_CLOCK_SKEW.days // 365,
            )
        previous = await self.hub.set_state(device, state)
        await self._record_connected(device, self._stamp(device, state.timestamp))
        for event in state_events(device, previous, state):
            await self._event(event)

    async def fault(self, device: str, fault: FaultInfo) -> None:
        if not self._valid(device):
            return
        fault = sanitize.fault(fault)
        kind = EventKind.FAULT_RAISED if fault.active else EventKind.FAULT_CLEARED
        await self._event(Event(device, self._stamp(device, fault.since), kind, fault.to_dict()))

    async def media(
        self, device: str, media: MediaInfo, *, announce: bool, record: bool = True
    ) -> StoredMedia | None:
        """Record a photo/video; ``announce`` (a ``photo`` push) also adds a timeline event.

        ``record=False`` only reads it: a video being recorded is listed once its
        ``photo`` push says the file is ready, so no page shows a file that is not there.
        """
        if not self._valid(device):
            return None
        try:
            media = sanitize.media(media)
        except sanitize.InvalidDeviceData as err:
            self._log.warning(f"media:{device}", "%s: refusing media: %s", device, err)
            return None
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
        if not record:
            return stored
        kind = EventKind.VIDEO if stored.kind is MediaKind.VIDEO else EventKind.PHOTO
        # A pushed photo is an event: within the events allowance, or not stored at all.
        if announce and not self._event_allowed(device, kind):
            return None
        await self.store.add_media(stored)
        if announce:
            await self._add_event(Event(device, stored.timestamp, kind, _media_data(media)))
        return stored

    async def _event(self, event: Event) -> None:
        if self._event_allowed(event.device, event.kind):
            await self._add_event(event)

    def _event_allowed(self, device: str, kind: EventKind) -> bool:
        """Take one from the device's events allowance; False (and a warning) if none left."""
        allowance = self._events_allowance.get(device)
        if allowance is None:
            allowance = PerMinute(self.limits.max_events_per_minute)
            self._events_allowance[device] = allowance
        if allowance.take():
            return True
        self._log.warning(
            f"events:{device}",
            "%s: dropping events beyond %d a minute (latest: %s)",
            device,
            self.limits.max_events_per_minute,
            kind,
        )
        return False

    async def _add_event(self, event: Event) -> None:
        await self.store.add_event(event)
        await self.hub.event_added(event)


def _media_data(media: MediaInfo) -> Mapping[str, Any]:
    return {"id": media.id, "content_type": media.content_type, "size": media.size}
