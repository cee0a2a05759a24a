"""What only the MongoDB store needs: crash recovery of its rollups, and migration.

Runs on secantus (an in-process MongoDB emulator, Python 3.11..3.13 only).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from web_extras.store import StoredReading
from web_extras.store.base import LEVELS_MS

pytest.importorskip("pymongo")

from pymongo import AsyncMongoClient

from web_extras.store.mongo import MongoHistoryStore

T0 = datetime(2024, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
_names = itertools.count()


@pytest.fixture
def url(mongo_server: Any) -> str:
    return f"{mongo_server.uri.rstrip('/')}/beerpi_mongo_{next(_names)}?directConnection=true"


async def test_a_crash_between_storing_and_counting_is_repaired_on_open(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = [StoredReading("fv1", "beer", T0 + timedelta(minutes=i), 20.0 + i) for i in range(90)]
    store = MongoHistoryStore(url)
    await store.open()
    try:
        assert await store.add_readings(batch[:30]) == 30

        async def crash(self: MongoHistoryStore, new: list[Any]) -> None:
            raise ConnectionError("the service died here")

        monkeypatch.setattr(MongoHistoryStore, "_count_in_rollups", crash)
        with pytest.raises(ConnectionError):
            await store.add_readings(batch)  # 60 new readings stored, not counted
        monkeypatch.undo()
        assert await store.count() == 90
        # A replay cannot tell they are new: they stay uncounted until recovery.
        assert await store.add_readings(batch) == 0
        [day] = await store.series("fv1", "beer", T0, T0 + DAY, 1)
        assert day.count == 30
    finally:
        await store.close()

    reopened = MongoHistoryStore(url)
    await reopened.open()
    try:
        for n in (1, 4, 24, 144):  # the day, 6 h, 1 h and 10 min levels
            buckets = await reopened.series("fv1", "beer", T0, T0 + DAY, n)
            assert sum(b.count for b in buckets) == 90
            assert (min(b.min for b in buckets), max(b.max for b in buckets)) == (20.0, 109.0)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
        try:
            assert await client.get_default_database()["rollup_journal"].count_documents({}) == 0
        finally:
            await client.close()
    finally:
        await reopened.close()


async def test_two_service_processes_writing_one_probe_count_each_reading_once(url: str) -> None:
    """The README: the rollup upserts commute, so several service processes may write one
    probe. Two stores on one database (as two processes have) write overlapping,
    shuffled batches of one probe at once; every level holds each reading once."""
    rng = random.Random(7)
    readings = [
        StoredReading("fv1", "beer", T0 + timedelta(minutes=i), round(rng.uniform(10, 25), 2))
        for i in range(2 * 1440)
    ]
    batches = [readings[first : first + 300] for first in range(0, len(readings), 200)]
    stores = [MongoHistoryStore(url), MongoHistoryStore(url)]
    for store in stores:
        await store.open()
    try:

        async def write(store: MongoHistoryStore, order: list[list[StoredReading]]) -> int:
            return sum([await store.add_readings(batch) for batch in order])

        # Two writers creating one period's document at once: the unique index makes the
        # loser's insert fail (and update instead) where a second document would count twice.
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
        try:
            indexes = await client.get_default_database()["rollups"].index_information()
        finally:
            await client.close()
        keys = [("device", 1), ("probe", 1), ("width", 1), ("start", 1)]
        assert any(i["key"] == keys and i.get("unique") for i in indexes.values()), indexes
        orders = [batches, rng.sample(batches, len(batches))]
        added = await asyncio.gather(*(write(st, o) for st, o in zip(stores, orders, strict=True)))
        assert sum(added) == len(readings)
        for n in (2, 8, 48, 288):  # the day, 6 h, 1 h and 10 min levels
            for store in stores:
                buckets = await store.series("fv1", "beer", T0, T0 + 2 * DAY, n)
                width = 2 * DAY / n
                for bucket in buckets:
                    inside = [
                        r.temperature for r in readings if bucket.start <= r.timestamp < bucket.end
                    ]
                    assert bucket.end - bucket.start == width
                    assert (bucket.count, bucket.min, bucket.max) == (
                        len(inside),
                        min(inside),
                        max(inside),
                    )
                    assert bucket.mean == pytest.approx(math.fsum(inside) / len(inside))
                assert sum(b.count for b in buckets) == len(readings)
    finally:
        for store in stores:
            await store.close()


# Long on purpose: one user story told end to end (the steps depend on each other); splitting it
# would hide the story.
async def test_a_database_from_before_rollups_gets_every_level(url: str) -> None:
    """Hours the old retention rolled up count as one 10-minute row at the hour's start."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    try:
        db = client.get_default_database()
        await db["readings_hourly"].insert_many(
            [
                {
                    "device": "fv1",
                    "probe": "beer",
                    "hour": T0 + timedelta(hours=h),
                    "min": 10.0 + h,
                    "max": 20.0 + h,
                    "sum": 60 * (15.0 + h),
                    "count": 60,
                }
                for h in range(3)
            ]
        )
        await db["readings"].insert_many(
            [
                {
                    "device": "fv1",
                    "probe": "beer",
                    "timestamp": T0 + timedelta(hours=3, minutes=i),
                    "temperature": float(i),
                }
                for i in range(120)
            ]
        )
        await db["settings"].insert_one({"_id": "rolled_until", "value": T0 + timedelta(hours=3)})
    finally:
        await client.close()

    store = MongoHistoryStore(url)
    await store.open()
    try:
        hours = await store.series("fv1", "beer", T0, T0 + timedelta(hours=5), 5)
        assert [(b.min, b.max, b.count) for b in hours] == [
            (10.0, 20.0, 60),
            (11.0, 21.0, 60),
            (12.0, 22.0, 60),
            (0.0, 59.0, 60),
            (60.0, 119.0, 60),
        ]
        [day] = await store.series("fv1", "beer", T0, T0 + DAY, 1)
        assert (day.count, day.min, day.max) == (300, 0.0, 119.0)
        assert await store.raw_horizon() == T0 + timedelta(hours=3)
        # New readings count on top of the migrated rollups, once.
        late = StoredReading("fv1", "beer", T0 + timedelta(hours=6), -3.0)
        assert await store.add_readings([late, late]) == 1
        [day] = await store.series("fv1", "beer", T0, T0 + DAY, 1)
        assert (day.count, day.min) == (301, -3.0)
    finally:
        await store.close()

    client = AsyncMongoClient(url, tz_aware=True)
    try:
        db = client.get_default_database()
        assert "readings_hourly" not in await db.list_collection_names()
        for width in LEVELS_MS:
            rows = [d async for d in db["rollups"].find({"width": width})]
            assert sum(d["count"] for d in rows) == 301, width
    finally:
        await client.close()


