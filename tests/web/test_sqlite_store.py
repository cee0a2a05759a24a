"""What only the SQLite store promises: its schema version and migrations, WAL, atomic batches."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from web_extras.store import LinkCursor, StoredReading
from web_extras.store.base import HOUR_MS, LEVELS_MS
from web_extras.store.sqlite import SqliteHistoryStore
from web_extras.store.sqlite_schema import MIGRATIONS, SCHEMA_VERSION

T0_MS = 1_709_251_200_000  # 2024-03-01T00:00Z


async def test_new_file_is_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    store = SqliteHistoryStore(path)
    await store.open()
    await store.open()  # idempotent
    await store.close()
    await store.close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    store = SqliteHistoryStore(path)
    with pytest.raises(RuntimeError, match="newer"):
        await store.open()
    with pytest.raises(RuntimeError, match="not open"):
        await store.count()


def _v1_file(path: Path) -> None:
    """A history file as BeerPi wrote it before rollups were kept at ingest."""
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO series (id, device, probe) VALUES (1, 'fv1', 'beer')")
    # Three hours the old retention rolled up, then two hours of raw minutes.
    db.executemany(
        "INSERT INTO hourly VALUES (1, ?, ?, ?, ?, 60)",
        [(T0_MS + h * HOUR_MS, 10.0 + h, 20.0 + h, 60 * (15.0 + h)) for h in range(3)],
    )
    db.executemany(
        "INSERT INTO readings VALUES (1, ?, ?)",
        [(T0_MS + 3 * HOUR_MS + i * 60_000, float(i)) for i in range(120)],
    )
    db.execute("INSERT INTO settings VALUES ('rolled_until', ?)", (T0_MS + 3 * HOUR_MS,))
    db.commit()
    db.close()


async def test_a_v1_file_gets_every_rollup_level(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _v1_file(path)
    store = SqliteHistoryStore(path)
    await store.open()
    try:
        start = datetime.fromtimestamp(T0_MS / 1000, UTC)
        hours = await store.series("fv1", "beer", start, start + timedelta(hours=5), 5)
        assert [(b.min, b.max, b.count) for b in hours] == [
            (10.0, 20.0, 60),
            (11.0, 21.0, 60),
            (12.0, 22.0, 60),
            (0.0, 59.0, 60),
            (60.0, 119.0, 60),
        ]
        [day] = await store.series("fv1", "beer", start, start + timedelta(days=1), 1)
        assert (day.count, day.min, day.max) == (300, 0.0, 119.0)
        assert await store.raw_horizon() == start + timedelta(hours=3)
        assert await store.count() == 120
    finally:
        await store.close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        widths = db.execute("SELECT width, SUM(count) FROM rollups GROUP BY width").fetchall()
        assert widths == [(width, 300) for width in LEVELS_MS]
    finally:
        db.close()


def _v5_file_with_an_overflow(path: Path) -> None:
    """A history file as BeerPi wrote it before readings were checked: a device's two
    1e308 readings among good ones overflowed the 10-minute rollup to Infinity, and an
    impossible rollup below the raw horizon has no raw readings left."""
    db = sqlite3.connect(path)
    for step in MIGRATIONS[:5]:
        for statement in step.split(";"):
            if statement.strip():
                db.execute(statement)
    db.execute("PRAGMA user_version = 5")
    db.execute("INSERT INTO series (id, device, probe) VALUES (1, 'fv1', 'beer')")
    day = T0_MS + 86_400_000
    good = [(day + i * 60_000, 18.0 + i / 100) for i in range(60)]  # an hour of minutes
    bad = [(day + 90_000, 1e308), (day + 150_000, 1e308)]
    db.executemany("INSERT INTO readings VALUES (1, ?, ?)", good + bad)
    rows = []
    for width in LEVELS_MS:
        start = day - day % width
        rows.append((width, start, 18.0, 1e308, float("inf"), 62))
    # Below the raw horizon (the day before): a rollup of an impossible reading, and a
    # good one, both with no raw readings left.
    rows.append((LEVELS_MS[0], T0_MS, 18.0, 1e308, 1e308 + 18.0, 2))
    rows.append((LEVELS_MS[0], T0_MS + 600_000, 17.0, 19.0, 36.0, 2))
    db.executemany("INSERT INTO rollups VALUES (1, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("INSERT INTO settings VALUES ('rolled_until', ?)", (day,))
    db.commit()
    db.close()


async def test_readings_no_probe_gives_and_their_rollups_are_repaired(tmp_path: Path) -> None:
    path = tmp_path / "overflowed.sqlite"
    _v5_file_with_an_overflow(path)
    store = SqliteHistoryStore(path)
    await store.open()
    try:
        day = datetime.fromtimestamp((T0_MS + 86_400_000) / 1000, UTC)
        # Every level of the day counts the hour of good readings, and nothing else.
        for buckets in (1, 4, 24, 144):
            series = await store.series("fv1", "beer", day, day + timedelta(days=1), buckets)
            assert sum(b.count for b in series) == 60, buckets
            assert min(b.min for b in series) == 18.0
            assert max(b.max for b in series) == pytest.approx(18.59)
        assert await store.count() == 60
        before = datetime.fromtimestamp(T0_MS / 1000, UTC)
        [kept] = await store.series("fv1", "beer", before, before + timedelta(days=1), 1)
        assert (kept.count, kept.min, kept.max) == (2, 17.0, 19.0)
        # New readings count on top, as usual.
        late = day + timedelta(hours=2)
        await store.add_readings([StoredReading("fv1", "beer", late, 20.0)])
        series = await store.series("fv1", "beer", day, day + timedelta(days=1), 1)
        assert sum(b.count for b in series) == 61
    finally:
        await store.close()


async def test_a_failed_batch_leaves_no_rollup_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteHistoryStore(tmp_path / "h.sqlite")
    await store.open()
    try:
        start = datetime.fromtimestamp(T0_MS / 1000, UTC)
        batch = [
            StoredReading("fv1", "beer", start + timedelta(minutes=i), 20.0) for i in range(30)
        ]

        def broken(*args: object) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        # The cursor is the batch's last write: it fails after readings and rollups.
        monkeypatch.setattr(SqliteHistoryStore, "_set_cursor_in", staticmethod(broken))
        with pytest.raises(sqlite3.OperationalError):
            await store.add_readings(batch, cursor=LinkCursor("fv1", "30"))
        monkeypatch.undo()
        assert await store.count() == 0
        assert await store.series("fv1", "beer", start, start + timedelta(days=1), 1) == []
        assert await store.add_readings(batch) == 30
        [day] = await store.series("fv1", "beer", start, start + timedelta(days=1), 1)
        assert day.count == 30
    finally:
        await store.close()
