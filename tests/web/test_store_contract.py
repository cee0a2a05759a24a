"""The history store contract, run against SQLite and MongoDB alike.

Ranges are half-open everywhere: ``start <= t < end``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from beerpi_protocol.models import Reading
from web_extras.store import (
    MAX_BUCKETS,
    Bucket,
    Event,
    EventKind,
    HistoryStore,
    LinkCursor,
    MediaInfo,
    MediaKind,
    StoredReading,
)
from web_extras.store.base import from_millis, to_millis

StoreFactory = Callable[[], HistoryStore]

T0 = datetime(2024, 3, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def minutes(n: int, device: str = "fv1", probe: str = "beer") -> list[StoredReading]:
    """One reading a minute from T0, temperature = minute index."""
    return [StoredReading(device, probe, T0 + i * MINUTE, float(i)) for i in range(n)]


def is_utc(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0)


async def collect(store: HistoryStore, *args: object, **kwargs: object) -> list[StoredReading]:
    return [r async for r in store.raw(*args, **kwargs)]  # type: ignore[arg-type]


# -- idempotent writes -------------------------------------------------------


async def test_same_batch_twice_is_stored_once(store: HistoryStore) -> None:
    batch = minutes(50)
    assert await store.add_readings(batch) == 50
    assert await store.add_readings(batch) == 0
    assert await store.count() == 50


async def test_duplicates_inside_one_batch(store: HistoryStore) -> None:
    a, b = minutes(2)
    assert await store.add_readings([a, a, b, a]) == 2
    assert await store.count(device="fv1", probe="beer") == 2


async def test_overlapping_batch_counts_only_new(store: HistoryStore) -> None:
    batch = minutes(30)
    await store.add_readings(batch[:20])
    assert await store.add_readings(batch[10:]) == 10


async def test_first_copy_wins_and_identity_is_the_instant(store: HistoryStore) -> None:
    first = StoredReading("fv1", "beer", T0, 20.0)
    plus_two = timezone(timedelta(hours=2))
    same_instant = StoredReading("fv1", "beer", T0.astimezone(plus_two), 25.0)
    assert await store.add_readings([first]) == 1
    assert await store.add_readings([same_instant]) == 0
    [kept] = await collect(store, "fv1", "beer", T0, T0 + MINUTE)
    assert kept == first


async def test_identity_includes_device_and_probe(store: HistoryStore) -> None:
    batch = [StoredReading(d, p, T0, 20.0) for d in ("fv1", "fv2") for p in ("beer", "fridge")]
    assert await store.add_readings(batch) == 4


async def test_empty_batch(store: HistoryStore) -> None:
    assert await store.add_readings([]) == 0


async def test_milliseconds_are_kept_and_microseconds_dropped(store: HistoryStore) -> None:
    at = T0 + timedelta(milliseconds=1, microseconds=999)
    await store.add_readings([StoredReading("fv1", "beer", at, 20.0)])
    same_ms = StoredReading("fv1", "beer", at.replace(microsecond=1000), 1.0)
    assert await store.add_readings([same_ms]) == 0
    [got] = await collect(store, "fv1", "beer", T0, T0 + MINUTE)
    assert got.timestamp == T0 + timedelta(milliseconds=1)


# -- series ------------------------------------------------------------------


async def test_series_math(store: HistoryStore) -> None:
    await store.add_readings(minutes(60))
    buckets = await store.series("fv1", "beer", T0, T0 + HOUR, 6)
    assert buckets == [
        Bucket(
            T0 + 10 * k * MINUTE,
            T0 + 10 * (k + 1) * MINUTE,
            10.0 * k,
            10.0 * k + 4.5,
            10.0 * k + 9,
            10,
        )
        for k in range(6)
    ]
    assert all(is_utc(b.start) and is_utc(b.end) for b in buckets)


async def test_series_single_bucket_matches_a_python_reduction(store: HistoryStore) -> None:
    rng = random.Random(6)
    temps = [rng.uniform(-2.0, 30.0) for _ in range(500)]
    batch = [StoredReading("fv1", "beer", T0 + i * MINUTE, t) for i, t in enumerate(temps)]
    await store.add_readings(batch)
    [bucket] = await store.series("fv1", "beer", T0, T0 + 500 * MINUTE, 1)
    assert bucket.count == 500
    assert bucket.min == min(temps)
    assert bucket.max == max(temps)
    assert bucket.mean == pytest.approx(math.fsum(temps) / 500)


async def test_series_edges_are_half_open(store: HistoryStore) -> None:
    await store.add_readings(minutes(61))  # minute 60 sits exactly on the end
    buckets = await store.series("fv1", "beer", T0, T0 + HOUR, 2)
    assert [b.count for b in buckets] == [30, 30]
    assert buckets[1].max == 59.0
    # A reading exactly on a bucket boundary belongs to the later bucket.
    buckets = await store.series("fv1", "beer", T0 + MINUTE, T0 + 3 * MINUTE, 2)
    assert [(b.start, b.min) for b in buckets] == [(T0 + MINUTE, 1.0), (T0 + 2 * MINUTE, 2.0)]


async def test_series_omits_empty_buckets(store: HistoryStore) -> None:
    readings = minutes(60)
    await store.add_readings(readings[:10] + readings[50:])
    buckets = await store.series("fv1", "beer", T0, T0 + HOUR, 6)
    assert [b.start for b in buckets] == [T0, T0 + 50 * MINUTE]


async def test_series_uneven_width_last_bucket_ends_at_end(store: HistoryStore) -> None:
    await store.add_readings(minutes(10))
    end = T0 + 10 * MINUTE
    buckets = await store.series("fv1", "beer", T0, end, 3)  # 200 s wide each
    assert [b.count for b in buckets] == [4, 3, 3]
    assert buckets[-1].end == end
    buckets = await store.series("fv1", "beer", T0, T0 + timedelta(milliseconds=100), 3)
    assert buckets[0].end == T0 + timedelta(milliseconds=34)
    # More buckets than milliseconds: each bucket is one millisecond.
    buckets = await store.series("fv1", "beer", T0, T0 + timedelta(milliseconds=5), 50)
    assert len(buckets) == 1


async def test_series_of_nothing(store: HistoryStore) -> None:
    await store.add_readings(minutes(10))
    assert await store.series("fv1", "beer", T0 + HOUR, T0 + 2 * HOUR, 10) == []
    assert await store.series("fv1", "nope", T0, T0 + HOUR, 10) == []
    assert await store.series("nope", "beer", T0, T0 + HOUR, 10) == []


async def test_series_keeps_probes_and_devices_apart(store: HistoryStore) -> None:
    await store.add_readings(minutes(10) + minutes(10, probe="fridge") + minutes(5, device="fv2"))
    [fv1] = await store.series("fv1", "beer", T0, T0 + HOUR, 1)
    [fv2] = await store.series("fv2", "beer", T0, T0 + HOUR, 1)
    assert (fv1.count, fv2.count) == (10, 5)


@pytest.mark.parametrize("buckets", [0, -1, MAX_BUCKETS + 1, 10**9, True, 1.5])
async def test_series_refuses_bad_bucket_counts(store: HistoryStore, buckets: object) -> None:
    with pytest.raises(ValueError, match="buckets"):
        await store.series("fv1", "beer", T0, T0 + HOUR, buckets)  # type: ignore[arg-type]


async def test_series_refuses_naive_and_reversed_ranges(store: HistoryStore) -> None:
    naive = datetime(2024, 3, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.series("fv1", "beer", naive, T0 + HOUR, 10)
    with pytest.raises(ValueError, match="after start"):
        await store.series("fv1", "beer", T0, T0, 10)
    with pytest.raises(ValueError, match="after start"):
        await store.series("fv1", "beer", T0 + HOUR, T0, 10)


# -- raw export --------------------------------------------------------------


async def test_raw_is_ordered_limited_and_half_open(store: HistoryStore) -> None:
    batch = minutes(100)
    random.Random(1).shuffle(batch)
    await store.add_readings(batch)
    got = await collect(store, "fv1", "beer", T0 + 10 * MINUTE, T0 + 20 * MINUTE)
    assert [r.temperature for r in got] == [float(i) for i in range(10, 20)]
    assert all(is_utc(r.timestamp) for r in got)
    limited = await collect(store, "fv1", "beer", T0, T0 + HOUR, limit=5)
    assert [r.temperature for r in limited] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert await collect(store, "fv1", "beer", T0, T0 + HOUR, limit=0) == []
    assert await collect(store, "fv1", "other", T0, T0 + HOUR) == []


async def test_raw_streams_past_one_page(store: HistoryStore) -> None:
    await store.add_readings(minutes(4500))
    got = await collect(store, "fv1", "beer", T0, T0 + 4500 * MINUTE)
    assert [r.temperature for r in got] == [float(i) for i in range(4500)]
    limited = await collect(store, "fv1", "beer", T0, T0 + 4500 * MINUTE, limit=2345)
    assert len(limited) == 2345
    assert limited[-1].temperature == 2344.0


async def test_raw_refuses_bad_input(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await collect(store, "fv1", "beer", T0, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="limit"):
        await collect(store, "fv1", "beer", T0, T0 + HOUR, limit=-1)


# -- latest, devices, probes, count ------------------------------------------


async def test_latest_devices_probes_and_count(store: HistoryStore) -> None:
    assert await store.devices() == []
    assert await store.latest("fv1") == {}
    await store.add_readings(minutes(10) + minutes(3, probe="fridge") + minutes(2, device="fv2"))
    latest = await store.latest("fv1")
    assert latest == {
        "beer": StoredReading("fv1", "beer", T0 + 9 * MINUTE, 9.0),
        "fridge": StoredReading("fv1", "fridge", T0 + 2 * MINUTE, 2.0),
    }
    assert all(is_utc(r.timestamp) for r in latest.values())
    assert await store.devices() == ["fv1", "fv2"]
    assert await store.probes("fv1") == ["beer", "fridge"]
    assert await store.probes("nope") == []
    assert await store.count() == 15
    assert await store.count(device="fv1") == 13
    assert await store.count(probe="beer") == 12
    assert await store.count("fv1", "beer", start=T0 + 5 * MINUTE) == 5
    assert await store.count("fv1", "beer", T0 + MINUTE, T0 + 3 * MINUTE) == 2


# -- link cursors ------------------------------------------------------------


async def test_cursors(store: HistoryStore, make_store: StoreFactory) -> None:
    assert await store.get_cursor("fv1") is None
    await store.set_cursor("fv1", "10")
    await store.set_cursor("fv1", "42")
    await store.set_cursor("fv2", "7")
    assert await store.add_readings(minutes(3), cursor=LinkCursor("fv3", "3")) == 3
    # The cursor moves even when every reading was already stored.
    assert await store.add_readings(minutes(3), cursor=LinkCursor("fv3", "4")) == 0
    await store.set_cursor("fv2", None)
    reopened = make_store()
    await reopened.open()
    try:
        assert await reopened.get_cursor("fv1") == "42"
        assert await reopened.get_cursor("fv2") is None
        assert await reopened.get_cursor("fv3") == "4"
    finally:
        await reopened.close()


# -- events and media --------------------------------------------------------


async def test_events(store: HistoryStore) -> None:
    relay = Event("fv1", T0 + 2 * MINUTE, EventKind.RELAY, {"relay": "heater", "on": True})
    fault = Event("fv1", T0, "fault_raised", {"probe": "beer", "fault": "reset_85"})  # type: ignore[arg-type]
    target = Event("fv1", T0 + MINUTE, EventKind.TARGET, {"target": 19.5})
    for event in (relay, fault, target, Event("fv2", T0, EventKind.MODE, {"mode": "heat"})):
        await store.add_event(event)
    got = await store.events("fv1", T0, T0 + HOUR)
    assert got == [fault, target, relay]
    assert got[0].kind is EventKind.FAULT_RAISED
    assert all(is_utc(e.timestamp) for e in got)
    assert await store.events("fv1", T0 + MINUTE, T0 + 2 * MINUTE) == [target]
    kinds = [EventKind.RELAY, EventKind.FAULT_RAISED]
    assert await store.events("fv1", T0, T0 + HOUR, kinds=kinds) == [fault, relay]
    assert await store.events("fv1", T0, T0 + HOUR, kinds=[]) == []


async def test_last_event_of_a_kind(store: HistoryStore) -> None:
    def connected(minute: int, boot: str) -> Event:
        return Event("fv1", T0 + minute * MINUTE, EventKind.CONNECTED, {"boot_id": boot})

    for event in (connected(1, "a"), connected(5, "b"), connected(9, "c")):
        await store.add_event(event)
    await store.add_event(Event("fv1", T0 + 7 * MINUTE, EventKind.DISCONNECTED, {}))
    assert await store.last_event("fv1", EventKind.CONNECTED, T0 + 9 * MINUTE) == connected(5, "b")
    assert await store.last_event("fv1", EventKind.CONNECTED, T0 + HOUR) == connected(9, "c")
    assert await store.last_event("fv1", EventKind.CONNECTED, T0 + MINUTE) is None
    assert await store.last_event("fv2", EventKind.CONNECTED, T0 + HOUR) is None


def test_events_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="EventKind"):
        Event("fv1", T0, "exploded", {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        Event("fv1", datetime(2024, 1, 1), EventKind.RELAY, {})
    with pytest.raises(ValueError, match="JSON"):
        Event("fv1", T0, EventKind.RELAY, {"at": T0})
    with pytest.raises(ValueError, match="JSON"):
        Event("fv1", T0, EventKind.TARGET, {"target": math.nan})


async def test_media(store: HistoryStore) -> None:
    photo = MediaInfo("fv1", "p1", T0 + MINUTE, MediaKind.PHOTO, "image/jpeg", 1234, "fv1/p1.jpg")
    video = MediaInfo("fv1", "v1", T0, "video", "video/mp4", 99, "fv1/v1.mp4")  # type: ignore[arg-type]
    assert await store.add_media(photo)
    assert await store.add_media(video)
    assert not await store.add_media(photo)
    assert await store.add_media(MediaInfo("fv2", "p1", T0, "photo", "image/jpeg", 1, "x"))  # type: ignore[arg-type]
    got = await store.media("fv1", T0, T0 + HOUR)
    assert got == [video, photo]
    assert all(is_utc(m.timestamp) for m in got)
    assert await store.media("fv1", T0 + MINUTE, T0 + HOUR) == [photo]
    with pytest.raises(ValueError, match="size"):
        MediaInfo("fv1", "p2", T0, MediaKind.PHOTO, "image/jpeg", -1, "x")


# -- retention ---------------------------------------------------------------


async def test_drop_raw_keeps_the_rollups(store: HistoryStore, make_store: StoreFactory) -> None:
    await store.add_readings(minutes(180) + minutes(180, probe="fridge"))
    before = await store.series("fv1", "beer", T0, T0 + 3 * HOUR, 3)
    ten_minutes = await store.series("fv1", "beer", T0, T0 + 3 * HOUR, 18)
    assert await store.raw_horizon() is None

    # Floored to the hour: the first two whole hours go, the third stays raw.
    assert await store.drop_raw(T0 + 2 * HOUR + 30 * MINUTE) == 240
    assert await store.raw_horizon() == T0 + 2 * HOUR
    assert await store.count(device="fv1") == 120
    assert await collect(store, "fv1", "beer", T0, T0 + 2 * HOUR) == []
    assert await store.series("fv1", "beer", T0, T0 + 3 * HOUR, 3) == before
    # The 10-minute level is kept too, not only hours.
    assert await store.series("fv1", "beer", T0, T0 + 3 * HOUR, 18) == ten_minutes
    assert await store.probes("fv1") == ["beer", "fridge"]

    # Where raw readings are gone, a 10-minute period counts in the bucket of its start.
    [first] = await store.series("fv1", "beer", T0 + 5 * MINUTE, T0 + 15 * MINUTE, 1)
    assert (first.start, first.min, first.max, first.count) == (T0 + 5 * MINUTE, 10.0, 19.0, 10)
    [whole] = await store.series("fv1", "beer", T0, T0 + 3 * HOUR, 1)
    assert (whole.min, whole.mean, whole.max, whole.count) == (0.0, 89.5, 179.0, 180)

    # A reading below the horizon may already be counted in a rollup: refused.
    late = StoredReading("fv1", "beer", T0 + 30 * MINUTE + timedelta(seconds=1), 99.0)
    assert await store.add_readings([late]) == 0
    assert await store.add_points("fv1", "beer", [(to_millis(late.timestamp), 99.0)]) == 0
    assert await store.drop_raw(T0 + HOUR) == 0
    assert await store.series("fv1", "beer", T0, T0 + 3 * HOUR, 3) == before

    reopened = make_store()
    await reopened.open()
    try:
        assert await reopened.raw_horizon() == T0 + 2 * HOUR
        assert await reopened.add_readings([late]) == 0
        assert await reopened.series("fv1", "beer", T0, T0 + 3 * HOUR, 3) == before
    finally:
        await reopened.close()


async def test_drop_raw_of_an_empty_store(store: HistoryStore) -> None:
    assert await store.drop_raw(T0) == 0
    assert await store.series("fv1", "beer", T0 - HOUR, T0 + HOUR, 2) == []


async def test_drop_raw_refuses_naive_datetimes(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.drop_raw(datetime(2024, 1, 1))


# -- rollups kept at ingest ----------------------------------------------------


def reduce(readings: list[StoredReading], start: datetime, end: datetime, n: int) -> list[Bucket]:
    """What series() must answer, computed in Python from the readings."""
    width = (end - start) / n
    slots: dict[int, list[float]] = {}
    for r in readings:
        if start <= r.timestamp < end:
            slots.setdefault(int((r.timestamp - start) / width), []).append(r.temperature)
    return [
        Bucket(
            start + i * width,
            start + (i + 1) * width,
            min(v),
            math.fsum(v) / len(v),
            max(v),
            len(v),
        )
        for i, v in sorted(slots.items())
    ]


def same(got: list[Bucket], want: list[Bucket]) -> None:
    assert [(b.start, b.end, b.min, b.max, b.count) for b in got] == [
        (b.start, b.end, b.min, b.max, b.count) for b in want
    ]
    assert [b.mean for b in got] == pytest.approx([b.mean for b in want])


def signal(n: int, probe: str = "beer", seed: int = 3) -> list[StoredReading]:
    rng = random.Random(seed)
    return [
        StoredReading("fv1", probe, T0 + i * MINUTE, round(rng.uniform(10.0, 25.0), 2))
        for i in range(n)
    ]


async def test_replayed_and_overlapping_batches_count_once_in_every_level(
    store: HistoryStore,
) -> None:
    """Batches that repeat, overlap and arrive out of order, as a reconnecting link sends them."""
    readings = signal(3 * 1440)
    order = list(range(0, len(readings), 250))
    random.Random(4).shuffle(order)
    added = 0
    for first in order:
        added += await store.add_readings(readings[first : first + 400])  # overlaps the next
        added += await store.add_readings(readings[first : first + 100])  # a replay
    assert added == len(readings) == await store.count()
    day = 1440 * MINUTE
    # One bucket per 10 min, hour, 6 h and day: each level on its own, aligned.
    for n in (432, 72, 12, 3):
        same(
            await store.series("fv1", "beer", T0, T0 + 3 * day, n),
            reduce(readings, T0, T0 + 3 * day, n),
        )


async def test_a_batch_mixing_stored_and_new_readings_counts_only_the_new(
    store: HistoryStore,
) -> None:
    readings = signal(600)
    assert await store.add_readings(readings[::2]) == 300
    assert await store.add_readings(readings) == 300
    assert (
        await store.add_points("fv1", "beer", [(to_millis(r.timestamp), 0.0) for r in readings])
        == 0
    )
    [hours] = await store.series("fv1", "beer", T0, T0 + 10 * HOUR, 1)
    assert hours.count == 600
    assert hours.mean == pytest.approx(math.fsum(r.temperature for r in readings) / 600)


async def test_series_edges_are_exact_on_an_unaligned_range(store: HistoryStore) -> None:
    """Every reading inside the range counts once, none outside, whatever the levels read.

    (Inside the range a rollup period counts in the bucket holding its start.)
    """
    readings = signal(4 * 1440)
    await store.add_points(
        "fv1", "beer", [(to_millis(r.timestamp), r.temperature) for r in readings]
    )
    start = T0 + 7 * HOUR + 13 * MINUTE + timedelta(seconds=30)
    end = T0 + 3 * 1440 * MINUTE + 5 * HOUR + 47 * MINUTE
    inside = [r.temperature for r in readings if start <= r.timestamp < end]
    # 6 h, 1 h and 10 min levels in the middle, finer at the edges; with 20 and 100
    # buckets SQLite groups a level's periods (3 and 4.5 per bucket), with the rest
    # the store merges each bucket's few periods itself.
    for n in (7, 20, 40, 100, 300):
        got = await store.series("fv1", "beer", start, end, n)
        assert (got[0].start, got[-1].end) == (start, end)
        assert sum(b.count for b in got) == len(inside)
        assert min(b.min for b in got) == min(inside)
        assert max(b.max for b in got) == max(inside)
        assert math.fsum(b.mean * b.count for b in got) == pytest.approx(math.fsum(inside))


async def test_series_reads_the_coarsest_level_through_an_index(store: HistoryStore) -> None:
    await store.add_readings(signal(3 * 1440))
    day = 1440 * MINUTE

    async def sources(start: datetime, end: datetime, n: int) -> list[str]:
        plans = await store.explain_series("fv1", "beer", start, end, n)
        for plan in plans:
            # SQLite's EXPLAIN QUERY PLAN, or MongoDB's winning plan.
            if "IXSCAN" in plan or "COLLSCAN" in plan:
                assert "IXSCAN" in plan, plan
                assert "COLLSCAN" not in plan, plan
            else:
                assert "USING PRIMARY KEY" in plan or "USING INDEX" in plan, plan
                assert "SCAN " not in plan.replace("IXSCAN", ""), plan
        return [plan.split(":")[0] for plan in plans]

    # Three days in 3 buckets: whole days from the daily level.
    assert await sources(T0, T0 + 3 * day, 3) == ["rollups width=86400000"]
    # 12 buckets of 6 h; shifted by 5 minutes, the edges come from finer levels and raw.
    shifted = await sources(T0 + 5 * MINUTE, T0 + 3 * day + 5 * MINUTE, 12)
    assert "rollups width=21600000" in shifted
    assert shifted[0] == shifted[-1] == "readings"
    # An hour in 60 one-minute buckets: finer than any level, raw readings only.
    assert await sources(T0, T0 + HOUR, 60) == ["readings"]


async def test_span_runs_from_the_first_to_the_last_reading(store: HistoryStore) -> None:
    assert await store.span("fv1") is None
    await store.add_readings(minutes(90, probe="fridge")[30:] + minutes(200)[150:])
    assert await store.span("fv1") == (T0 + 30 * MINUTE, T0 + 199 * MINUTE)
    await store.drop_raw(T0 + HOUR)
    # The first rolled-up 10 minutes stand for the dropped readings.
    assert await store.span("fv1") == (T0 + 30 * MINUTE, T0 + 199 * MINUTE)
    assert await store.span("nope") is None


async def test_add_points_refuses_bad_points(store: HistoryStore) -> None:
    for bad in [(1.5, 20.0), (True, 20.0), (0, math.nan), (0, "20")]:
        with pytest.raises(ValueError, match=r"timestamp|temperature"):
            await store.add_points("fv1", "beer", [bad])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="probe"):
        await store.add_points("fv1", "", [(0, 20.0)])
    assert await store.count() == 0


def test_millisecond_conversions_are_exact() -> None:
    rng = random.Random(9)
    for millis in [0, -1, 1, 253_402_300_799_999, -62_135_596_800_000] + [
        rng.randrange(-62_135_596_800_000, 253_402_300_799_999) for _ in range(20_000)
    ]:
        assert to_millis(from_millis(millis)) == millis
        assert from_millis(millis) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            milliseconds=millis
        )


# -- readings themselves -----------------------------------------------------


@pytest.mark.parametrize("temperature", [math.nan, math.inf, -math.inf, "20", None, True])
def test_reading_refuses_bad_temperatures(temperature: object) -> None:
    with pytest.raises(ValueError, match="temperature"):
        StoredReading("fv1", "beer", T0, temperature)  # type: ignore[arg-type]


def test_reading_refuses_naive_time_and_empty_names() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        StoredReading("fv1", "beer", datetime(2024, 1, 1), 20.0)
    with pytest.raises(ValueError, match="device"):
        StoredReading("", "beer", T0, 20.0)
    with pytest.raises(ValueError, match="probe"):
        StoredReading("fv1", "", T0, 20.0)


def test_reading_from_the_daemon_outbox() -> None:
    wire = Reading(seq=7, probe="beer", timestamp="2024-03-01T00:01:00.250Z", temperature=19.25)
    reading = StoredReading.from_protocol("fv1", wire)
    at = T0 + timedelta(minutes=1, milliseconds=250)
    assert reading == StoredReading("fv1", "beer", at, 19.25)
    assert is_utc(reading.timestamp)
    naive = Reading(seq=8, probe="beer", timestamp="2024-03-01T00:01:00", temperature=19.0)
    with pytest.raises(ValueError, match="timezone-aware"):
        StoredReading.from_protocol("fv1", naive)