async def test_readings_no_probe_gives_and_their_rollups_are_repaired(url: str) -> None:
    """A database written before readings were checked: a device's two 1e308 readings
    overflowed its rollups to Infinity. On open they go and the day is summed again; an
    impossible rollup below the raw horizon, with no readings left, goes too."""
    day = T0 + DAY
    store = MongoHistoryStore(url)
    await store.open()
    try:
        good = [
            StoredReading("fv1", "beer", day + timedelta(minutes=i), 18.0 + i / 100)
            for i in range(60)
        ]
        assert await store.add_readings(good) == 60
    finally:
        await store.close()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    try:
        db = client.get_default_database()
        bad = [day + timedelta(seconds=90), day + timedelta(seconds=150)]
        await db["readings"].insert_many(
            [{"device": "fv1", "probe": "beer", "timestamp": t, "temperature": 1e308} for t in bad]
        )
        await db["rollups"].update_many(
            {"device": "fv1"},
            {"$set": {"max": 1e308, "sum": float("inf")}, "$inc": {"count": 2}},
        )
        below = {"device": "fv1", "probe": "beer", "width": LEVELS_MS[0]}
        await db["rollups"].insert_many(
            [
                {**below, "start": T0, "min": 18.0, "max": 1e308, "sum": 1e308, "count": 2},
                {
                    **below,
                    "start": T0 + timedelta(minutes=10),
                    "min": 17.0,
                    "max": 19.0,
                    "sum": 36.0,
                    "count": 2,
                },
            ]
        )
        await db["settings"].update_one(
            {"_id": "rolled_until"}, {"$set": {"value": day}}, upsert=True
        )
        await db["settings"].delete_one({"_id": "repaired"})  # as before the repair existed
    finally:
        await client.close()

    store = MongoHistoryStore(url)
    await store.open()
    try:
        for buckets in (1, 4, 24, 144):  # the day, 6 h, 1 h and 10 min levels
            series = await store.series("fv1", "beer", day, day + DAY, buckets)
            assert sum(b.count for b in series) == 60, buckets
            assert min(b.min for b in series) == 18.0
            assert max(b.max for b in series) == pytest.approx(18.59)
        assert await store.count() == 60
        [kept] = await store.series("fv1", "beer", T0, T0 + DAY, 1)
        assert (kept.count, kept.min, kept.max) == (2, 17.0, 19.0)
        late = StoredReading("fv1", "beer", day + timedelta(hours=2), 20.0)
        assert await store.add_readings([late]) == 1
        [whole] = await store.series("fv1", "beer", day, day + DAY, 1)
        assert whole.count == 61
    finally:
        await store.close()
    # Once: the database marks it done in `settings` (the README), so later opens skip it.
    client = AsyncMongoClient(url, tz_aware=True)
    try:
        assert await client.get_default_database()["settings"].find_one({"_id": "repaired"})
    finally:
        await client.close()
