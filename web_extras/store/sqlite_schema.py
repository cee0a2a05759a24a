"""The SQLite history schema, versioned with ``PRAGMA user_version``.

A later change appends a step to ``MIGRATIONS``; ``migrate`` runs the steps a
file has not seen yet, inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3

from .base import MAX_BUCKETS

# Readings are keyed by (series, ts), series being one (device, probe) pair:
# the primary key is the unique (device, probe, timestamp) index, and WITHOUT
# ROWID makes it the table itself, so a range scan reads adjacent pages.
# bucket_index holds 0..MAX_BUCKETS-1: series() walks it in order and seeks
# each bucket's key range, so its GROUP BY needs no sort (see sqlite.py).
_V1 = """
CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    probe TEXT NOT NULL,
    UNIQUE (device, probe)
);
CREATE TABLE readings (
    series INTEGER NOT NULL,
    ts INTEGER NOT NULL,            -- epoch milliseconds, UTC
    temperature REAL NOT NULL,      -- degrees Celsius
    PRIMARY KEY (series, ts)
) WITHOUT ROWID;
CREATE TABLE hourly (
    series INTEGER NOT NULL,
    hour INTEGER NOT NULL,          -- epoch milliseconds of the hour's start
    min REAL NOT NULL,
    max REAL NOT NULL,
    sum REAL NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (series, hour)
) WITHOUT ROWID;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL              -- JSON object
);
CREATE INDEX events_by_time ON events (device, ts);
CREATE TABLE media (
    device TEXT NOT NULL,
    id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (device, id)
) WITHOUT ROWID;
CREATE INDEX media_by_time ON media (device, ts);
CREATE TABLE cursors (
    device TEXT PRIMARY KEY,
    cursor TEXT
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value NOT NULL
);
CREATE TABLE bucket_index (
    i INTEGER PRIMARY KEY
);
"""

MIGRATIONS: tuple[str, ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> None:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"history file has schema version {version}, newer than this BeerPi "
            f"understands ({SCHEMA_VERSION}); upgrade BeerPi"
        )
    for step in MIGRATIONS[version:]:
        # executescript would COMMIT the caller's transaction; run statement by statement.
        for statement in step.split(";"):
            if statement.strip():
                db.execute(statement)
    if version != SCHEMA_VERSION:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    # The bucket numbers series() joins on; grows with MAX_BUCKETS, no migration needed.
    db.execute(
        "INSERT OR IGNORE INTO bucket_index (i)"
        " WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)"
        " SELECT i FROM n",
        (MAX_BUCKETS,),
    )
