"""History in an embedded SQLite file: the default when no MongoDB is configured.

sqlite3 blocks, so one connection lives on one worker thread and every call
hops there; that also serialises writers, which SQLite wants anyway. Times are
integer epoch milliseconds so a bucket index is one integer division.

A batch of readings and the rollups it adds are written in one transaction,
so the rollups never count a reading that is not stored, or one twice.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from .base import (
    LEVELS_MS,
    RAW_DROP_ALIGN_MS,
    Bucket,
    Event,
    EventKind,
    Grid,
    LinkCursor,
    MediaInfo,
    MediaKind,
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
    utc_millis,
)
from .gravity import GravityReading, GravitySource
from .profiles import MAX_SAVED_PROFILES, ProfileNameTaken, SavedProfile, TooManyProfiles
from .sessions import MAX_NOTES, BrewSession, SessionNote, SessionOpen
from .sqlite_schema import migrate

T = TypeVar("T")

_DEVICES = "SELECT DISTINCT device FROM series ORDER BY 1"
_SESSION_COLUMNS = "id, device, name, style, yeast, og, fg, start, end_ts, notes"
_INSERT = "INSERT OR IGNORE INTO readings (series, ts, temperature) VALUES (?, ?, ?)"
_ADD_ROLLUP = (
    "INSERT INTO rollups (series, width, start, min, max, sum, count) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO UPDATE SET min = MIN(min, excluded.min), max = MAX(max, excluded.max),"
    " sum = sum + excluded.sum, count = count + excluded.count"
)


# The series query is one compound SELECT with a member per piece of the
# range (see base.cover), in time order; ?1 is the series, ?2 the grid's start
# and ?3 its bucket width (ms); each member's own arguments follow (its
# start, end and, for a rollup, the level). Raw readings are grouped per
# bucket by SQLite. A level with fewer than UNGROUPED_ROWS_PER_BUCKET periods
# per bucket is read as it is stored, in key order, and combine() merges each
# bucket's adjacent rows: returning that many more rows cost less than the
# sort SQLite does for a GROUP BY (a year in 1000 buckets from 1460 six-hour
# periods: 0.4 ms less on Python 3.11). With more periods per bucket the rows
# to return outweigh the sort, and the level is grouped too.
_SERIES_RAW = (
    "SELECT (ts - ?2) / ?3 AS i, MIN(temperature), MAX(temperature), SUM(temperature), COUNT(*)"
    " FROM readings WHERE series = ?1 AND ts >= ?{0} AND ts < ?{1} GROUP BY i"
)
_SERIES_ROLLUP_GROUPED = (
    "SELECT (start - ?2) / ?3 AS i, MIN(min), MAX(max), SUM(sum), SUM(count)"
    " FROM rollups WHERE series = ?1 AND width = ?{2} AND start >= ?{0} AND start < ?{1}"
    " GROUP BY i"
)
_SERIES_ROLLUP_ROWS = (
    "SELECT (start - ?2) / ?3, min, max, sum, count"
    " FROM rollups WHERE series = ?1 AND width = ?{2} AND start >= ?{0} AND start < ?{1}"
)
UNGROUPED_ROWS_PER_BUCKET = 2
_PROFILE_COLUMNS = "id, name, steps, updated"
_GRAVITY_COLUMNS = "hydrometer, ts, sg, temperature, angle, battery, source"
_INSERT_GRAVITY = (
    "INSERT OR IGNORE INTO gravity"
    " (device, hydrometer, ts, sg, temperature, angle, battery, source)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# SG aggregates per bucket; ?3 is the grid's start, ?5 the bucket width (ms).
_GRAVITY_SERIES = (
    "SELECT (ts - ?3) / ?5 AS i, MIN(sg), MAX(sg), SUM(sg), COUNT(*) FROM gravity"
    " WHERE device = ?1 AND hydrometer = ?2 AND ts >= ?3 AND ts < ?4 GROUP BY i"
)
# Rows per hop to the worker thread when streaming raw readings.
PAGE = 2000
# Points per transaction in add_points.
BULK_CHUNK = 50_000


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
        # The key predates rollups kept at ingest: it is the raw horizon.
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
        batch = [(r.device, r.probe, utc_millis(r.timestamp), r.temperature) for r in readings]
        return await self._run(self._add_sync, batch, cursor)

    async def add_points(self, device: str, probe: str, points: Iterable[tuple[int, float]]) -> int:
        StoredReading(device, probe, from_millis(0), 0.0)  # checks the names
        added = 0
        chunk: list[tuple[str, str, int, float]] = []
        for ts, temperature in points:
            chunk.append((device, probe, *check_point(ts, temperature)))
            if len(chunk) == BULK_CHUNK:
                added += await self._run(self._add_sync, chunk, None)
                chunk = []
        if chunk:
            added += await self._run(self._add_sync, chunk, None)
        return added

    def _add_sync(self, batch: list[tuple[str, str, int, float]], cursor: LinkCursor | None) -> int:
        horizon = self._horizon_ms
        known = dict(self._series)
        try:
            with self._transaction() as db:
                # The first copy of a (series, ts) in the batch wins, as in the table.
                rows: dict[tuple[int, int], float] = {}
                ids = self._series
                for device, probe, ts, temperature in batch:
                    if horizon is not None and ts < horizon:
                        continue
                    sid = ids.get((device, probe)) or self._series_id(device, probe, create=True)
                    assert sid is not None
                    rows.setdefault((sid, ts), temperature)
                new = self._insert_new(db, [(s, t, v) for (s, t), v in rows.items()])
                if new:
                    db.executemany(_ADD_ROLLUP, level_deltas(new))
                if cursor is not None:
                    self._set_cursor_in(db, cursor.device, cursor.cursor)
        except BaseException:
            # Series rows created in the failed transaction are gone too.
            self._series = known
            raise
        return len(new)

    @staticmethod
    def _insert_new(
        db: sqlite3.Connection, rows: list[tuple[int, int, float]]
    ) -> list[tuple[int, int, float]]:
        """Insert ``rows``; return those that were not stored yet.

        One executemany settles the usual cases (all new: a fresh batch; none:
        a replay). Only a batch that overlaps stored readings is redone row by
        row to learn which of its rows are new.
        """
        db.execute("SAVEPOINT batch")
        before = db.total_changes
        db.executemany(_INSERT, rows)
        added = db.total_changes - before
        if 0 < added < len(rows):
            db.execute("ROLLBACK TO batch")
            rows = [row for row in rows if db.execute(_INSERT, row).rowcount == 1]
        elif added == 0:
            rows = []
        db.execute("RELEASE batch")
        return rows

    async def series(
        self, device: str, probe: str, start: datetime, end: datetime, buckets: int
    ) -> list[Bucket]:
        grid = Grid.of(start, end, buckets)
        return await self._run(self._series_sync, device, probe, grid)

    def _series_query(self, sid: int, grid: Grid) -> tuple[list[str], str, list[int]]:
        """What each piece reads, the compound SELECT and its arguments."""
        sources: list[str] = []
        members: list[str] = []
        args = [sid, grid.start_ms, grid.width_ms]
        for piece in cover(grid, self._horizon_ms):
            first = len(args) + 1
            if piece.width is None:
                sources.append("readings")
                members.append(_SERIES_RAW.format(first, first + 1))
                args += [piece.start_ms, piece.end_ms]
                continue
            sources.append(f"rollups width={piece.width}")
            rows = (
                _SERIES_ROLLUP_ROWS
                if grid.width_ms < UNGROUPED_ROWS_PER_BUCKET * piece.width
                else _SERIES_ROLLUP_GROUPED
            )
            members.append(rows.format(first, first + 1, first + 2))
            args += [piece.start_ms, piece.end_ms, piece.width]
        return sources, " UNION ALL ".join(members), args

    def _series_sync(self, device: str, probe: str, grid: Grid) -> list[Bucket]:
        sid = self._series_id(device, probe)
        if sid is None:
            return []
        _, sql, args = self._series_query(sid, grid)
        return combine(grid, self._db.execute(sql, args).fetchall())

    async def explain_series(
        self, device: str, probe: str, start: datetime, end: datetime, buckets: int
    ) -> list[str]:
        grid = Grid.of(start, end, buckets)

        def explain() -> list[str]:
            sid = self._series_id(device, probe)
            if sid is None:
                return []
            sources, sql, args = self._series_query(sid, grid)
            # The plan of the statement that runs, one member per piece: each
            # starts with its table's SEARCH (or SCAN) and may add a sort.
            members: list[list[str]] = []
            for row in self._db.execute("EXPLAIN QUERY PLAN " + sql, args):
                step: str = row[3]
                if step.startswith(("SEARCH ", "SCAN ")):
                    members.append([step])
                elif members and step.startswith("USE TEMP B-TREE"):
                    members[-1].append(step)
            if len(members) != len(sources):
                raise RuntimeError(f"a plan of {len(members)} reads for {len(sources)} pieces")
            return [
                f"{source}: " + " | ".join(steps)
                for source, steps in zip(sources, members, strict=True)
            ]

        return await self._run(explain)

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

    def _device_series(self, device: str) -> list[tuple[str, int]]:
        return sorted((probe, sid) for (dev, probe), sid in self._series.items() if dev == device)

    async def latest(self, device: str) -> dict[str, StoredReading]:
        return await self._run(self._latest_sync, device)

    def _latest_sync(self, device: str) -> dict[str, StoredReading]:
        found: dict[str, StoredReading] = {}
        for probe, sid in self._device_series(device):
            row = self._db.execute(
                "SELECT ts, temperature FROM readings WHERE series = ? ORDER BY ts DESC LIMIT 1",
                (sid,),
            ).fetchone()
            if row is not None:
                found[probe] = StoredReading(device, probe, from_millis(row[0]), row[1])
        return found

    async def span(self, device: str) -> tuple[datetime, datetime] | None:
        return await self._run(self._span_sync, device)

    def _span_sync(self, device: str) -> tuple[datetime, datetime] | None:
        db, finest, horizon = self._db, LEVELS_MS[0], self._horizon_ms
        firsts: list[int] = []
        lasts: list[int] = []
        for _probe, sid in self._device_series(device):

            def one(sql: str, *args: int) -> int | None:
                row = db.execute(sql, args).fetchone()
                return None if row is None else int(row[0])

            first_raw = one("SELECT ts FROM readings WHERE series = ? ORDER BY ts LIMIT 1", sid)
            last_raw = one("SELECT ts FROM readings WHERE series = ? ORDER BY ts DESC LIMIT 1", sid)
            first_rolled = one(
                "SELECT start FROM rollups WHERE series = ? AND width = ? ORDER BY start LIMIT 1",
                sid,
                finest,
            )
            if first_rolled is not None and horizon is not None and first_rolled < horizon:
                firsts.append(first_rolled)
            elif first_raw is not None:
                firsts.append(first_raw)
            if last_raw is not None:
                lasts.append(last_raw)
            else:
                last_rolled = one(
                    "SELECT start FROM rollups WHERE series = ? AND width = ?"
                    " ORDER BY start DESC LIMIT 1",
                    sid,
                    finest,
                )
                if last_rolled is not None:
                    lasts.append(last_rolled)
        if not firsts or not lasts:
            return None
        return from_millis(min(firsts)), from_millis(max(lasts))

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

    async def events(
        self,
        device: str,
        start: datetime,
        end: datetime,
        kinds: Collection[EventKind] | None = None,
    ) -> list[Event]:
        start, end = check_range(start, end)
        sql = "SELECT ts, kind, data FROM events WHERE device = ? AND ts >= ? AND ts < ?"
        args: list[Any] = [device, to_millis(start), to_millis(end)]
        if kinds is not None:
            wanted = sorted({EventKind(k).value for k in kinds})
            if not wanted:
                return []
            sql += f" AND kind IN ({', '.join('?' * len(wanted))})"
            args += wanted
        rows = await self._run(lambda: self._db.execute(sql + " ORDER BY ts, id", args).fetchall())
        return [Event(device, from_millis(ts), EventKind(k), json.loads(d)) for ts, k, d in rows]

    async def last_event(self, device: str, kind: EventKind, before: datetime) -> Event | None:
        kind, before_ms = EventKind(kind), to_millis(before)
        row = await self._run(
            lambda: self._db.execute(
                "SELECT ts, data FROM events WHERE device = ? AND kind = ? AND ts < ?"
                " ORDER BY ts DESC, id DESC LIMIT 1",
                (device, kind.value, before_ms),
            ).fetchone()
        )
        return None if row is None else Event(device, from_millis(row[0]), kind, json.loads(row[1]))

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

    async def drop_raw(self, older_than: datetime) -> int:
        cutoff = floor_ms(to_millis(utc(older_than, "older_than")), RAW_DROP_ALIGN_MS)
        return await self._run(self._drop_raw_sync, cutoff)

    def _drop_raw_sync(self, cutoff: int) -> int:
        if self._horizon_ms is not None and cutoff <= self._horizon_ms:
            return 0
        dropped = 0
        with self._transaction() as db:
            # Per series, so each DELETE is a primary-key range, not a table scan.
            for sid in sorted(self._series.values()):
                dropped += db.execute(
                    "DELETE FROM readings WHERE series = ? AND ts < ?", (sid, cutoff)
                ).rowcount
            db.execute(
                "INSERT INTO settings (key, value) VALUES ('rolled_until', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (cutoff,),
            )
        self._horizon_ms = cutoff
        return dropped

    async def raw_horizon(self) -> datetime | None:
        horizon = self._horizon_ms
        return None if horizon is None else from_millis(horizon)

    # -- brew sessions --------------------------------------------------------

    async def start_session(self, session: BrewSession) -> None:
        def put() -> None:
            with self._transaction() as db:
                if session.end is None:
                    row = db.execute(
                        "SELECT id FROM brew_sessions WHERE device = ? AND end_ts IS NULL",
                        (session.device,),
                    ).fetchone()
                    if row is not None:
                        raise SessionOpen(session.device, row[0])
                db.execute(
                    f"INSERT INTO brew_sessions ({_SESSION_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session.id,
                        session.device,
                        session.name,
                        session.style,
                        session.yeast,
                        session.og,
                        session.fg,
                        to_millis(session.start),
                        None if session.end is None else to_millis(session.end),
                        json.dumps([[to_millis(n.timestamp), n.text] for n in session.notes]),
                    ),
                )

        await self._run(put)

    def _session_row(self, session_id: str) -> BrewSession | None:
        row = self._db.execute(
            f"SELECT {_SESSION_COLUMNS} FROM brew_sessions WHERE id = ?", (session_id,)
        ).fetchone()
        return None if row is None else _session_of(row)

    async def get_session(self, session_id: str) -> BrewSession | None:
        return await self._run(self._session_row, session_id)

    async def sessions(self, device: str | None = None) -> list[BrewSession]:
        sql = f"SELECT {_SESSION_COLUMNS} FROM brew_sessions"
        args: tuple[str, ...] = ()
        if device is not None:
            sql, args = sql + " WHERE device = ?", (device,)
        rows = await self._run(
            lambda: self._db.execute(sql + " ORDER BY start DESC, id", args).fetchall()
        )
        return [_session_of(row) for row in rows]

    async def update_session(self, session: BrewSession) -> BrewSession | None:
        def put() -> BrewSession | None:
            with self._transaction() as db:
                stored = self._session_row(session.id)
                if stored is None or stored.device != session.device:
                    return None
                end = stored.end if session.end is None else session.end
                # Checked against what is stored: the end may come from there.
                BrewSession(session.id, session.device, session.name, session.start, end)
                db.execute(
                    "UPDATE brew_sessions SET name = ?, style = ?, yeast = ?, og = ?, fg = ?,"
                    " start = ?, end_ts = ? WHERE id = ?",
                    (
                        session.name,
                        session.style,
                        session.yeast,
                        session.og,
                        session.fg,
                        to_millis(session.start),
                        None if end is None else to_millis(end),
                        session.id,
                    ),
                )
                return self._session_row(session.id)

        return await self._run(put)

    async def add_session_note(self, session_id: str, note: SessionNote) -> BrewSession | None:
        def put() -> BrewSession | None:
            with self._transaction() as db:
                row = db.execute(
                    "SELECT notes FROM brew_sessions WHERE id = ?", (session_id,)
                ).fetchone()
                if row is None:
                    return None
                notes = json.loads(row[0])
                if len(notes) >= MAX_NOTES:
                    raise ValueError(f"a session holds at most {MAX_NOTES} notes")
                notes.append([to_millis(note.timestamp), note.text])
                db.execute(
                    "UPDATE brew_sessions SET notes = ? WHERE id = ?",
                    (json.dumps(notes), session_id),
                )
                return self._session_row(session_id)

        return await self._run(put)

    # -- saved profiles -------------------------------------------------------

    def _name_free(self, db: sqlite3.Connection, name: str, profile_id: str) -> None:
        row = db.execute("SELECT id FROM saved_profiles WHERE name = ?", (name,)).fetchone()
        if row is not None and row[0] != profile_id:
            raise ProfileNameTaken(name)

    async def save_profile(self, profile: SavedProfile) -> None:
        def put() -> None:
            with self._transaction() as db:
                self._name_free(db, profile.name, profile.id)
                (count,) = db.execute("SELECT COUNT(*) FROM saved_profiles").fetchone()
                if count >= MAX_SAVED_PROFILES:
                    raise TooManyProfiles
                db.execute(
                    f"INSERT INTO saved_profiles ({_PROFILE_COLUMNS}) VALUES (?, ?, ?, ?)",
                    (profile.id, profile.name, profile.steps_json(), to_millis(profile.updated)),
                )

        await self._run(put)

    async def saved_profiles(self) -> list[SavedProfile]:
        def get() -> list[SavedProfile]:
            rows = self._db.execute(
                f"SELECT {_PROFILE_COLUMNS} FROM saved_profiles ORDER BY name, id"
            ).fetchall()
            return [_profile_of(row) for row in rows]

        return await self._run(get)

    def _profile_row(self, profile_id: str) -> SavedProfile | None:
        row = self._db.execute(
            f"SELECT {_PROFILE_COLUMNS} FROM saved_profiles WHERE id = ?", (profile_id,)
        ).fetchone()
        return None if row is None else _profile_of(row)

    async def get_profile(self, profile_id: str) -> SavedProfile | None:
        return await self._run(self._profile_row, profile_id)

    async def replace_profile(self, profile: SavedProfile) -> SavedProfile | None:
        def put() -> SavedProfile | None:
            with self._transaction() as db:
                self._name_free(db, profile.name, profile.id)
                changed = db.execute(
                    "UPDATE saved_profiles SET name = ?, steps = ?, updated = ? WHERE id = ?",
                    (profile.name, profile.steps_json(), to_millis(profile.updated), profile.id),
                ).rowcount
                return self._profile_row(profile.id) if changed else None

        return await self._run(put)

    async def delete_profile(self, profile_id: str) -> bool:
        def drop() -> bool:
            with self._transaction() as db:
                gone = db.execute("DELETE FROM saved_profiles WHERE id = ?", (profile_id,))
                return gone.rowcount > 0

        return await self._run(drop)

    # -- gravity ----------------------------------------------------------------

    async def add_gravity(self, readings: Iterable[GravityReading]) -> int:
        rows = [
            (
                r.device,
                r.hydrometer,
                utc_millis(r.timestamp),
                r.sg,
                r.temperature_c,
                r.angle,
                r.battery,
                r.source.value,
            )
            for r in readings
        ]

        def put() -> int:
            with self._transaction() as db:
                before = db.total_changes
                db.executemany(_INSERT_GRAVITY, rows)
                return db.total_changes - before

        return await self._run(put) if rows else 0

    async def latest_gravity(self, device: str) -> dict[str, GravityReading]:
        def get() -> list[tuple[Any, ...]]:
            db = self._db
            names = db.execute(
                "SELECT DISTINCT hydrometer FROM gravity WHERE device = ? ORDER BY 1", (device,)
            ).fetchall()
            return [
                db.execute(
                    f"SELECT {_GRAVITY_COLUMNS} FROM gravity WHERE device = ? AND hydrometer = ?"
                    " ORDER BY ts DESC LIMIT 1",
                    (device, name),
                ).fetchone()
                for (name,) in names
            ]

        return {row[0]: _gravity_of(device, row) for row in await self._run(get)}

    async def gravity_series(
        self, device: str, hydrometer: str, start: datetime, end: datetime, buckets: int
    ) -> list[Bucket]:
        grid = Grid.of(start, end, buckets)
        rows = await self._run(
            lambda: self._db.execute(
                _GRAVITY_SERIES,
                (device, hydrometer, grid.start_ms, grid.end_ms, grid.width_ms),
            ).fetchall()
        )
        return combine(grid, rows)


def _gravity_of(device: str, row: tuple[Any, ...]) -> GravityReading:
    hydrometer, ts, sg, temperature, angle, battery, source = row
    return GravityReading(
        device, hydrometer, from_millis(ts), sg, temperature, angle, battery, GravitySource(source)
    )


def _profile_of(row: tuple[Any, ...]) -> SavedProfile:
    pid, name, steps, updated = row
    return SavedProfile(pid, name, SavedProfile.steps_of(steps), from_millis(updated))


def _session_of(row: tuple[Any, ...]) -> BrewSession:
    sid, device, name, style, yeast, og, fg, start, end, notes = row
    return BrewSession(
        sid,
        device,
        name,
        from_millis(start),
        None if end is None else from_millis(end),
        style,
        yeast,
        og,
        fg,
        tuple(SessionNote(from_millis(ts), text) for ts, text in json.loads(notes)),
    )
