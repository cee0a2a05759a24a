"""History in an embedded SQLite file: the default when no MongoDB is configured.

sqlite3 blocks, so one connection lives on one worker thread and every call
hops there; that also serialises writers, which SQLite wants anyway. Times are
integer epoch milliseconds so a bucket index is one integer division.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

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
    to_millis,
)
from .sqlite_schema import migrate

T = TypeVar("T")

HOUR_MS = 3_600_000
_DEVICES = "SELECT DISTINCT device FROM series ORDER BY 1"


def _series_sql(table: str, time: str, aggregates: str) -> str:
    """Aggregates per bucket, as a GROUP BY on the bucket number.

    Grouping by ``(ts - start) / width`` makes SQLite sort every row of the
    range (a year of minutes: 120 ms). Joining the ordered bucket numbers to a
    key-range seek each yields rows already grouped: one pass, 64 ms.
    ?1 start, ?2 width, ?3 series, ?4 end, ?5 number of buckets (all ms but ?3, ?5).
    """
    return (
        f"SELECT b.i, {aggregates} FROM bucket_index b JOIN {table} r"
        f" ON r.series = ?3 AND r.{time} >= ?1 + b.i * ?2 AND r.{time} < ?1 + (b.i + 1) * ?2"
        f" AND r.{time} < ?4 WHERE b.i < ?5 GROUP BY b.i"
    )


_SERIES_RAW = _series_sql(
    "readings", "ts", "MIN(temperature), MAX(temperature), SUM(temperature), COUNT(*)"
)
_SERIES_HOURLY = _series_sql("hourly", "hour", "MIN(min), MAX(max), SUM(sum), SUM(count)")
# Rows per hop to the worker thread when streaming raw readings.
PAGE = 2000


class SqliteHistoryStore:
    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        # (device, probe) -> series id; only touched on the worker thread.
        self._series: dict[tuple[str, str], int] = {}
        self._horizon_ms: int | None = None

    # -- plumbing -----------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RuntimeError("store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("store is not open")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        # IMMEDIATE takes the write lock up front: no upgrade deadlock with
        # another process reading the same file.
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    async def open(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beerpi-sqlite")
        try:
            await self._run(self._open_sync)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    def _open_sync(self) -> None:
        # Autocommit mode: transactions are explicit (_transaction) on 3.11 and 3.12+.
        db = sqlite3.connect(self._path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        # Safe with WAL; a power cut loses at most the last batches, whose
        # cursor is lost with them, so the daemon replays them.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        self._conn = db
        try:
            with self._transaction():
                migrate(db)
        except BaseException:
            self._close_sync()
            raise
        self._series = {
            (device, probe): sid
            for sid, device, probe in db.execute("SELECT id, device, probe FROM series")
        }
        row = db.execute("SELECT value FROM settings WHERE key = 'rolled_until'").fetchone()
        self._horizon_ms = None if row is None else int(row[0])

    async def close(self) -> None:
        if self._executor is None:
            return
        try:
            await self._run(self._close_sync)
        finally:
            self._executor.shutdown(wait=False)
            self._executor = None

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _series_id(self, device: str, probe: str, create: bool = False) -> int | None:
        key = (device, probe)
        sid = self._series.get(key)
        if sid is None and create:
            cur = self._db.execute(
                "INSERT INTO series (device, probe) VALUES (?, ?) RETURNING id", key
            )
            sid = int(cur.fetchone()[0])
            self._series[key] = sid
        return sid

    # -- readings -----------------------------------------------------------

    async def add_readings(
        self, readings: Iterable[StoredReading], cursor: LinkCursor | None = None
    ) -> int:
        batch = list(readings)
        return await self._run(self._add_readings_sync, batch, cursor)

    def _add_readings_sync(self, batch: list[StoredReading], cursor: LinkCursor | None) -> int:
        horizon = self._horizon_ms
        known = dict(self._series)
        try:
            with self._transaction() as db:
                rows = []
                for r in batch:
                    ts = to_millis(r.timestamp)
                    if horizon is not None and ts < horizon:
                        continue
                    sid = self._series_id(r.device, r.probe, create=True)
                    rows.append((sid, ts, r.temperature))
                before = db.total_changes
                db.executemany(
                    "INSERT OR IGNORE INTO readings (series, ts, temperature) VALUES (?, ?, ?)",
                    rows,
                )
                added = db.total_changes - before
                if cursor is not None:
                    self._set_cursor_in(db, cursor.device, cursor.cursor)
        except BaseException:
            # Series rows created in the failed transaction are gone too.
            self._series = known
            raise
        return added

    async def series(
        self, device: str, probe: str, start: datetime, end: datetime, buckets: int
    ) -> list[Bucket]:
        grid = Grid.of(start, end, buckets)
        return await self._run(self._series_sync, device, probe, grid)

    def _series_sync(self, device: str, probe: str, grid: Grid) -> list[Bucket]:
        sid = self._series_id(device, probe)
        if sid is None:
            return []
        args = (grid.start_ms, grid.width_ms, sid, grid.end_ms, grid.size)
        raw = self._db.execute(_SERIES_RAW, args)
        rolled = self._db.execute(_SERIES_HOURLY, args)
        return combine(grid, _partials(raw), _partials(rolled))

    async def raw(
        self,
        device: str,
        probe: str,
        start: datetime,
        end: datetime,
        limit: int | None = None,
    ) -> AsyncIterator[StoredReading]:
        start, end = check_range(start, end)
        remaining = check_limit(limit)
        after = to_millis(start) - 1
        end_ms = to_millis(end)
        while remaining is None or remaining > 0:
            size = PAGE if remaining is None else min(PAGE, remaining)
            # Keyset paging: no statement stays open across awaits.
            page = await self._run(self._raw_page_sync, device, probe, after, end_ms, size)
            for ts, temperature in page:
                yield StoredReading(device, probe, from_millis(ts), temperature)
            if remaining is not None:
                remaining -= len(page)
            if len(page) < size:
                return
            after = page[-1][0]

    def _raw_page_sync(
        self, device: str, probe: str, after: int, end: int, size: int
    ) -> list[tuple[int, float]]:
        sid = self._series_id(device, probe)
        if sid is None:
            return []
        return self._db.execute(
            "SELECT ts, temperature FROM readings WHERE series = ? AND ts > ? AND ts < ?"
            " ORDER BY ts LIMIT ?",
            (sid, after, end, size),
        ).fetchall()

    async def latest(self, device: str) -> dict[str, StoredReading]:
        return await self._run(self._latest_sync, device)

    def _latest_sync(self, device: str) -> dict[str, StoredReading]:
        found: dict[str, StoredReading] = {}
        for (dev, probe), sid in sorted(self._series.items()):
            if dev != device:
                continue
            row = self._db.execute(
                "SELECT ts, temperature FROM readings WHERE series = ? ORDER BY ts DESC LIMIT 1",
                (sid,),
            ).fetchone()
            if row is not None:
                found[probe] = StoredReading(device, probe, from_millis(row[0]), row[1])
        return found

    async def devices(self) -> list[str]:
        return await self._run(lambda: [r[0] for r in self._db.execute(_DEVICES)])

    async def probes(self, device: str) -> list[str]:
        return await self._run(
            lambda: [
                r[0]
                for r in self._db.execute(
                    "SELECT probe FROM series WHERE device = ? ORDER BY 1", (device,)
                )
            ]
        )

    async def count(
        self,
        device: str | None = None,
        probe: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> int:
        where = ["1"]
        args: list[Any] = []
        for sql, value in (
            ("s.device = ?", device),
            ("s.probe = ?", probe),
            ("r.ts >= ?", None if start is None else to_millis(start)),
            ("r.ts < ?", None if end is None else to_millis(end)),
        ):
            if value is not None:
                where.append(sql)
                args.append(value)
        query = (
            "SELECT COUNT(*) FROM readings r JOIN series s ON s.id = r.series WHERE "
            + " AND ".join(where)
        )
        return await self._run(lambda: int(self._db.execute(query, args).fetchone()[0]))

    # -- link cursors -------------------------------------------------------

    async def get_cursor(self, device: str) -> str | None:
        def get() -> str | None:
            row = self._db.execute(
                "SELECT cursor FROM cursors WHERE device = ?", (device,)
            ).fetchone()
            return None if row is None else row[0]

        return await self._run(get)

    async def set_cursor(self, device: str, cursor: str | None) -> None:
        link = LinkCursor(device, cursor)

        def put() -> None:
            with self._transaction() as db:
                self._set_cursor_in(db, link.device, link.cursor)

        await self._run(put)

    @staticmethod
    def _set_cursor_in(db: sqlite3.Connection, device: str, cursor: str | None) -> None:
        db.execute(
            "INSERT INTO cursors (device, cursor) VALUES (?, ?)"
            " ON CONFLICT (device) DO UPDATE SET cursor = excluded.cursor",
            (device, cursor),
        )

    # -- events and media ---------------------------------------------------

    async def add_event(self, event: Event) -> None:
        def put() -> None:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO events (device, ts, kind, data) VALUES (?, ?, ?, ?)",
                    (
                        event.device,
                        to_millis(event.timestamp),
                        event.kind.value,
                        json.dumps(event.data),
                    ),
                )

        await self._run(put)

    async def events(self, device: str, start: datetime, end: datetime) -> list[Event]:
        start, end = check_range(start, end)
        rows = await self._run(
            lambda: self._db.execute(
                "SELECT ts, kind, data FROM events WHERE device = ? AND ts >= ? AND ts < ?"
                " ORDER BY ts, id",
                (device, to_millis(start), to_millis(end)),
            ).fetchall()
        )
        return [Event(device, from_millis(ts), EventKind(k), json.loads(d)) for ts, k, d in rows]

    async def add_media(self, media: MediaInfo) -> bool:
        def put() -> bool:
            with self._transaction() as db:
                cur = db.execute(
                    "INSERT OR IGNORE INTO media (device, id, ts, kind, content_type, size, path)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        media.device,
                        media.id,
                        to_millis(media.timestamp),
                        media.kind.value,
                        media.content_type,
                        media.size,
                        media.path,
                    ),
                )
                return cur.rowcount == 1

        return await self._run(put)

    async def media(self, device: str, start: datetime, end: datetime) -> list[MediaInfo]:
        start, end = check_range(start, end)
        rows = await self._run(
            lambda: self._db.execute(
                "SELECT id, ts, kind, content_type, size, path FROM media"
                " WHERE device = ? AND ts >= ? AND ts < ? ORDER BY ts, id",
                (device, to_millis(start), to_millis(end)),
            ).fetchall()
        )
        return [
            MediaInfo(device, mid, from_millis(ts), MediaKind(kind), ctype, size, path)
            for mid, ts, kind, ctype, size, path in rows
        ]

    # -- retention ----------------------------------------------------------

    async def rollup(self, older_than: datetime) -> int:
        cutoff = to_millis(hour_floor(older_than))
        return await self._run(self._rollup_sync, cutoff)

    def _rollup_sync(self, cutoff: int) -> int:
        if self._horizon_ms is not None and cutoff <= self._horizon_ms:
            return 0
        with self._transaction() as db:
            # Hours before the old horizon have no raw rows left, so these are
            # new hours; the upsert only guards against a hand-edited file.
            db.execute(
                "INSERT INTO hourly (series, hour, min, max, sum, count)"
                " SELECT series, ts - ((ts % ?1) + ?1) % ?1 AS h,"
                " MIN(temperature), MAX(temperature), SUM(temperature), COUNT(*)"
                " FROM readings WHERE ts < ?2 GROUP BY series, h"
                " ON CONFLICT (series, hour) DO UPDATE SET"
                " min = MIN(min, excluded.min), max = MAX(max, excluded.max),"
                " sum = sum + excluded.sum, count = count + excluded.count",
                (HOUR_MS, cutoff),
            )
            rolled = db.execute("DELETE FROM readings WHERE ts < ?", (cutoff,)).rowcount
            db.execute(
                "INSERT INTO settings (key, value) VALUES ('rolled_until', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (cutoff,),
            )
        self._horizon_ms = cutoff
        return rolled

    async def rolled_until(self) -> datetime | None:
        horizon = self._horizon_ms
        return None if horizon is None else from_millis(horizon)


Row = tuple[int, float, float, float, int]


def _partials(rows: Iterable[Row]) -> Iterator[tuple[int, Partial]]:
    for index, low, high, total, count in rows:
        yield int(index), Partial(low, high, total, int(count))
