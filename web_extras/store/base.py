"""The history store's interface and the records that cross it.

Conventions shared by every implementation (the contract suite checks them):

- Datetimes going in must be timezone-aware (naive ones raise ValueError);
  datetimes coming out are aware and in UTC. Timestamps are kept to the
  millisecond, the precision of a BSON date, so both stores agree on identity.
- Ranges are half-open: ``start`` is included, ``end`` is not.
- A reading is identified by (device, probe, timestamp): storing it twice
  keeps the first copy.
- Every reading stored is also counted, in the same write, in min/max/sum/count
  rollups per probe at each of ``LEVELS_MS`` (10 min, 1 h, 6 h, 1 day, aligned
  to UTC midnight). Only readings that were new count, so a replayed batch
  changes nothing. Rollups are kept for ever; retention drops raw readings only.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import AsyncIterator, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from beerpi_protocol.models import Reading
from beerpi_protocol.timestamps import parse_iso

if TYPE_CHECKING:
    from .gravity import GravityReading
    from .profiles import SavedProfile
    from .sessions import BrewSession, SessionNote

# More buckets than pixels on any screen is a mistake, and an unbounded GROUP BY
# would let one request make the database return every raw point.
MAX_BUCKETS = 10_000

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
# Rollup widths, finest first. Each divides the next, so a coarser period is
# whole periods of the finer one. With these a series of N buckets reads at most
# about 6N rollup rows, whatever the range (see ``cover``).
LEVELS_MS = (10 * MINUTE_MS, HOUR_MS, 6 * HOUR_MS, DAY_MS)
# Retention drops raw readings before a whole hour: no 10-minute period is cut.
RAW_DROP_ALIGN_MS = HOUR_MS
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
K = TypeVar("K", bound=Hashable)


def utc(value: datetime, name: str = "timestamp") -> datetime:
    """``value`` in UTC, truncated to the millisecond; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def to_millis(value: datetime) -> int:
    """Epoch milliseconds of an aware datetime (exact, no float rounding)."""
    return utc_millis(utc(value))


def utc_millis(value: datetime) -> int:
    """``to_millis`` of a datetime already through ``utc`` (a StoredReading's timestamp).

    Skips the conversion, which is most of the cost of storing a reading.
    """
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


# Within this many ms of 1970 (years 1843 to 2096), millis / 1000 as a float is
# off by far less than the half microsecond fromtimestamp rounds to.
_FLOAT_EXACT_MS = 4_000_000_000_000


