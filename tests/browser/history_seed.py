"""Histories for the trend page's browser tests, written straight into a SQLite store.

Each device tells one story (outages with their causes, a target switched off
and on, markers crowding one spot, a brand-new device, a year of readings); the
web service then serves them with no daemon linked. Loaded with the store's bulk
``add_points``, so a year of minutes for two probes takes seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from web_extras.store import Event, EventKind, MediaInfo, MediaKind
from web_extras.store.base import to_millis
from web_extras.store.sqlite import SqliteHistoryStore

MIN = timedelta(minutes=1)
H = timedelta(hours=1)
STORY = "fv-story"
TARGET = "fv-target"
NEW = "fv-new"
YEAR = "fv-year"


@dataclass
class Seeded:
    now: datetime
    # (start, end, cause) of each outage told in the STORY device.
    outages: list[tuple[datetime, datetime, str]] = field(default_factory=list)
    marker_kinds: set[str] = field(default_factory=set)


def minutes(first: datetime, last: datetime) -> list[int]:
    step = to_millis(first + MIN) - to_millis(first)
    return list(range(to_millis(first), to_millis(last), step))


def wave(ms: int, phase: float = 0.0) -> float:
    return round(19.0 + 1.5 * math.sin(ms / 3_600_000 / 3 + phase), 3)


async def _readings(store: SqliteHistoryStore, device: str, times: list[int]) -> None:
    for phase, probe in enumerate(("beer", "fridge")):
        await store.add_points(device, probe, ((ms, wave(ms, phase)) for ms in times))


def _connected(device: str, when: datetime, boot: str, before: str | None) -> Event:
    data: dict[str, Any] = {"link": "dial-in", "boot_id": boot, "previous_boot_id": before}
    return Event(device, when, EventKind.CONNECTED, data)


async def seed(path: Path, *, year: bool) -> Seeded:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    seeded = Seeded(now)
    store = SqliteHistoryStore(path)
    await store.open()
    try:
        await _story(store, seeded)
        await _target(store, now)
        await _readings(store, NEW, minutes(now - 3 * H, now))
        if year:
            await _readings(store, YEAR, minutes(now - timedelta(days=365), now))
    finally:
        await store.close()
    return seeded


# Long on purpose: two days of history as one story (power cut, restart, silence, link drop); the
# times are relative to each other and read best together.
async def _story(store: SqliteHistoryStore, seeded: Seeded) -> None:
    """Two days with a power cut, a daemon restart, a silent spell and a link drop."""
    now, d = seeded.now, STORY
    start = now - 48 * H
    power, restart, silent = (
        (now - 40 * H, now - 37 * H),
        (now - 30 * H, now - 28 * H),
        (
            now - 20 * H,
            now - 17 * H,
        ),
    )
    times = [
        ms
        for ms in minutes(start, now)
        if not any(to_millis(a) <= ms < to_millis(b) for a, b in (power, restart, silent))
    ]
    await _readings(store, d, times)
    events = [
        _connected(d, start, "boot-1", None),
        Event(d, power[0] + MIN, EventKind.DISCONNECTED, {"link": "dial-in"}),
        _connected(d, power[1] + MIN, "boot-2", "boot-1"),  # the Pi booted again
        Event(d, restart[0] + MIN, EventKind.DISCONNECTED, {"link": "dial-in"}),
        _connected(d, restart[1], "boot-2", "boot-2"),  # only the daemon restarted
        # Silent without a reconnect (the daemon's probes were unplugged, say).
        Event(d, now - 10 * H, EventKind.DISCONNECTED, {"link": "dial-in"}),
        _connected(d, now - 8 * H, "boot-2", "boot-2"),  # readings came from the outbox
        Event(d, now - 12 * H, EventKind.GAP, {"after_cursor": "100"}),
        Event(d, now - 14 * H, EventKind.FAULT_RAISED, {"code": "crc", "source": "beer"}),
        Event(d, now - 13 * H, EventKind.FAULT_CLEARED, {"code": "crc", "source": "beer"}),
        Event(d, now - 24 * H, EventKind.PROFILE_STEP, {"profile": "ale", "step": 2}),
    ]
    # Six markers within three minutes: a cluster. Two within a minute: stacked.
    crowd = now - 5 * H
    events += [
        Event(d, crowd + 20 * timedelta(seconds=1), EventKind.FAULT_RAISED, {"code": "stuck"}),
        Event(d, crowd + 50 * timedelta(seconds=1), EventKind.FAULT_CLEARED, {"code": "stuck"}),
        Event(d, crowd + 90 * timedelta(seconds=1), EventKind.PROFILE_STEP, {"step": 3}),
    ]
    media = [
        MediaInfo(d, "p1", crowd, MediaKind.PHOTO, "image/jpeg", 10, "x"),
        MediaInfo(
            d, "p2", crowd + 40 * timedelta(seconds=1), MediaKind.PHOTO, "image/jpeg", 10, "x"
        ),
        MediaInfo(
            d, "v1", crowd + 150 * timedelta(seconds=1), MediaKind.VIDEO, "video/mp4", 10, "x"
        ),
        MediaInfo(d, "p3", now - 3 * H, MediaKind.PHOTO, "image/jpeg", 10, "x"),
        MediaInfo(
            d, "v2", now - 3 * H + 30 * timedelta(seconds=1), MediaKind.VIDEO, "video/mp4", 10, "x"
        ),
    ]
    for event in events:
        await store.add_event(event)
    for item in media:
        await store.add_media(item)
    seeded.outages = [
        (*power, "power_lost"),
        (*restart, "restarted"),
        (*silent, "offline"),
        (now - 10 * H, now - 8 * H, "offline"),  # the link only
    ]
    seeded.marker_kinds = {e.kind.value for e in events} | {m.kind.value for m in media}


async def _target(store: SqliteHistoryStore, now: datetime) -> None:
    """Six hours: target 18, then 19, switched off for an hour, on again, then 20.5."""
    d = TARGET
    await _readings(store, d, minutes(now - 6 * H, now))
    for event in (
        Event(d, now - 5 * H, EventKind.TARGET, {"target": 19.0, "previous": 18.0}),
        Event(d, now - 4 * H, EventKind.MODE, {"mode": "off", "previous": "heat"}),
        Event(d, now - 3 * H, EventKind.MODE, {"mode": "heat", "previous": "off"}),
        Event(d, now - 2 * H, EventKind.TARGET, {"target": 20.5, "previous": 19.0}),
    ):
        await store.add_event(event)
