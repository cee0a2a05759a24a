"""What only the SQLite store promises: its schema version, WAL, and a sort-free series."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from web_extras.store.sqlite import _SERIES_HOURLY, _SERIES_RAW, SqliteHistoryStore
from web_extras.store.sqlite_schema import SCHEMA_VERSION


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


async def test_series_groups_without_sorting(tmp_path: Path) -> None:
    store = SqliteHistoryStore(tmp_path / "h.sqlite")
    await store.open()
    await store.close()
    db = sqlite3.connect(tmp_path / "h.sqlite")
    try:
        for sql in (_SERIES_RAW, _SERIES_HOURLY):
            plan = " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, (0,) * 5))
            assert "TEMP B-TREE" not in plan, plan
            assert "PRIMARY KEY (series=? AND" in plan, plan
    finally:
        db.close()
