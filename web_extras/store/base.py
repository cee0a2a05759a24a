"""The history store's interface and the records that cross it.

Conventions shared by every implementation (the contract suite checks them):

- Datetimes going in must be timezone-aware (naive ones raise ValueError);
  datetimes coming out are aware and in UTC. Timestamps are kept to the
  millisecond, the precision of a BSON date, so both stores agree on identity.
- Ranges are half-open: ``start`` is included, ``end`` is not.
- A reading is identified by (device, probe, timestamp): storing it twice
  keeps the first copy.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from beerpi_protocol.models import Reading

# More buckets than pixels on any screen is a mistake, and an unbounded GROUP BY
# would let one request make the database return every raw point.
MAX_BUCKETS = 10_000

ROLLUP_PERIOD = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc(value: datetime, name: str = "timestamp") -> datetime:
    """``value`` in UTC, truncated to the millisecond; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def to_millis(value: datetime) -> int:
    """Epoch milliseconds of an aware datetime (exact, no float rounding)."""
    delta = utc(value) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_millis(millis: int) -> datetime:
    return EPOCH + timedelta(milliseconds=millis)


def hour_floor(value: datetime) -> datetime:
    return utc(value).replace(minute=0, second=0, microsecond=0)


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
        stamp = reading.timestamp.replace("Z", "+00:00")
        return cls(device, reading.probe, datetime.fromisoformat(stamp), reading.temperature)


@dataclass(frozen=True, slots=True)
class Bucket:
    """Aggregate of the samples with ``start <= timestamp < end``."""

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


@dataclass(frozen=True, slots=True)
class Partial:
    """min/max/sum/count of one bucket from one source (raw or rolled-up rows)."""

    low: float
    high: float
    total: float
    count: int

    def merge(self, other: Partial) -> Partial:
        return Partial(
            min(self.low, other.low),
            max(self.high, other.high),
            self.total + other.total,
            self.count + other.count,
        )


def combine(grid: Grid, *sources: Iterable[tuple[int, Partial]]) -> list[Bucket]:
    """Merge per-bucket aggregates that the database computed from each source."""
    merged: dict[int, Partial] = {}
    for source in sources:
        for index, part in source:
            seen = merged.get(index)
            merged[index] = part if seen is None else seen.merge(part)
    return [
        grid.bucket(i, p.low, p.high, p.total, p.count)
        for i, p in sorted(merged.items())
        if p.count > 0
    ]


class HistoryStore(Protocol):
    """Readings, events, media metadata and link cursors of every device.

    ``open`` must be awaited before use and ``close`` after; both are idempotent.
    """

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def add_readings(
        self, readings: Iterable[StoredReading], cursor: LinkCursor | None = None
    ) -> int:
        """Store a batch in one round trip; return how many were new.

        Readings already stored (or repeated in the batch) are skipped, as are
        readings older than the rolled-up horizon (see ``rollup``). ``cursor``
        is saved once the batch is stored, so a crash can only replay readings,
        never skip them.
        """
        ...

    async def series(
        self, device: str, probe: str, start: datetime, end: datetime, buckets: int
    ) -> list[Bucket]:
        """``buckets`` equal slices of ``[start, end)``, empty ones omitted.

        Rolled-up hours count in the slice that holds their start.
        """
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

    async def devices(self) -> list[str]: ...

    async def probes(self, device: str) -> list[str]: ...

    async def count(
        self,
        device: str | None = None,
        probe: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> int:
        """How many raw (not rolled-up) readings match."""
        ...

    async def get_cursor(self, device: str) -> str | None: ...

    async def set_cursor(self, device: str, cursor: str | None) -> None: ...

    async def add_event(self, event: Event) -> None: ...

    async def events(self, device: str, start: datetime, end: datetime) -> list[Event]: ...

    async def add_media(self, media: MediaInfo) -> bool:
        """Record a photo or video; False if (device, id) was already known."""
        ...

    async def media(self, device: str, start: datetime, end: datetime) -> list[MediaInfo]: ...

    async def rollup(self, older_than: datetime) -> int:
        """Replace raw readings before ``older_than`` by hourly aggregates.

        Only whole hours are rolled (``older_than`` is floored to the hour). The
        hour's min/max/sum/count are kept, so ``series`` answers as before at
        hourly resolution. Afterwards readings older than that horizon are
        refused, because they can no longer be told apart from ones already
        rolled. Returns how many raw readings were rolled. Runs only when the
        service's retention setting asks for it.
        """
        ...

    async def rolled_until(self) -> datetime | None:
        """The rollup horizon, or None if nothing was ever rolled."""
        ...