def from_millis(millis: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds (exact; the contract suite checks)."""
    if -_FLOAT_EXACT_MS < millis < _FLOAT_EXACT_MS:
        return datetime.fromtimestamp(millis / 1000, UTC)  # the fast way, for series
    return EPOCH + timedelta(milliseconds=millis)


def floor_ms(value: int, width: int) -> int:
    """Start of the period of ``width`` ms holding ``value`` (also before 1970)."""
    return value - value % width


def _name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = utc(start, "start"), utc(end, "end")
    if end <= start:
        raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
    return start, end


def check_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
    return limit


@dataclass(frozen=True, slots=True)
class StoredReading:
    device: str
    probe: str
    timestamp: datetime
    temperature: float

    def __post_init__(self) -> None:
        _name(self.device, "device")
        _name(self.probe, "probe")
        object.__setattr__(self, "timestamp", utc(self.timestamp))
        temperature = self.temperature
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            raise ValueError(f"temperature must be a number, got {temperature!r}")
        if not math.isfinite(temperature):
            raise ValueError(f"temperature must be finite, got {temperature!r}")
        object.__setattr__(self, "temperature", float(temperature))

    @classmethod
    def from_protocol(cls, device: str, reading: Reading) -> StoredReading:
        """A daemon's outbox reading; its ISO timestamp must carry an offset."""
        return cls(device, reading.probe, parse_iso(reading.timestamp), reading.temperature)


@dataclass(slots=True)
class Bucket:
    """Aggregate of the samples with ``start <= timestamp < end``.

    Not frozen: a series builds up to 10,000 per request, and a frozen
    dataclass's ``__init__`` costs several times as much.
    """

    start: datetime
    end: datetime
    min: float
    mean: float
    max: float
    count: int


class EventKind(StrEnum):
    FAULT_RAISED = "fault_raised"
    FAULT_CLEARED = "fault_cleared"
    RELAY = "relay"
    TARGET = "target"
    MODE = "mode"
    PROFILE_STEP = "profile_step"
    PHOTO = "photo"
    VIDEO = "video"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    # The daemon pruned readings before the service fetched them.
    GAP = "gap"


@dataclass(frozen=True, slots=True)
class Event:
    device: str
    timestamp: datetime
    kind: EventKind
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _name(self.device, "device")
        object.__setattr__(self, "timestamp", utc(self.timestamp))
        object.__setattr__(self, "kind", EventKind(self.kind))
        data = dict(self.data)
        try:
            # Both stores must be able to keep it, and pages get it as JSON.
            json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise ValueError(f"event data must be plain JSON: {err}") from None
        object.__setattr__(self, "data", data)


class MediaKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """Where a photo or video lives; the bytes are the service's business."""

    device: str
    id: str
    timestamp: datetime
    kind: MediaKind
    content_type: str
    size: int
    path: str

    def __post_init__(self) -> None:
        _name(self.device, "device")
        _name(self.id, "id")
        _name(self.content_type, "content_type")
        object.__setattr__(self, "timestamp", utc(self.timestamp))
        object.__setattr__(self, "kind", MediaKind(self.kind))
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise ValueError(f"size must be a non-negative integer, got {self.size!r}")


@dataclass(frozen=True, slots=True)
class LinkCursor:
    """Where the service is in one daemon's outbox (an opaque daemon string)."""

    device: str
    cursor: str | None

    def __post_init__(self) -> None:
        _name(self.device, "device")


@dataclass(frozen=True, slots=True)
class Grid:
    """Fixed-width buckets over ``[start, end)``; the last one may be cut short."""

    start_ms: int
    end_ms: int
    width_ms: int

    @classmethod
    def of(cls, start: datetime, end: datetime, buckets: int) -> Grid:
        if isinstance(buckets, bool) or not isinstance(buckets, int):
            raise ValueError(f"buckets must be an integer, got {buckets!r}")
        if not 1 <= buckets <= MAX_BUCKETS:
            raise ValueError(f"buckets must be between 1 and {MAX_BUCKETS}, got {buckets}")
        start, end = check_range(start, end)
        start_ms, end_ms = to_millis(start), to_millis(end)
        # Ceiling division: every millisecond of the range lands in a bucket < buckets.
        width = -(-(end_ms - start_ms) // buckets)
        return cls(start_ms, end_ms, width)

    @property
    def size(self) -> int:
        """Buckets needed to cover the range (fewer than asked when it is only ms long)."""
        return -(-(self.end_ms - self.start_ms) // self.width_ms)

    def bucket(self, index: int, low: float, high: float, total: float, count: int) -> Bucket:
        start = self.start_ms + index * self.width_ms
        end = min(start + self.width_ms, self.end_ms)
        return Bucket(from_millis(start), from_millis(end), low, total / count, high, count)


# (bucket index, min, max, sum, count) of one bucket from one source (raw or a level).
PartRow = tuple[int, float, float, float, int]


def combine(grid: Grid, *sources: Iterable[PartRow]) -> list[Bucket]:
    """Merge per-bucket aggregates from each source into the grid's buckets.

    A bucket index may come in several rows: from several sources, or from one
    level read without grouping (see SqliteHistoryStore._series_query). The
    rows usually come ordered by index, sources in time order, and merge in
    one pass; any other order is sorted first.
    """
    rows = [row for source in sources for row in source]
    buckets = _ordered_buckets(grid, rows)
    if buckets is None:
        buckets = _ordered_buckets(grid, sorted(rows, key=itemgetter(0)))
        assert buckets is not None
    return buckets


# Past any bucket index: ends _ordered_buckets' last bucket.
_PAST_LAST: PartRow = (sys.maxsize, 0.0, 0.0, 0.0, 0)


def _ordered_buckets(grid: Grid, rows: Iterable[PartRow]) -> list[Bucket] | None:
    """The buckets of rows in bucket-index order (None if they are not)."""
    buckets: list[Bucket] = []
    first, last = from_millis(grid.start_ms), grid.size - 1
    step, end = timedelta(milliseconds=grid.width_ms), from_millis(grid.end_ms)
    after = -1  # index of the bucket whose end was made last, reused as the next start
    after_end = EPOCH
    # The bucket being merged, in locals (a series makes up to 10,000).
    index, low, high, total, count = -1, 0.0, 0.0, 0.0, 0
    for row_index, row_low, row_high, row_total, row_count in chain(rows, (_PAST_LAST,)):
        if row_index == index:
            if row_low < low:
                low = row_low
            if row_high > high:
                high = row_high
            total += row_total
            count += row_count
            continue
        if row_index < index:
            return None
        if count > 0:
            begin = after_end if index == after else first + step * index
            after, after_end = index + 1, end if index >= last else begin + step
            buckets.append(Bucket(begin, after_end, low, total / count, high, int(count)))
        index, low, high, total, count = row_index, row_low, row_high, row_total, row_count
    return buckets


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of a series query: rows of one source with a time in ``[start_ms, end_ms)``.

    ``width`` is the rollup level read (its rows' period starts are the times),
    or None for raw readings.
    """

    width: int | None
    start_ms: int
    end_ms: int


def cover(grid: Grid, raw_from_ms: int | None = None) -> list[Piece]:
    """How to read ``grid``: the fewest rows that still give each bucket's value.

    The coarsest level no wider than a bucket covers the whole periods inside
    the range; finer levels cover what is left at the edges, and raw readings
    the last partial 10 minutes, so the range's edges are exact. A rollup
    period counts in the bucket that holds its start. Before ``raw_from_ms``
    (where retention dropped the raw readings) the finest level stands in for
    raw, counted by its start too.
    """
    usable = [w for w in LEVELS_MS if w <= grid.width_ms]
    pieces: list[Piece] = []

    def split(lo: int, hi: int, levels: list[int]) -> None:
        if lo >= hi:
            return
        if not levels:
            if raw_from_ms is not None and lo < raw_from_ms:
                pieces.append(Piece(LEVELS_MS[0], lo, min(hi, raw_from_ms)))
                lo = raw_from_ms
            if lo < hi:
                pieces.append(Piece(None, lo, hi))
            return
        width, finer = levels[-1], levels[:-1]
        first = -(-lo // width) * width  # the first whole period starts here
        last = hi // width * width  # and the last one ends here
        if first >= last:
            split(lo, hi, finer)
            return
        split(lo, first, finer)
        pieces.append(Piece(width, first, last))
        split(last, hi, finer)

    split(grid.start_ms, grid.end_ms, usable)
    return pieces


Aggregate = list[float]  # [min, max, sum, count]
Delta = tuple[K, int, int, float, float, float, int]  # key, width, start, min, max, sum, count


def level_deltas(points: Iterable[tuple[K, int, float]]) -> list[Delta[K]]:
    """What new (key, epoch ms, °C) points add to each rollup level.

    The 10-minute level is summed from the points, each coarser one from the
    level below it, so a batch costs one pass over its points.
    """
    finest = LEVELS_MS[0]
    level: dict[tuple[K, int], Aggregate] = {}
    for key, ts, value in points:
        slot = (key, ts - ts % finest)
        agg = level.get(slot)
        if agg is None:
            level[slot] = [value, value, value, 1.0]
        else:
            if value < agg[0]:
                agg[0] = value
            elif value > agg[1]:
                agg[1] = value
            agg[2] += value
            agg[3] += 1
    out: list[Delta[K]] = []
    width = finest
    while True:
        out.extend((k, width, s, a[0], a[1], a[2], int(a[3])) for (k, s), a in level.items())
        coarser = [w for w in LEVELS_MS if w > width]
        if not coarser:
            return out
        width = coarser[0]
        up: dict[tuple[K, int], Aggregate] = {}
        for (key, start), agg in level.items():
            slot = (key, start - start % width)
            into = up.get(slot)
            if into is None:
                up[slot] = list(agg)
            else:
                into[0] = min(into[0], agg[0])
                into[1] = max(into[1], agg[1])
                into[2] += agg[2]
                into[3] += agg[3]
        level = up


def check_point(ts: object, temperature: object) -> tuple[int, float]:
    """One (epoch ms, °C) pair of ``add_points``, checked like a StoredReading."""
    if isinstance(ts, bool) or not isinstance(ts, int):
        raise ValueError(f"timestamp must be integer epoch milliseconds, got {ts!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        raise ValueError(f"temperature must be a number, got {temperature!r}")
    if not math.isfinite(temperature):
        raise ValueError(f"temperature must be finite, got {temperature!r}")
    return ts, float(temperature)


class HistoryStore(Protocol):
    """Readings, rollups, events, media metadata and link cursors of every device.

    ``open`` must be awaited before use and ``close`` after; both are idempotent.
    """

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def add_readings(
        self, readings: Iterable[StoredReading], cursor: LinkCursor | None = None
    ) -> int:
        """Store a batch and count it in the rollups; return how many were new.

        Readings already stored (or repeated in the batch) are skipped and not
        counted again, as are readings older than the raw horizon (see
        ``drop_raw``). ``cursor`` is saved once the batch is stored, so a crash
        can only replay readings, never skip them.
        """
        ...

    async def add_points(self, device: str, probe: str, points: Iterable[tuple[int, float]]) -> int:
        """``add_readings`` for bulk loads: (epoch ms, °C) pairs of one probe.

        Same rules (idempotent, rollups, horizon), without building a
        StoredReading per point; for imports, tests and benchmarks.
        """
        ...

    async def series(
        self, device: str, probe: str, start: datetime, end: datetime, buckets: int
    ) -> list[Bucket]:
        """``buckets`` equal slices of ``[start, end)``, empty ones omitted.

        Read as ``cover`` says: the coarsest rollup level no wider than a
        bucket, raw readings only for ranges of under about 10 minutes per bucket
        and at the range's edges.
        """
        ...

    async def explain_series(
        self, device: str, probe: str, start: datetime, end: datetime, buckets: int
    ) -> list[str]:
        """The database's plan for each query ``series`` would run (for tests)."""
        ...

    def raw(
        self,
        device: str,
        probe: str,
        start: datetime,
        end: datetime,
        limit: int | None = None,
    ) -> AsyncIterator[StoredReading]:
        """Raw readings in ``[start, end)`` oldest first, streamed."""
        ...

    async def latest(self, device: str) -> dict[str, StoredReading]:
        """The newest raw reading of each probe of ``device``."""
        ...

    async def span(self, device: str) -> tuple[datetime, datetime] | None:
        """Times of the first and the last reading of any probe, None if none.

        Where retention dropped the raw readings, the first rolled-up
        10-minute period's start stands for the first reading.
        """
        ...

    async def devices(self) -> list[str]: ...

    async def probes(self, device: str) -> list[str]: ...

    async def count(
        self,
        device: str | None = None,
        probe: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> int:
        """How many raw readings match (retention's dropped ones are not counted)."""
        ...

    async def get_cursor(self, device: str) -> str | None: ...

    async def set_cursor(self, device: str, cursor: str | None) -> None: ...

    async def add_event(self, event: Event) -> None: ...

    async def events(
        self,
        device: str,
        start: datetime,
        end: datetime,
        kinds: Collection[EventKind] | None = None,
    ) -> list[Event]:
        """Events in ``[start, end)`` oldest first, only of ``kinds`` when given."""
        ...

    async def last_event(self, device: str, kind: EventKind, before: datetime) -> Event | None:
        """The newest event of ``kind`` strictly before ``before``."""
        ...

    async def add_media(self, media: MediaInfo) -> bool:
        """Record a photo or video; False if (device, id) was already known."""
        ...

    async def media(self, device: str, start: datetime, end: datetime) -> list[MediaInfo]: ...

    async def drop_raw(self, older_than: datetime) -> int:
        """Delete raw readings before ``older_than`` floored to the hour; keep rollups.

        ``series`` answers from the rollups there (periods counted by their
        start). Afterwards readings older than that horizon are refused,
        because the rollups may already count them. Returns how many raw
        readings were dropped. Runs only when the service's retention setting
        asks for it.
        """
        ...

    async def raw_horizon(self) -> datetime | None:
        """Before this no raw readings are kept (None: nothing was ever dropped)."""
        ...

    # Brew sessions (see ``sessions``): never deleted, so nothing typed is lost.

    async def start_session(self, session: BrewSession) -> None:
        """Store a new session; SessionOpen if it runs and its fermenter has a running one.

        A session given with an end (a past batch) is stored without that check.
        """
        ...

    async def get_session(self, session_id: str) -> BrewSession | None: ...

    async def sessions(self, device: str | None = None) -> list[BrewSession]:
        """Sessions of ``device`` (or of all), the latest start first."""
        ...

    async def update_session(self, session: BrewSession) -> BrewSession | None:
        """Replace a session's fields but its notes (None if unknown); returns it as stored.

        Setting ``end`` ends it (its fermenter may then start another). An
        update without an end keeps the stored one: an end is never taken
        back, so an edit racing the end of a session cannot reopen it.
        """
        ...

    async def add_session_note(self, session_id: str, note: SessionNote) -> BrewSession | None:
        """Append a note atomically (None if unknown; ValueError past ``MAX_NOTES``)."""
        ...

    # Saved fermentation profiles (see ``profiles``).

    async def save_profile(self, profile: SavedProfile) -> None:
        """Store a new profile; ProfileNameTaken, or TooManyProfiles past the cap."""
        ...

    async def saved_profiles(self) -> list[SavedProfile]:
        """Every saved profile, by name."""
        ...

    async def get_profile(self, profile_id: str) -> SavedProfile | None: ...

    async def replace_profile(self, profile: SavedProfile) -> SavedProfile | None:
        """Replace the name and steps of profile ``profile.id`` (None if unknown).

        ProfileNameTaken when another profile has the new name.
        """
        ...

    async def delete_profile(self, profile_id: str) -> bool:
        """Forget a saved profile; False if it was not there."""
        ...

    # Gravity from hydrometers (see ``gravity``).

    async def add_gravity(self, readings: Iterable[GravityReading]) -> int:
        """Store gravity readings; return how many were new.

        A reading whose (device, hydrometer, timestamp) is stored already (or
        repeated in the batch) is skipped: the first copy wins. The one entry
        point for iSpindel posts and for a daemon's Tilt readings alike.
        """
        ...

    async def latest_gravity(self, device: str) -> dict[str, GravityReading]:
        """The newest reading of each hydrometer in ``device``."""
        ...

    async def gravity_series(
        self, device: str, hydrometer: str, start: datetime, end: datetime, buckets: int
    ) -> list[Bucket]:
        """SG min/mean/max in ``buckets`` equal slices of ``[start, end)``, empty ones omitted."""
        ...
