"""History in MongoDB through PyMongo's native async client.

Readings live in a regular collection: time-series collections cannot carry the
unique (device, probe, timestamp) index that makes writes idempotent. Each
reading is the seed's document, ``{"timestamp", "temperature"}``, plus
``device`` and ``probe``.

Rollups are documents ``{device, probe, width, start, min, max, sum, count}``
(one per probe, level and period) in a regular collection with a unique index,
updated with ``$inc``/``$min``/``$max`` upserts for the readings a batch really
inserted. Not a time-series collection: its documents cannot be updated in
place, and the rollups are exactly in-place running aggregates. The upserts
commute, so several service processes may write the same probe.

Without a multi-document transaction (a standalone mongod has none) a crash
could fall between storing a batch and counting it. So each batch first writes
a journal entry with the time spans it touches and deletes it when counted; on
open, any entry left over has its spans recomputed from the raw readings.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, DeleteMany, IndexModel, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from web_extras.sanitize import MAX_READING_C, MIN_READING_C

from .base import (
    DAY_MS,
    EPOCH,
    LEVELS_MS,
    RAW_DROP_ALIGN_MS,
    Bucket,
    Event,
    EventKind,
    Grid,
    LinkCursor,
    MediaInfo,
    MediaKind,
    PartRow,
    Piece,
    StoredReading,
    check_limit,
    check_point,
    check_range,
    combine,
    cover,
    floor_ms,
    from_millis,
    level_deltas,
    to_millis,
    utc,
)
from .gravity import GravityReading, GravitySource
from .profiles import MAX_SAVED_PROFILES, ProfileNameTaken, SavedProfile, TooManyProfiles
from .sessions import MAX_NOTES, BrewSession, SessionNote, SessionOpen

Doc = dict[str, Any]
DUPLICATE_KEY = 11000
# Readings per insert in add_points.
BULK_CHUNK = 10_000

_INDEXES: dict[str, list[IndexModel]] = {
    "readings": [
        IndexModel(
            [("device", ASCENDING), ("probe", ASCENDING), ("timestamp", ASCENDING)],
            unique=True,
            name="reading_identity",
        ),
        # drop_raw deletes by time across every device.
        IndexModel([("timestamp", ASCENDING)], name="reading_time"),
    ],
    "rollups": [
        IndexModel(
            [
                ("device", ASCENDING),
                ("probe", ASCENDING),
                ("width", ASCENDING),
                ("start", ASCENDING),
            ],
            unique=True,
            name="rollup_identity",
        )
    ],
    "events": [
        IndexModel([("device", ASCENDING), ("timestamp", ASCENDING)], name="event_time"),
        IndexModel(
            [("device", ASCENDING), ("kind", ASCENDING), ("timestamp", ASCENDING)],
            name="event_kind_time",
        ),
    ],
    "media": [
        IndexModel([("device", ASCENDING), ("media_id", ASCENDING)], unique=True, name="media_id"),
        IndexModel([("device", ASCENDING), ("timestamp", ASCENDING)], name="media_time"),
    ],
    "gravity": [
        IndexModel(
            [("device", ASCENDING), ("hydrometer", ASCENDING), ("timestamp", ASCENDING)],
            unique=True,
            name="gravity_identity",
        ),
    ],
    "brew_sessions": [
        IndexModel([("device", ASCENDING), ("start", DESCENDING)], name="session_start"),
    ],
    # The unique name index is what refuses a second profile of one name.
    "saved_profiles": [IndexModel([("name", ASCENDING)], unique=True, name="profile_name")],
}
ROLLUPS_VERSION = 1
# Readings outside what a probe reads, stored before the service checked them, are
# dropped and their days' rollups summed again once (see _repair).
REPAIR_VERSION = 1
# A reading no probe gives (outside -55..125 °C: 1e308, Infinity, NaN) and a rollup of one.
_IMPOSSIBLE_READING = {"temperature": {"$not": {"$gte": MIN_READING_C, "$lte": MAX_READING_C}}}
_IMPOSSIBLE_ROLLUP = {
    "$or": [
        {"min": {"$not": {"$gte": MIN_READING_C}}},
        {"max": {"$not": {"$lte": MAX_READING_C}}},
        {"sum": {"$not": {"$gte": -1e300, "$lte": 1e300}}},
    ]
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
        # Held by writers of readings and by drop_raw, so a batch cannot slip
        # under the horizon while raw readings are being dropped.
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
            self._client, self._db = client, db
            self._horizon = None if setting is None else utc(setting["value"])
            await self._migrate()
            await self._repair()
            await self._recover()
        except BaseException:
            self._client = self._db = None
            await client.close()
            raise

    async def close(self) -> None:
        client, self._client, self._db = self._client, None, None
        if client is not None:
            await client.close()

    # -- readings -----------------------------------------------------------

    async def add_readings(
        self, readings: Iterable[StoredReading], cursor: LinkCursor | None = None
    ) -> int:
        docs = [
            {
                "device": r.device,
                "probe": r.probe,
                "timestamp": r.timestamp,
                "temperature": r.temperature,
            }
            for r in readings
        ]
        added = await self._add_docs(docs)
        # After the readings: a crash in between replays them, it never skips.
        if cursor is not None:
            await self.set_cursor(cursor.device, cursor.cursor)
        return added

    async def add_points(self, device: str, probe: str, points: Iterable[tuple[int, float]]) -> int:
        StoredReading(device, probe, EPOCH, 0.0)  # checks the names
        added = 0
        docs: list[Doc] = []
        for point in points:
            ts, temperature = check_point(*point)
            docs.append(
                {
                    "device": device,
                    "probe": probe,
                    "timestamp": from_millis(ts),
                    "temperature": temperature,
                }
            )
            if len(docs) == BULK_CHUNK:
                added += await self._add_docs(docs)
                docs = []
        return added + await self._add_docs(docs)

    async def _add_docs(self, batch: list[Doc]) -> int:
        async with self._write_lock:
            horizon = self._horizon
            unique: dict[tuple[str, str, datetime], Doc] = {}
            for doc in batch:
                if horizon is None or doc["timestamp"] >= horizon:
                    unique.setdefault((doc["device"], doc["probe"], doc["timestamp"]), doc)
            docs = list(unique.values())
            if not docs:
                return 0
            journal = await self._col("rollup_journal").insert_one({"spans": _spans(docs)})
            new = await (self._upsert_docs(docs) if self._upsert else self._insert_docs(docs))
            if new:
                await self._count_in_rollups(new)
            await self._col("rollup_journal").delete_one({"_id": journal.inserted_id})
            return len(new)

    async def _insert_docs(self, docs: list[Doc], collection: str = "readings") -> list[Doc]:
        """Insert ``docs``; return those that were not stored yet (a duplicate key skips one)."""
        try:
            await self._col(collection).insert_many(docs, ordered=False)
        except BulkWriteError as err:
            errors = err.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors) or err.details.get(
                "writeConcernErrors"
            ):
                raise
            stored = {int(e["index"]) for e in errors}
            return [d for i, d in enumerate(docs) if i not in stored]
        return docs

    async def _upsert_docs(self, docs: list[Doc]) -> list[Doc]:
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
            # Two upserts of one new key race; the loser reports a duplicate
            # key, which is exactly "already stored".
            errors = err.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            upserted = {int(u["index"]) for u in err.details.get("upserted", [])}
        else:
            upserted = set(result.upserted_ids or {})
        return [d for i, d in enumerate(docs) if i in upserted]

    async def _count_in_rollups(self, new: list[Doc]) -> None:
        points = (
            ((d["device"], d["probe"]), to_millis(d["timestamp"]), d["temperature"]) for d in new
        )
        ops = [
            UpdateOne(
                {"device": key[0], "probe": key[1], "width": width, "start": from_millis(start)},
                {
                    "$inc": {"sum": total, "count": count},
                    "$min": {"min": low},
                    "$max": {"max": high},
                },
                upsert=True,
            )
            for key, width, start, low, high, total, count in level_deltas(points)
        ]
        for _attempt in range(3):
            try:
                await self._col("rollups").bulk_write(ops, ordered=False)
                return
            except BulkWriteError as err:
                errors = err.details.get("writeErrors", [])
                if any(e.get("code") != DUPLICATE_KEY for e in errors):
                    raise
                # Another process created the document first: update it now.
                ops = [ops[int(e["index"])] for e in errors]
        raise RuntimeError("rollup upserts kept colliding with another writer")

    # -- journal, recovery and migration ------------------------------------

    async def _recover(self) -> None:
        """Recount the spans of batches that a crash left uncounted (see the module doc)."""
        journal = self._col("rollup_journal")
        async for entry in journal.find({}):
            for span in entry.get("spans", []):
                await self._recompute(
                    span["device"], span["probe"], to_millis(span["first"]), to_millis(span["last"])
                )
            await journal.delete_one({"_id": entry["_id"]})

    async def _migrate(self) -> None:
        """Build the rollups of a database written before they were kept at ingest.

        Hours that the old retention rolled into ``readings_hourly`` become one
        10-minute row at the hour's start (how series() counted them before).
        """
        settings = self._col("settings")
        if await settings.find_one({"_id": "rollups", "version": ROLLUPS_VERSION}):
            return
        old = self._col("readings_hourly")
        spans: dict[tuple[str, str], list[int]] = {}
        ops = []
        async for doc in old.find({}):
            key = (doc["device"], doc["probe"])
            hour = to_millis(doc["hour"])
            ops.append(
                UpdateOne(
                    {
                        "device": key[0],
                        "probe": key[1],
                        "width": LEVELS_MS[0],
                        "start": doc["hour"],
                    },
                    {"$set": {k: doc[k] for k in ("min", "max", "sum", "count")}},
                    upsert=True,
                )
            )
            span = spans.setdefault(key, [hour, hour])
            span[0], span[1] = min(span[0], hour), max(span[1], hour)
        if ops:
            await self._col("rollups").bulk_write(ops, ordered=False)
        readings = self._col("readings")
        ranges = await readings.aggregate(
            [
                {
                    "$group": {
                        "_id": {"device": "$device", "probe": "$probe"},
                        "first": {"$min": "$timestamp"},
                        "last": {"$max": "$timestamp"},
                    }
                }
            ]
        )
        async for doc in ranges:
            key = (doc["_id"]["device"], doc["_id"]["probe"])
            first, last = to_millis(doc["first"]), to_millis(doc["last"])
            span = spans.setdefault(key, [first, last])
            span[0], span[1] = min(span[0], first), max(span[1], last)
        for (device, probe), (first, last) in sorted(spans.items()):
            await self._recompute(device, probe, first, last)
        await old.drop()
        await settings.update_one(
            {"_id": "rollups"}, {"$set": {"version": ROLLUPS_VERSION}}, upsert=True
        )

    async def _repair(self) -> None:
        """Drop readings no probe can give, stored before the service checked them (a
        hostile device's 1e308 overflowed a rollup's sum to Infinity, which the API then
        served), and sum again the rollups of each day that held one or a rollup of
        impossible values. A 10-minute row below the raw horizon has no readings left
        to sum: it goes only if it is impossible itself. Once per database."""
        settings = self._col("settings")
        if await settings.find_one({"_id": "repaired", "version": REPAIR_VERSION}):
            return
        days: set[tuple[str, str, int]] = set()
        readings, rollups = self._col("readings"), self._col("rollups")
        async for doc in readings.find(
            _IMPOSSIBLE_READING, {"device": 1, "probe": 1, "timestamp": 1}
        ):
            days.add((doc["device"], doc["probe"], floor_ms(to_millis(doc["timestamp"]), DAY_MS)))
        async for doc in rollups.find(_IMPOSSIBLE_ROLLUP, {"device": 1, "probe": 1, "start": 1}):
            days.add((doc["device"], doc["probe"], floor_ms(to_millis(doc["start"]), DAY_MS)))
        await readings.delete_many(_IMPOSSIBLE_READING)
        await rollups.delete_many({**_IMPOSSIBLE_ROLLUP, "width": LEVELS_MS[0]})
        for device, probe, day in sorted(days):
            await self._recompute(device, probe, day, day + DAY_MS - 1)
        await settings.update_one(
            {"_id": "repaired"}, {"$set": {"version": REPAIR_VERSION}}, upsert=True
        )

    async def _recompute(self, device: str, probe: str, first: int, last: int) -> None:
        """Rebuild the rollups of the periods holding ``[first, last]`` (epoch ms).

        The 10-minute level from the raw readings (not below the raw horizon:
        those periods have no raw rows left and cannot change), each coarser
        level from the one below. Idempotent, so a crash here is repaired by
        the next open.
        """
        rollups = self._col("rollups")
        lo, hi = floor_ms(first, LEVELS_MS[0]), floor_ms(last, LEVELS_MS[0]) + LEVELS_MS[0]
        if self._horizon is not None:
            lo = max(lo, to_millis(self._horizon))
        if lo < hi:
            rows = await self._col("readings").aggregate(
                [
                    _match("timestamp", device, probe, lo, hi),
                    {
                        "$group": {
                            "_id": _floor_expr("$timestamp", LEVELS_MS[0]),
                            "min": {"$min": "$temperature"},
                            "max": {"$max": "$temperature"},
                            "sum": {"$sum": "$temperature"},
                            "count": {"$sum": 1},
                        }
                    },
                ]
            )
            await self._replace_level(device, probe, LEVELS_MS[0], lo, hi, rows)
        lo, hi = floor_ms(first, LEVELS_MS[0]), floor_ms(last, LEVELS_MS[0]) + LEVELS_MS[0]
        for finer, width in itertools.pairwise(LEVELS_MS):
            lo, hi = floor_ms(lo, width), -(-hi // width) * width
            match = _match("start", device, probe, lo, hi)
            match["$match"]["width"] = finer
            rows = await rollups.aggregate(
                [
                    match,
                    {
                        "$group": {
                            "_id": _floor_expr("$start", width),
                            "min": {"$min": "$min"},
                            "max": {"$max": "$max"},
                            "sum": {"$sum": "$sum"},
                            "count": {"$sum": "$count"},
                        }
                    },
                ]
            )
            await self._replace_level(device, probe, width, lo, hi, rows)

    async def _replace_level(
        self, device: str, probe: str, width: int, lo: int, hi: int, rows: Any
    ) -> None:
        key = {"device": device, "probe": probe, "width": width}
        ops: list[Any] = [
            DeleteMany({**key, "start": {"$gte": from_millis(lo), "$lt": from_millis(hi)}})
        ]
        async for row in rows:
            ops.append(
                UpdateOne(
                    {**key, "start": from_millis(int(row["_id"]))},
                    {"$set": {k: row[k] for k in ("min", "max", "sum", "count")}},
                    upsert=True,
                )
            )
        await self._col("rollups").bulk_write(ops, ordered=True)

    # -- series -------------------------------------------------------------

    def _pipelines(self, device: str, probe: str, grid: Grid) -> list[tuple[str, list[Doc]]]:
        """(collection, aggregation pipeline) of each piece of the series query."""
        raw_from = None if self._horizon is None else to_millis(self._horizon)
        return [_piece_pipeline(piece, device, probe, grid) for piece in cover(grid, raw_from)]

    async def series(
        self, device: str, probe: str, start: datetime, end: datetime, buckets: int
    ) -> list[Bucket]:
        grid = Grid.of(start, end, buckets)

        async def run(collection: str, pipeline: list[Doc]) -> list[PartRow]:
            cursor = await self._col(collection).aggregate(pipeline)
            return [
                (int(d["_id"]), d["min"], d["max"], d["sum"], int(d["count"])) async for d in cursor
            ]

        parts = await asyncio.gather(*(run(c, p) for c, p in self._pipelines(device, probe, grid)))
        return combine(grid, *parts)

    async def explain_series(
        self, device: str, probe: str, start: datetime, end: datetime, buckets: int
    ) -> list[str]:
        grid = Grid.of(start, end, buckets)
        if self._db is None:
            raise RuntimeError("store is not open")
        plans = []
        for collection, pipeline in self._pipelines(device, probe, grid):
            answer = await self._db.command(
                "explain",
                {"aggregate": collection, "pipeline": pipeline, "cursor": {}},
                verbosity="queryPlanner",
            )
            plan = _winning_plan(answer)
            width = pipeline[0]["$match"].get("width")
            source = collection if width is None else f"{collection} width={width}"
            plans.append(f"{source}: {json.dumps(plan, default=str, sort_keys=True)}")
        return plans

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
        newest = await self._newest_per(device, "readings", "probe")
        return {
            probe: StoredReading(device, probe, doc["timestamp"], doc["temperature"])
            for probe, doc in newest.items()
        }

    async def _newest_per(self, device: str, collection: str, key: str) -> dict[str, Doc]:
        """The newest document of each ``key`` (probe, hydrometer) of ``device``, by key."""
        docs = self._col(collection)
        found: dict[str, Doc] = {}
        for value in sorted(await docs.distinct(key, {"device": device})):
            doc = await docs.find_one(
                {"device": device, key: value}, sort=[("timestamp", DESCENDING)]
            )
            if doc is not None:
                found[value] = doc
        return found

    async def span(self, device: str) -> tuple[datetime, datetime] | None:
        readings, rollups = self._col("readings"), self._col("rollups")
        firsts: list[datetime] = []
        lasts: list[datetime] = []
        for probe in await self.probes(device):
            key = {"device": device, "probe": probe}
            level = {**key, "width": LEVELS_MS[0]}
            first_raw = await readings.find_one(key, sort=[("timestamp", ASCENDING)])
            last_raw = await readings.find_one(key, sort=[("timestamp", DESCENDING)])
            first_rolled = await rollups.find_one(level, sort=[("start", ASCENDING)])
            horizon = self._horizon
            if first_rolled is not None and horizon is not None and first_rolled["start"] < horizon:
                firsts.append(first_rolled["start"])
            elif first_raw is not None:
                firsts.append(first_raw["timestamp"])
            if last_raw is not None:
                lasts.append(last_raw["timestamp"])
            else:
                last_rolled = await rollups.find_one(level, sort=[("start", DESCENDING)])
                if last_rolled is not None:
                    lasts.append(last_rolled["start"])
        if not firsts or not lasts:
            return None
        return utc(min(firsts)), utc(max(lasts))

    async def _distinct(self, key: str, query: Mapping[str, Any]) -> list[str]:
        values: set[str] = set()
        for name in ("readings", "rollups"):
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

    async def events(
        self,
        device: str,
        start: datetime,
        end: datetime,
        kinds: Collection[EventKind] | None = None,
    ) -> list[Event]:
        start, end = check_range(start, end)
        query: Doc = {"device": device, "timestamp": {"$gte": start, "$lt": end}}
        if kinds is not None:
            query["kind"] = {"$in": sorted({EventKind(k).value for k in kinds})}
        cursor = (
            self._col("events").find(query).sort([("timestamp", ASCENDING), ("_id", ASCENDING)])
        )
        return [
            Event(device, d["timestamp"], EventKind(d["kind"]), d.get("data", {}))
            async for d in cursor
        ]

    async def last_event(self, device: str, kind: EventKind, before: datetime) -> Event | None:
        kind = EventKind(kind)
        doc = await self._col("events").find_one(
            {"device": device, "kind": kind.value, "timestamp": {"$lt": utc(before, "before")}},
            sort=[("timestamp", DESCENDING), ("_id", DESCENDING)],
        )
        return None if doc is None else Event(device, doc["timestamp"], kind, doc.get("data", {}))

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

    async def drop_raw(self, older_than: datetime) -> int:
        """Raise the horizon first, so no reading below it is accepted meanwhile."""
        cutoff = from_millis(floor_ms(to_millis(utc(older_than, "older_than")), RAW_DROP_ALIGN_MS))
        async with self._write_lock:
            if self._horizon is not None and cutoff <= self._horizon:
                return 0
            await self._col("settings").update_one(
                {"_id": "rolled_until"}, {"$set": {"value": cutoff}}, upsert=True
            )
            self._horizon = cutoff
            deleted = await self._col("readings").delete_many({"timestamp": {"$lt": cutoff}})
            return deleted.deleted_count

    async def raw_horizon(self) -> datetime | None:
        return self._horizon

    # -- brew sessions --------------------------------------------------------
    #
    # The running session of a fermenter is claimed in ``running_sessions``,
    # one document per device keyed by ``_id``: inserting it is the atomic
    # test-and-set (a unique ``_id`` works on any MongoDB, no partial index or
    # transaction needed). The session is written first, then claimed, and
    # removed again if the claim is lost; ending a session sets its end, then
    # drops the claim. A claim whose session is gone or ended is stale (a crash
    # between the two writes) and is taken over.

    async def start_session(self, session: BrewSession) -> None:
        sessions = self._col("brew_sessions")
        await sessions.insert_one(_session_doc(session))
        if session.end is not None:
            return
        try:
            await self._claim(session)
        except BaseException:
            await sessions.delete_one({"_id": session.id})
            raise

    async def _claim(self, session: BrewSession) -> None:
        running = self._col("running_sessions")
        for _attempt in range(3):
            try:
                await running.insert_one({"_id": session.device, "session": session.id})
                return
            except DuplicateKeyError:
                pass
            claim = await running.find_one({"_id": session.device})
            if claim is None:
                continue
            held = await self._col("brew_sessions").find_one({"_id": claim["session"]})
            if held is not None and held.get("end") is None:
                raise SessionOpen(session.device, str(claim["session"]))
            await running.delete_one({"_id": session.device, "session": claim["session"]})
        raise RuntimeError(f"could not claim fermenter {session.device} for a session")

    async def get_session(self, session_id: str) -> BrewSession | None:
        doc = await self._col("brew_sessions").find_one({"_id": session_id})
        return None if doc is None else _session_of(doc)

    async def sessions(self, device: str | None = None) -> list[BrewSession]:
        query = {} if device is None else {"device": device}
        cursor = (
            self._col("brew_sessions").find(query).sort([("start", DESCENDING), ("_id", ASCENDING)])
        )
        return [_session_of(doc) async for doc in cursor]

    async def update_session(self, session: BrewSession) -> BrewSession | None:
        sessions = self._col("brew_sessions")
        stored = await self.get_session(session.id)
        if stored is None or stored.device != session.device:
            return None
        end = stored.end if session.end is None else session.end
        BrewSession(session.id, session.device, session.name, session.start, end)
        fields: Doc = {
            "name": session.name,
            "style": session.style,
            "yeast": session.yeast,
            "og": session.og,
            "fg": session.fg,
            "start": session.start,
        }
        if session.end is not None:  # never back to None: see the protocol
            fields["end"] = session.end
        await sessions.update_one({"_id": session.id}, {"$set": fields})
        if session.end is not None:
            await self._col("running_sessions").delete_one(
                {"_id": session.device, "session": session.id}
            )
        return await self.get_session(session.id)

    async def add_session_note(self, session_id: str, note: SessionNote) -> BrewSession | None:
        sessions = self._col("brew_sessions")
        # note_count makes the cap part of the atomic update.
        answer = await sessions.update_one(
            {"_id": session_id, "note_count": {"$lt": MAX_NOTES}},
            {
                "$push": {"notes": {"timestamp": note.timestamp, "text": note.text}},
                "$inc": {"note_count": 1},
            },
        )
        if answer.matched_count == 0:
            if await sessions.find_one({"_id": session_id}) is None:
                return None
            raise ValueError(f"a session holds at most {MAX_NOTES} notes")
        return await self.get_session(session_id)

    # -- saved profiles -------------------------------------------------------
    #
    # The cap is counted before the insert: two saves racing at the cap may
    # both land (one over), never an unbounded number.

    async def save_profile(self, profile: SavedProfile) -> None:
        profiles = self._col("saved_profiles")
        if await profiles.count_documents({}) >= MAX_SAVED_PROFILES:
            raise TooManyProfiles
        try:
            await profiles.insert_one(_profile_doc(profile))
        except DuplicateKeyError:
            raise ProfileNameTaken(profile.name) from None

    async def saved_profiles(self) -> list[SavedProfile]:
        cursor = (
            self._col("saved_profiles").find({}).sort([("name", ASCENDING), ("_id", ASCENDING)])
        )
        return [_profile_of(doc) async for doc in cursor]

    async def get_profile(self, profile_id: str) -> SavedProfile | None:
        doc = await self._col("saved_profiles").find_one({"_id": profile_id})
        return None if doc is None else _profile_of(doc)

    async def replace_profile(self, profile: SavedProfile) -> SavedProfile | None:
        fields = _profile_doc(profile)
        del fields["_id"]
        try:
            answer = await self._col("saved_profiles").update_one(
                {"_id": profile.id}, {"$set": fields}
            )
        except DuplicateKeyError:
            raise ProfileNameTaken(profile.name) from None
        return await self.get_profile(profile.id) if answer.matched_count else None

    async def delete_profile(self, profile_id: str) -> bool:
        gone = await self._col("saved_profiles").delete_one({"_id": profile_id})
        return gone.deleted_count > 0

    # -- gravity ----------------------------------------------------------------

    async def add_gravity(self, readings: Iterable[GravityReading]) -> int:
        unique: dict[tuple[str, str, datetime], Doc] = {}
        for r in readings:
            unique.setdefault(
                (r.device, r.hydrometer, r.timestamp),
                {
                    "device": r.device,
                    "hydrometer": r.hydrometer,
                    "timestamp": r.timestamp,
                    "sg": r.sg,
                    "temperature": r.temperature_c,
                    "angle": r.angle,
                    "battery": r.battery,
                    "source": r.source.value,
                },
            )
        docs = list(unique.values())
        if not docs:
            return 0
        return len(await self._insert_docs(docs, "gravity"))

    async def latest_gravity(self, device: str) -> dict[str, GravityReading]:
        newest = await self._newest_per(device, "gravity", "hydrometer")
        return {hydrometer: _gravity_of(doc) for hydrometer, doc in newest.items()}

    async def gravity_series(
        self, device: str, hydrometer: str, start: datetime, end: datetime, buckets: int
    ) -> list[Bucket]:
        grid = Grid.of(start, end, buckets)
        first = from_millis(grid.start_ms)
        match = {
            "device": device,
            "hydrometer": hydrometer,
            "timestamp": {"$gte": first, "$lt": from_millis(grid.end_ms)},
        }
        index = {"$floor": {"$divide": [{"$subtract": ["$timestamp", first]}, grid.width_ms]}}
        group = {
            "_id": index,
            "min": {"$min": "$sg"},
            "max": {"$max": "$sg"},
            "sum": {"$sum": "$sg"},
            "count": {"$sum": 1},
        }
        cursor = await self._col("gravity").aggregate([{"$match": match}, {"$group": group}])
        rows: list[PartRow] = [
            (int(d["_id"]), d["min"], d["max"], d["sum"], int(d["count"])) async for d in cursor
        ]
        return combine(grid, rows)


def _gravity_of(doc: Doc) -> GravityReading:
    return GravityReading(
        doc["device"],
        doc["hydrometer"],
        doc["timestamp"],
        doc["sg"],
        doc.get("temperature"),
        doc.get("angle"),
        doc.get("battery"),
        GravitySource(doc["source"]),
    )


def _spans(docs: list[Doc]) -> list[Doc]:
    """The first and last time of each probe in a batch (what a journal entry holds)."""
    spans: dict[tuple[str, str], list[datetime]] = {}
    for doc in docs:
        span = spans.setdefault((doc["device"], doc["probe"]), [doc["timestamp"]] * 2)
        span[0], span[1] = min(span[0], doc["timestamp"]), max(span[1], doc["timestamp"])
    return [
        {"device": device, "probe": probe, "first": first, "last": last}
        for (device, probe), (first, last) in spans.items()
    ]


def _match(field: str, device: str, probe: str, lo: int, hi: int) -> Doc:
    return {
        "$match": {
            "device": device,
            "probe": probe,
            field: {"$gte": from_millis(lo), "$lt": from_millis(hi)},
        }
    }


def _floor_expr(field: str, width: int) -> Doc:
    """Epoch ms of the start of the ``width`` period holding the date ``field``."""
    millis = {"$subtract": [field, EPOCH]}  # date - date: milliseconds
    return {"$subtract": [millis, {"$mod": [millis, width]}]}


def _piece_pipeline(piece: Piece, device: str, probe: str, grid: Grid) -> tuple[str, list[Doc]]:
    start = from_millis(grid.start_ms)
    if piece.width is None:
        collection, time_field = "readings", "timestamp"
        match = _match(time_field, device, probe, piece.start_ms, piece.end_ms)
        group = {
            "min": {"$min": "$temperature"},
            "max": {"$max": "$temperature"},
            "sum": {"$sum": "$temperature"},
            "count": {"$sum": 1},
        }
    else:
        collection, time_field = "rollups", "start"
        match = _match(time_field, device, probe, piece.start_ms, piece.end_ms)
        # Key order as in the unique index, so the match reads like its prefix.
        match["$match"] = {
            "device": device,
            "probe": probe,
            "width": piece.width,
            "start": match["$match"]["start"],
        }
        group = {
            "min": {"$min": "$min"},
            "max": {"$max": "$max"},
            "sum": {"$sum": "$sum"},
            "count": {"$sum": "$count"},
        }
    # date - date is a number of milliseconds: floor(offset / width) is the bucket.
    index = {"$floor": {"$divide": [{"$subtract": [f"${time_field}", start]}, grid.width_ms]}}
    return collection, [match, {"$group": {"_id": index, **group}}]


def _winning_plan(answer: Mapping[str, Any]) -> Any:
    """The winning plan of an aggregate's explain, wherever the server nests it."""
    planner = answer.get("queryPlanner")
    if planner is None:
        for stage in answer.get("stages", []):
            planner = stage.get("$cursor", {}).get("queryPlanner")
            if planner is not None:
                break
    if planner is None:
        return answer
    return planner.get("winningPlan", planner)


def _profile_doc(profile: SavedProfile) -> Doc:
    return {
        "_id": profile.id,
        "name": profile.name,
        "steps": [s.to_dict() for s in profile.steps],
        "updated": profile.updated,
    }


def _profile_of(doc: Doc) -> SavedProfile:
    return SavedProfile(
        doc["_id"], doc["name"], SavedProfile.steps_of(doc["steps"]), doc["updated"]
    )


def _session_doc(session: BrewSession) -> Doc:
    return {
        "_id": session.id,
        "device": session.device,
        "name": session.name,
        "style": session.style,
        "yeast": session.yeast,
        "og": session.og,
        "fg": session.fg,
        "start": session.start,
        "end": session.end,
        "notes": [{"timestamp": n.timestamp, "text": n.text} for n in session.notes],
        "note_count": len(session.notes),
    }


def _session_of(doc: Doc) -> BrewSession:
    return BrewSession(
        doc["_id"],
        doc["device"],
        doc["name"],
        doc["start"],
        doc.get("end"),
        doc.get("style", ""),
        doc.get("yeast", ""),
        doc.get("og"),
        doc.get("fg"),
        tuple(SessionNote(n["timestamp"], n["text"]) for n in doc.get("notes", [])),
    )
