"""The daemon's outbox: every recorded reading, on disk, until a history service has it.

SQLite in WAL mode with ``synchronous=FULL``: a committed batch survives a
power cut (the WAL is fsynced at each commit), and a write interrupted by one is
rolled back when the file is next opened, never half-applied. One connection
lives on one worker thread, because sqlite3 blocks and the event loop must not.

Readings get a monotonically increasing ``seq``; the cursor handed to clients is
that number as a string, so ``readings_since`` returns every reading after it,
in order, without gaps or repeats. The outbox is bounded by age and row count;
when pruning removed readings a client had not fetched yet, the page says
``gap: true`` so the history can note the hole.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from beerpi_protocol import Reading, ReadingsPage
from beerpi_protocol.timestamps import iso

_T = TypeVar("_T")

MAX_PAGE = 5000
_SCHEMA_VERSION = 1
# SQLite's files beside the outbox's own, moved with it when it is set aside.
OUTBOX_COMPANIONS = ("-wal", "-shm", "-journal")


class OutboxError(Exception):
    """The outbox file is unusable (corrupt, unreadable, disk full)."""


class OutboxUnwritable(OutboxError):
    """The disk under the outbox refuses writes (full, or failing): not a corrupt file."""


# SQLite's words for a disk that refuses a write, as opposed to a damaged file.
_DISK_REFUSES = ("disk is full", "disk i/o error", "readonly database", "read-only")


class CursorError(ValueError):
    """A cursor this outbox never handed out."""


@dataclass(frozen=True, slots=True)
class NewReading:
    probe: str
    timestamp: datetime
    temperature: float


class Outbox:
    def __init__(self, path: Path, *, max_age_s: float, max_rows: int) -> None:
        self._path = path
        self._max_age_s = max_age_s
        self._max_rows = max_rows
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beerpi-outbox")
        self._db: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        def call() -> _T:
            if self._db is None:
                raise OutboxError("outbox is closed")
            return fn(self._db)

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def open(self) -> None:
        def do_open() -> sqlite3.Connection:
            db: sqlite3.Connection | None = None
            try:
                db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:
                    db.executescript(
                        """
                        BEGIN;
                        CREATE TABLE readings (
                            seq INTEGER PRIMARY KEY AUTOINCREMENT,
                            probe TEXT NOT NULL,
                            ts TEXT NOT NULL,
                            ts_epoch REAL NOT NULL,
                            temperature REAL NOT NULL
                        );
                        CREATE INDEX readings_ts ON readings (ts_epoch);
                        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                        INSERT INTO meta VALUES ('pruned_through', 0);
                        PRAGMA user_version = 1;
                        COMMIT;
                        """
                    )
                elif version != _SCHEMA_VERSION:
                    raise OutboxError(
                        f"outbox {self._path} has schema {version}, this daemon knows "
                        f"{_SCHEMA_VERSION}"
                    )
                check = db.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise OutboxError(f"outbox {self._path} is corrupt: {check}")
                return db
            except BaseException as err:
                # Closed here, or the file stays open (and locked) behind a refused start.
                if db is not None:
                    db.close()
                if not isinstance(err, sqlite3.DatabaseError):
                    raise
                if any(words in str(err).lower() for words in _DISK_REFUSES):
                    raise OutboxUnwritable(f"outbox {self._path} cannot be opened: {err}") from err
                raise OutboxError(
                    f"outbox {self._path} cannot be opened ({err}); it may be corrupt"
                ) from err

        self._db = await asyncio.get_running_loop().run_in_executor(self._executor, do_open)

    async def close(self) -> None:
        def do_close(db: sqlite3.Connection) -> None:
            db.close()

        if self._db is not None:
            await self._run(do_close)
            self._db = None
        self._executor.shutdown(wait=True)

    async def append(self, readings: Sequence[NewReading], now: datetime) -> tuple[Reading, ...]:
        """Store a batch in one transaction, then prune; OutboxError if the disk refuses.

        Returns the stored readings with their sequence numbers.
        """
        rows = [
            (r.probe, iso(r.timestamp), r.timestamp.timestamp(), r.temperature) for r in readings
        ]
        oldest = (now - timedelta(seconds=self._max_age_s)).timestamp()

        def do_append(db: sqlite3.Connection) -> tuple[Reading, ...]:
            try:
                db.execute("BEGIN IMMEDIATE")
                stored = []
                for probe, ts, ts_epoch, temperature in rows:
                    cursor = db.execute(
                        "INSERT INTO readings (probe, ts, ts_epoch, temperature) "
                        "VALUES (?, ?, ?, ?)",
                        (probe, ts, ts_epoch, temperature),
                    )
                    seq = cursor.lastrowid
                    assert seq is not None
                    stored.append(
                        Reading(seq=seq, probe=probe, timestamp=ts, temperature=temperature)
                    )
                cutoff = db.execute(
                    "SELECT MAX(seq) FROM readings WHERE ts_epoch < ? OR seq <= "
                    "(SELECT MAX(seq) FROM readings) - ?",
                    (oldest, self._max_rows),
                ).fetchone()[0]
                if cutoff is not None:
                    db.execute("DELETE FROM readings WHERE seq <= ?", (cutoff,))
                    db.execute(
                        "UPDATE meta SET value = MAX(value, ?) WHERE key = 'pruned_through'",
                        (cutoff,),
                    )
                db.execute("COMMIT")
            except sqlite3.Error as err:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise OutboxError(f"cannot write the outbox: {err}") from err
            return tuple(stored)

        return await self._run(do_append)

    async def since(self, cursor: str | None, limit: int) -> ReadingsPage:
        """Readings after ``cursor`` (None: from the oldest kept), oldest first."""
        if cursor is None:
            after = 0
        elif cursor.isdigit() and len(cursor) <= 18:
            after = int(cursor)
        else:
            raise CursorError("cursor must be a value returned by readings_since, or null")
        limit = max(1, min(limit, MAX_PAGE))

        def do_since(db: sqlite3.Connection) -> ReadingsPage:
            last = db.execute("SELECT COALESCE(MAX(seq), 0) FROM readings").fetchone()[0]
            pruned = db.execute("SELECT value FROM meta WHERE key = 'pruned_through'").fetchone()[0]
            if after > max(last, _sequence_high_water(db)):
                raise CursorError("cursor is ahead of this outbox (was it reset?)")
            rows = db.execute(
                "SELECT seq, probe, ts, temperature FROM readings WHERE seq > ? "
                "ORDER BY seq LIMIT ?",
                (after, limit + 1),
            ).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            readings = tuple(
                Reading(seq=seq, probe=probe, timestamp=ts, temperature=temp)
                for seq, probe, ts, temp in rows
            )
            next_cursor = str(readings[-1].seq) if readings else str(after)
            return ReadingsPage(
                readings=readings,
                cursor=next_cursor,
                more=more,
                gap=cursor is not None and after < pruned,
            )

        return await self._run(do_since)

    async def latest_timestamp(self) -> datetime | None:
        """Time of the newest reading kept, None when empty."""

        def do_latest(db: sqlite3.Connection) -> datetime | None:
            value = db.execute("SELECT MAX(ts_epoch) FROM readings").fetchone()[0]
            return None if value is None else datetime.fromtimestamp(value, UTC)

        return await self._run(do_latest)

    async def count(self) -> int:
        return await self._run(
            lambda db: int(db.execute("SELECT COUNT(*) FROM readings").fetchone()[0])
        )


def _sequence_high_water(db: sqlite3.Connection) -> int:
    """Highest seq ever handed out, even if since pruned (AUTOINCREMENT keeps it)."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'readings'").fetchone()
    return int(row[0]) if row else 0
