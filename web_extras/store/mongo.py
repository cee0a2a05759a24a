"""History in MongoDB through PyMongo's native async client.

Readings live in a regular collection: time-series collections cannot carry the
unique (device, probe, timestamp) index that makes writes idempotent. Each
reading is the seed's document, ``{"timestamp", "temperature"}``, plus
``device`` and ``probe``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from .base import (
    Bucket,
    Event,
    EventKind,
    Grid,
    LinkCursor,
    MediaInfo,
    MediaKind,
    Partial,
    StoredReading,
    check_limit,
    check_range,
    combine,
    from_millis,
    hour_floor,
    utc,
)

Doc = dict[str, Any]
DUPLICATE_KEY = 11000

_INDEXES: dict[str, list[IndexModel]] = {
    "readings": [
        IndexModel(
            [("device", ASCENDING), ("probe", ASCENDING), ("timestamp", ASCENDING)],
            unique=True,
            name="reading_identity",
        ),
        # Rollup scans by time across every device.
        IndexModel([("timestamp", ASCENDING)], name="reading_time"),
    ],
    "readings_hourly": [
        IndexModel(
            [("device", ASCENDING), ("probe", ASCENDING), ("hour", ASCENDING)],
            unique=True,
            name="hour_identity",
        )
    ],
    "events": [IndexModel([("device", ASCENDING), ("timestamp", ASCENDING)], name="event_time")],
    "media": [
        IndexModel([("device", ASCENDING), ("media_id", ASCENDING)], unique=True, name="media_id"),
        IndexModel([("device", ASCENDING), ("timestamp", ASCENDING)], name="media_time"),
    ],
}


class MongoHistoryStore:
    """``url`` names the server; the database is the URL's, else ``database``.

    ``upsert=True`` writes readings as bulk upserts instead of an unordered
    insert that ignores duplicate keys; both are idempotent (see bench/history.py).
    """

    def __init__(self, url: str, database: str = "beerpi", *, upsert: bool = False) -> None:
        self._url = url
        self._database = database
        self._upsert = upsert
        self._client: AsyncMongoClient[Doc] | None = None
        self._db: AsyncDatabase[Doc] | None = None
        self._horizon: datetime | None = None
        # Held by writers of readings and by rollup, so a batch cannot slip
        # under the horizon while an hour is being rolled.
        self._write_lock = asyncio.Lock()

    def _col(self, name: str) -> AsyncCollection[Doc]:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db[name]

    async def open(self) -> None:
        if self._client is not None:
            return
        # Without tz_aware the driver hands back naive datetimes.
        client: AsyncMongoClient[Doc] = AsyncMongoClient(self._url, tz_aware=True)
        try:
            db = client.get_default_database(default=self._database)
            for name, indexes in _INDEXES.items():
                await db[name].create_indexes(indexes)
            setting = await db["settings"].find_one({"_id": "rolled_until"})
        except BaseException:
            await client.close()
            raise
        self._client, self._db = client, db
        self._horizon = None if setting is None else utc(setting["value"])

    async def close(self) -> None:
        client, self._client, self._db = self._client, None, None
        if client is not None:
            await client.close()

    # -- readings -----------------------------------------------------------

    async def add_readings(
        self, readings: Iterable[StoredReading], cursor: LinkCursor | None = None
    ) -> int:
        batch = list(readings)
        async with self._write_lock:
            horizon = self._horizon
            docs = [
                {
                    "device": r.device,
                    "probe": r.probe,
                    "timestamp": r.timestamp,
                    "temperature": r.temperature,
                }
                for r in batch
                if horizon is None or r.timestamp >= horizon
            ]
            added = await (self._upsert_docs(docs) if self._upsert else self._insert_docs(docs))
        # After the readings: a crash in between replays them, it never skips.
        if cursor is not None:
            await self.set_cursor(cursor.device, cursor.cursor)
        return added

    async def _insert_docs(self, docs: list[Doc]) -> int:
        if not docs:
            return 0
        try:
            await self._col("readings").insert_many(docs, ordered=False)
        except BulkWriteError as err:
            errors = err.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors) or err.details.get(
                "writeConcernErrors"
            ):
                raise
            return int(err.details.get("nInserted", 0))
        return len(docs)

    async def _upsert_docs(self, docs: list[Doc]) -> int:
        if not docs:
            return 0
        ops = [
            UpdateOne(
                {"device": d["device"], "probe": d["probe"], "timestamp": d["timestamp"]},
                {"$setOnInsert": {"temperature": d["temperature"]}},
                upsert=True,
            )
            for d in docs
        ]
        try:
            result = await self._col("readings").bulk_write(ops, ordered=False)
        except BulkWriteError as err:
            # Two upserts of one new key in a batch race; the loser reports a
            # duplicate key, which is exactly "already stored".
            errors = err.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return len(err.details.get("upserted", []))
        return result.upserted_count

    async def series(
        self, device: str, probe: str, start: datetime, end: datetime, buckets: int
    ) -> list[Bucket]:
        grid = Grid.of(start, end, buckets)
        raw, rolled = await asyncio.gather(
            self._partials("readings", "timestamp", "temperature", device, probe, grid),
            self._partials("readings_hourly", "hour", None, device, probe, grid),
        )
        return combine(grid, raw, rolled)

    async def _partials(
        self,
        collection: str,
        time_field: str,
        value_field: str | None,
        device: str,
        probe: str,
        grid: Grid,
    ) -> list[tuple[int, Partial]]:
        start, end = from_millis(grid.start_ms), from_millis(grid.end_ms)
        # date - date is a number of milliseconds: floor(offset / width) is the bucket.
        index = {"$floor": {"$divide": [{"$subtract": [f"${time_field}", start]}, grid.width_ms]}}
        group: dict[str, Doc]
        if value_field is None:  # already aggregated hours
            group = {
                "min": {"$min": "$min"},
                "max": {"$max": "$max"},
                "sum": {"$sum": "$sum"},
                "count": {"$sum": "$count"},
            }
        else:
            value = f"${value_field}"
            group = {
                "min": {"$min": value},
                "max": {"$max": value},
                "sum": {"$sum": value},
                "count": {"$sum": 1},
            }
        pipeline: list[Doc] = [
            {"$match": {"device": device, "probe": probe, time_field: {"$gte": start, "$lt": end}}},
            {"$group": {"_id": index, **group}},
        ]
        cursor = await self._col(collection).aggregate(pipeline)
        return [
            (int(d["_id"]), Partial(d["min"], d["max"], d["sum"], int(d["count"])))
            async for d in cursor
        ]

    async def raw(
        self,
        device: str,
        probe: str,
        start: datetime,
        end: datetime,
        limit: int | None = None,
    ) -> AsyncIterator[StoredReading]:
        start, end = check_range(start, end)
        limit = check_limit(limit)
        if limit == 0:  # the driver reads limit 0 as "no limit"
            return
        cursor = (
            self._col("readings")
            .find(
                {"device": device, "probe": probe, "timestamp": {"$gte": start, "$lt": end}},
                {"_id": 0, "timestamp": 1, "temperature": 1},
            )
            .sort("timestamp", ASCENDING)
            .batch_size(2000)
        )
        if limit is not None:
            cursor = cursor.limit(limit)
        async with cursor:
            async for doc in cursor:
                yield StoredReading(device, probe, doc["timestamp"], doc["temperature"])

    async def latest(self, device: str) -> dict[str, StoredReading]:
        readings = self._col("readings")
        found: dict[str, StoredReading] = {}
        for probe in sorted(await readings.distinct("probe", {"device": device})):
            doc = await readings.find_one(
                {"device": device, "probe": probe}, sort=[("timestamp", DESCENDING)]
            )
            if doc is not None:
                found[probe] = StoredReading(device, probe, doc["timestamp"], doc["temperature"])
        return found

    async def _distinct(self, key: str, query: Mapping[str, Any]) -> list[str]:
        values: set[str] = set()
        for name in ("readings", "readings_hourly"):
            values.update(await self._col(name).distinct(key, query))
        return sorted(values)

    async def devices(self) -> list[str]:
        return await self._distinct("device", {})

    async def probes(self, device: str) -> list[str]:
        return await self._distinct("probe", {"device": device})

    async def count(
        self,
        device: str | None = None,
        probe: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> int:
        query: Doc = {}
        if device is not None:
            query["device"] = device
        if probe is not None:
            query["probe"] = probe
        window: Doc = {}
        if start is not None:
            window["$gte"] = utc(start, "start")
        if end is not None:
            window["$lt"] = utc(end, "end")
        if window:
            query["timestamp"] = window
        return await self._col("readings").count_documents(query)

    # -- link cursors -------------------------------------------------------

    async def get_cursor(self, device: str) -> str | None:
        doc = await self._col("links").find_one({"_id": device})
        return None if doc is None else doc.get("cursor")

    async def set_cursor(self, device: str, cursor: str | None) -> None:
        link = LinkCursor(device, cursor)
        await self._col("links").update_one(
            {"_id": link.device}, {"$set": {"cursor": link.cursor}}, upsert=True
        )

    # -- events and media ---------------------------------------------------

    async def add_event(self, event: Event) -> None:
        await self._col("events").insert_one(
            {
                "device": event.device,
                "timestamp": event.timestamp,
                "kind": event.kind.value,
                "data": dict(event.data),
            }
        )

    async def events(self, device: str, start: datetime, end: datetime) -> list[Event]:
        start, end = check_range(start, end)
        cursor = (
            self._col("events")
            .find({"device": device, "timestamp": {"$gte": start, "$lt": end}})
            .sort([("timestamp", ASCENDING), ("_id", ASCENDING)])
        )
        return [
            Event(device, d["timestamp"], EventKind(d["kind"]), d.get("data", {}))
            async for d in cursor
        ]

    async def add_media(self, media: MediaInfo) -> bool:
        try:
            await self._col("media").insert_one(
                {
                    "device": media.device,
                    "media_id": media.id,
                    "timestamp": media.timestamp,
                    "kind": media.kind.value,
                    "content_type": media.content_type,
                    "size": media.size,
                    "path": media.path,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def media(self, device: str, start: datetime, end: datetime) -> list[MediaInfo]:
        start, end = check_range(start, end)
        cursor = (
            self._col("media")
            .find({"device": device, "timestamp": {"$gte": start, "$lt": end}})
            .sort([("timestamp", ASCENDING), ("media_id", ASCENDING)])
        )
        return [
            MediaInfo(
                device,
                d["media_id"],
                d["timestamp"],
                MediaKind(d["kind"]),
                d["content_type"],
                int(d["size"]),
                d["path"],
            )
            async for d in cursor
        ]

    # -- retention ----------------------------------------------------------

    async def rollup(self, older_than: datetime) -> int:
        """Without transactions the steps are ordered so a rerun repairs a crash.

        1. Raise the horizon first: no reading below it is accepted afterwards.
        2. Write each hour with ``$setOnInsert``: the first complete write wins,
           so rerunning over raw rows a crash left behind cannot count twice.
        3. Delete the raw rows.
        """
        cutoff = hour_floor(older_than)
        async with self._write_lock:
            if self._horizon is not None:
                # Also finishes a run that crashed between the steps.
                cutoff = max(cutoff, self._horizon)
            await self._col("settings").update_one(
                {"_id": "rolled_until"}, {"$set": {"value": cutoff}}, upsert=True
            )
            self._horizon = cutoff
            readings = self._col("readings")
            hours = await readings.aggregate(
                [
                    {"$match": {"timestamp": {"$lt": cutoff}}},
                    {
                        "$group": {
                            "_id": {
                                "device": "$device",
                                "probe": "$probe",
                                "hour": {"$dateTrunc": {"date": "$timestamp", "unit": "hour"}},
                            },
                            "min": {"$min": "$temperature"},
                            "max": {"$max": "$temperature"},
                            "sum": {"$sum": "$temperature"},
                            "count": {"$sum": 1},
                        }
                    },
                ]
            )
            ops = [
                UpdateOne(
                    dict(h["_id"]),
                    {"$setOnInsert": {k: h[k] for k in ("min", "max", "sum", "count")}},
                    upsert=True,
                )
                async for h in hours
            ]
            if not ops:
                return 0
            await self._col("readings_hourly").bulk_write(ops, ordered=False)
            deleted = await readings.delete_many({"timestamp": {"$lt": cutoff}})
            return deleted.deleted_count

    async def rolled_until(self) -> datetime | None:
        return self._horizon
