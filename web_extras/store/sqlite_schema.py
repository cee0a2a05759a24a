"""The SQLite history schema, versioned with ``PRAGMA user_version``.

A later change appends a step to ``MIGRATIONS``; ``migrate`` runs the steps a
file has not seen yet, inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3

# Readings are keyed by (series, ts), series being one (device, probe) pair:
# the primary key is the unique (device, probe, timestamp) index, and WITHOUT
# ROWID makes it the table itself, so a range scan reads adjacent pages.
# bucket_index (0..9999) was a join helper of the series query; v2 drops it.
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

# Rollups kept at ingest replace the hourly table retention used to fill.
# Existing readings are summed into the 10-minute level; hours already rolled
# up by the old retention become one 10-minute row at the hour's start (that
# is how series() counted them before). Coarser levels are summed from the
# 10-minute one. ``WHERE true`` lets SQLite parse the ON CONFLICT after a SELECT.
_V2 = """
CREATE TABLE rollups (
    series INTEGER NOT NULL,
    width INTEGER NOT NULL,         -- the level: period length in ms (base.LEVELS_MS)
    start INTEGER NOT NULL,         -- epoch ms of the period's start, a multiple of width
    min REAL NOT NULL,
    max REAL NOT NULL,
    sum REAL NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (series, width, start)
) WITHOUT ROWID;
INSERT INTO rollups (series, width, start, min, max, sum, count)
    SELECT series, 600000, ts - ((ts % 600000) + 600000) % 600000 AS s,
        MIN(temperature), MAX(temperature), SUM(temperature), COUNT(*)
    FROM readings GROUP BY series, s;
INSERT INTO rollups (series, width, start, min, max, sum, count)
    SELECT series, 600000, hour, min, max, sum, count FROM hourly WHERE true
    ON CONFLICT DO UPDATE SET min = MIN(min, excluded.min), max = MAX(max, excluded.max),
        sum = sum + excluded.sum, count = count + excluded.count;
INSERT INTO rollups (series, width, start, min, max, sum, count)
    SELECT series, 3600000, start - ((start % 3600000) + 3600000) % 3600000 AS s,
        MIN(min), MAX(max), SUM(sum), SUM(count)
    FROM rollups WHERE width = 600000 GROUP BY series, s;
INSERT INTO rollups (series, width, start, min, max, sum, count)
    SELECT series, 21600000, start - ((start % 21600000) + 21600000) % 21600000 AS s,
        MIN(min), MAX(max), SUM(sum), SUM(count)
    FROM rollups WHERE width = 3600000 GROUP BY series, s;
INSERT INTO rollups (series, width, start, min, max, sum, count)
    SELECT series, 86400000, start - ((start % 86400000) + 86400000) % 86400000 AS s,
        MIN(min), MAX(max), SUM(sum), SUM(count)
    FROM rollups WHERE width = 21600000 GROUP BY series, s;
DROP TABLE hourly;
DROP TABLE bucket_index;
CREATE INDEX events_by_kind ON events (device, kind, ts);
"""

# Brew sessions (sessions.py). The partial unique index is the one-running-
# session-per-fermenter rule; notes are a JSON list of [epoch ms, text].
_V3 = """
CREATE TABLE brew_sessions (
    id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    name TEXT NOT NULL,
    style TEXT NOT NULL,
    yeast TEXT NOT NULL,
    og REAL,
    fg REAL,
    start INTEGER NOT NULL,         -- epoch ms
    end_ts INTEGER,                 -- epoch ms, NULL while it runs
    notes TEXT NOT NULL
);
CREATE UNIQUE INDEX brew_sessions_running ON brew_sessions (device) WHERE end_ts IS NULL;
CREATE INDEX brew_sessions_by_start ON brew_sessions (device, start);
"""

# Gravity readings (gravity.py), one row per (device, hydrometer, instant).
_V4 = """
CREATE TABLE gravity (
    device TEXT NOT NULL,
    hydrometer TEXT NOT NULL,
    ts INTEGER NOT NULL,            -- epoch ms
    sg REAL NOT NULL,
    temperature REAL,               -- degrees Celsius
    angle REAL,
    battery REAL,
    source TEXT NOT NULL,
    PRIMARY KEY (device, hydrometer, ts)
) WITHOUT ROWID;
"""

# Saved fermentation profiles (profiles.py); steps are a JSON list of step objects.
_V5 = """
CREATE TABLE saved_profiles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    steps TEXT NOT NULL,
    updated INTEGER NOT NULL        -- epoch ms
);
"""

# Readings no probe can give (outside the -55..125 °C a DS18B20 reads), stored before
# the service checked them, and the rollups built on them: a hostile device's 1e308
# overflowed a rollup's sum to Infinity, which the API then served. The readings go;
# in each day that held one (or a rollup of impossible values) the 10-minute rows are
# summed again from the raw readings left (a period below the raw horizon has none: its
# row goes only if it is impossible itself), and the coarser rows from those.
_DAY = "((({0} % 86400000) + 86400000) % 86400000)"
_BAD_ROLLUP = "NOT (min >= -55.0 AND max <= 125.0 AND abs(sum) <= 125.0 * count)"
_IN_REPAIR = "(series, {0} - " + _DAY + ") IN (SELECT series, day FROM repair_days)"


def _coarser(width: int, finer: int) -> str:
    floor = f"start - (((start % {width}) + {width}) % {width})"
    return f"""
INSERT INTO rollups (series, width, start, min, max, sum, count)
    SELECT series, {width}, {floor} AS s, MIN(min), MAX(max), SUM(sum), SUM(count)
    FROM rollups WHERE width = {finer} AND {_IN_REPAIR.format("start")}
    GROUP BY series, s;"""


_V6 = f"""
CREATE TEMP TABLE repair_days AS
    SELECT DISTINCT series, ts - {_DAY.format("ts")} AS day FROM readings
        WHERE NOT (temperature BETWEEN -55.0 AND 125.0)
    UNION
    SELECT DISTINCT series, start - {_DAY.format("start")} FROM rollups WHERE {_BAD_ROLLUP};
DELETE FROM readings WHERE NOT (temperature BETWEEN -55.0 AND 125.0);
DELETE FROM rollups WHERE {_IN_REPAIR.format("start")} AND (
    width > 600000 OR {_BAD_ROLLUP} OR EXISTS (
        SELECT 1 FROM readings r
        WHERE r.series = rollups.series AND r.ts >= rollups.start AND r.ts < rollups.start + 600000
    )
);
INSERT INTO rollups (series, width, start, min, max, sum, count)
    SELECT series, 600000, ts - (((ts % 600000) + 600000) % 600000) AS s,
        MIN(temperature), MAX(temperature), SUM(temperature), COUNT(*)
    FROM readings WHERE {_IN_REPAIR.format("ts")}
    GROUP BY series, s;
{_coarser(3600000, 600000)}
{_coarser(21600000, 3600000)}
{_coarser(86400000, 21600000)}
DROP TABLE repair_days;
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6)
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
