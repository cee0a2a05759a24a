"""Readers of a daemon's outbox and the web service's SQLite history, straight from their files.

Shared by the reliability tests and scripts/soak.py: the counts they check come from
the files, so they do not depend on the code under test.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

from web_extras.store.base import to_millis
from web_extras.timefmt import parse_iso

Key = tuple[str, int, float]  # probe, epoch ms, temperature


def _millis(text: str) -> int:
    return to_millis(parse_iso(text))


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def outbox_rows(daemon_dir: Path) -> list[tuple[int, Key]]:
    """Every reading in a daemon's outbox, ``(seq, (probe, ms, °C))`` in seq order."""
    db = _read_only(daemon_dir / "outbox.sqlite3")
    try:
        rows = db.execute("SELECT seq, probe, ts, temperature FROM readings ORDER BY seq")
        return [(seq, (probe, _millis(ts), temp)) for seq, probe, ts, temp in rows]
    finally:
        db.close()


def outbox_count(daemon_dir: Path) -> int:
    db = _read_only(daemon_dir / "outbox.sqlite3")
    try:
        return int(db.execute("SELECT COUNT(*) FROM readings").fetchone()[0])
    finally:
        db.close()


def stored_rows(history: Path, device: str) -> list[Key]:
    """Every reading the service stored for ``device``, by probe and time."""
    if not history.exists():
        return []
    db = _read_only(history)
    try:
        rows = db.execute(
            "SELECT s.probe, r.ts, r.temperature FROM readings r JOIN series s ON s.id = r.series"
            " WHERE s.device = ? ORDER BY s.probe, r.ts",
            (device,),
        )
        return [(probe, int(ts), float(temp)) for probe, ts, temp in rows]
    except sqlite3.OperationalError:
        return []  # not created yet
    finally:
        db.close()


def rollup_mismatches(history: Path, device: str) -> list[tuple[str, int, int, int, int]]:
    """Rollup periods whose count differs from the raw readings they cover.

    ``(probe, width, start, rolled count, raw count)``; empty when every level
    counts each stored reading exactly once (a replayed batch counted twice, or
    a stored one not at all, shows up here).
    """
    db = _read_only(history)
    try:
        rows = db.execute(
            "WITH widths(w) AS (SELECT DISTINCT width FROM rollups),"
            " raw AS (SELECT r.series, w, r.ts - r.ts % w AS start, COUNT(*) AS n"
            "  FROM readings r, widths GROUP BY r.series, w, start)"
            " SELECT s.probe, k.width, k.start, IFNULL(ro.count, 0), IFNULL(raw.n, 0)"
            " FROM (SELECT series, width, start FROM rollups"
            "  UNION SELECT series, w, start FROM raw) k"
            " JOIN series s ON s.id = k.series"
            " LEFT JOIN rollups ro USING (series, width, start)"
            " LEFT JOIN raw ON raw.series = k.series AND raw.w = k.width AND raw.start = k.start"
            " WHERE s.device = ? AND IFNULL(ro.count, 0) != IFNULL(raw.n, 0)",
            (device,),
        )
        return [(str(p), int(w), int(st), int(a), int(b)) for p, w, st, a, b in rows]
    finally:
        db.close()


def stored_counts(history: Path) -> Counter[str]:
    """Readings stored per device."""
    if not history.exists():
        return Counter()
    db = _read_only(history)
    try:
        rows = db.execute(
            "SELECT s.device, COUNT(*) FROM readings r JOIN series s ON s.id = r.series"
            " GROUP BY s.device"
        )
        return Counter({device: int(n) for device, n in rows})
    except sqlite3.OperationalError:
        return Counter()
    finally:
        db.close()


def stored_cursor(history: Path, device: str) -> str | None:
    if not history.exists():
        return None
    db = _read_only(history)
    try:
        row = db.execute("SELECT cursor FROM cursors WHERE device = ?", (device,)).fetchone()
        return None if row is None else str(row[0])
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()


def gap_events(history: Path, device: str) -> int:
    db = _read_only(history)
    try:
        row = db.execute(
            "SELECT COUNT(*) FROM events WHERE device = ? AND kind = 'gap'", (device,)
        ).fetchone()
        return int(row[0])
    finally:
        db.close()
