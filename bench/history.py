"""History benchmark: ingest with rollups, and series queries against the fair baseline.

    python -m bench.history                # SQLite, plus MongoDB when secantus imports
    .venv311/bin/python -m bench.history   # secantusdb installs on Python 3.11..3.13 only
    python -m bench.history --quick        # small data sets (smoke test)

``make bench`` runs it with ``.venv311/bin/python`` (bench/run_all.py's INTERPRETERS).
It writes bench/results/history.json (or under BEERPI_BENCH_RESULTS) with its
own table rows in ``"metrics"`` (see bench/run_all.py).

The baseline is the strongest plain alternative, measured in the same run on
the same data: one SELECT of timestamp and temperature for the range, ordered,
``fetchall()``, and one Python loop that keeps min/max/sum/count per bucket
(MongoDB: one ``find`` with a projection, then the same loop). BeerPi's series
answers from the rollups kept at ingest (web_extras/store/base.py, ``cover``).

SQLite data sets (one reading a minute): one probe for a year, ingested
through ``add_readings`` in batches of 1000 (then the same batches again,
which must store nothing); from it, ten probes for a year and one probe for
ten years, for the query time from a month to ten years. Those two are made
inside SQLite from the year's rows (copies with another series id, or shifted
by whole years: exactly what the store writes for such data), because loading
ten million readings through the store would take most of make bench's time
budget on a shared 2-core machine. Every comparison checks that the series and
the baseline count the same readings.

MongoDB runs against secantus, an in-process emulator that evaluates queries in
Python: its rows test BeerPi's MongoDB code path and are labelled as the
emulator's; they say nothing about a real mongod. Its data set is capped by a
load-time budget.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from web_extras.store.base import Grid, HistoryStore, StoredReading, from_millis, to_millis
from web_extras.store.sqlite import SqliteHistoryStore

from ._daemon import BenchError, write_result

MINUTE_MS = 60_000
YEAR = 525_600  # minutes
END = datetime(2025, 1, 1, tzinfo=UTC)  # every data set ends here
END_MS = to_millis(END)
BATCH = 1000
BUCKETS = 1000
DEVICE = "bench"
SERIES_RUNS = 51  # a series takes milliseconds: many runs give a steadier median
BASELINE_RUNS = 3
# (label, minutes) of the ranges in the query-growth table, all ending at END.
RANGES = (
    ("1 month", 30 * 1440),
    ("3 months", 91 * 1440),
    ("1 year", YEAR),
    ("3 years", 3 * YEAR),
    ("10 years", 10 * YEAR),
)
GOAL_MS = 5.0
GOAL_RATIO = 50.0
GOAL_INGEST = 100_000
MONGO_LABEL = "MongoDB on secantus (an in-process emulator)"

Row = dict[str, Any]
Buckets = dict[int, list[float]]


def temperature(i: int, probe_index: int = 0) -> float:
    """A fermenter-like signal: a slow swing, a daily ripple, a little noise."""
    return round(19.0 + 2.0 * math.sin(i / 720.0 + probe_index) + (i % 7) * 0.01, 3)


def points(minutes: int, probe_index: int = 0) -> Iterator[tuple[int, float]]:
    """(epoch ms, °C), one a minute, the last one a minute before END."""
    first = END_MS - minutes * MINUTE_MS
    for i in range(minutes):
        yield first + i * MINUTE_MS, temperature(i, probe_index)


def reading_batches(minutes: int) -> list[list[StoredReading]]:
    readings = [StoredReading(DEVICE, "beer", from_millis(ms), t) for ms, t in points(minutes)]
    return [readings[i : i + BATCH] for i in range(0, len(readings), BATCH)]


def reduce_rows(rows: Iterator[tuple[Any, float]] | list[tuple[Any, float]], grid: Grid) -> Buckets:
    """The baseline's one Python loop: min/max/sum/count per bucket of (ms, °C) rows."""
    start, width = grid.start_ms, grid.width_ms
    acc: Buckets = {}
    for ts, value in rows:
        index = (ts - start) // width
        slot = acc.get(index)
        if slot is None:
            acc[index] = [value, value, value, 1.0]
        else:
            if value < slot[0]:
                slot[0] = value
            if value > slot[1]:
                slot[1] = value
            slot[2] += value
            slot[3] += 1
    return acc


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, Any]:
    """Median seconds of ``runs`` calls (fewer when one call takes over 2 s) and a result."""
    times: list[float] = []
    result: Any = None
    while len(times) < runs:
        start = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - start)
        if times[0] > 2.0:
            break
    return statistics.median(times), result


def counted(buckets: Any) -> int:
    if isinstance(buckets, dict):
        return int(sum(slot[3] for slot in buckets.values()))
    return sum(b.count for b in buckets)


class SqliteBaseline:
    """The fair baseline on the store's own file, through a plain connection."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def series_id(self, probe: str) -> int:
        row = self.db.execute(
            "SELECT id FROM series WHERE device = ? AND probe = ?", (DEVICE, probe)
        ).fetchone()
        if row is None:
            raise BenchError(f"no series {probe}")
        return int(row[0])

    async def buckets(self, probe: str, grid: Grid) -> Buckets:
        rows = self.db.execute(
            "SELECT ts, temperature FROM readings WHERE series = ? AND ts >= ? AND ts < ?"
            " ORDER BY ts",
            (self.series_id(probe), grid.start_ms, grid.end_ms),
        ).fetchall()
        return reduce_rows(rows, grid)

    def close(self) -> None:
        self.db.close()


def grid_of(minutes: int) -> Grid:
    return Grid.of(from_millis(END_MS - minutes * MINUTE_MS), END, BUCKETS)


async def compare(
    store: HistoryStore,
    baseline: Callable[[str, Grid], Awaitable[Buckets]],
    probe: str,
    minutes: int,
    expect: int,
) -> dict[str, float]:
    """Series vs baseline over the last ``minutes``; both must count ``expect`` readings."""
    grid = grid_of(minutes)
    start, end = from_millis(grid.start_ms), from_millis(grid.end_ms)
    ours_s, ours = await timed(
        lambda: store.series(DEVICE, probe, start, end, BUCKETS), SERIES_RUNS
    )
    base_s, base = await timed(lambda: baseline(probe, grid), BASELINE_RUNS)
    if counted(ours) != expect or counted(base) != expect:
        raise BenchError(
            f"{expect} readings, series counted {counted(ours)}, baseline {counted(base)}"
        )
    return {
        "series_ms": round(ours_s * 1000, 2),
        "baseline_ms": round(base_s * 1000, 1),
        "ratio": round(base_s / ours_s, 1),
        "buckets": len(ours),
        "readings": expect,
    }


async def ingest(store: HistoryStore, batches: list[list[StoredReading]]) -> dict[str, Any]:
    total = sum(len(b) for b in batches)
    start = time.perf_counter()
    stored = 0
    for batch in batches:
        stored += await store.add_readings(batch)
    fresh = time.perf_counter() - start
    start = time.perf_counter()
    again = 0
    for batch in batches:
        again += await store.add_readings(batch)
    replay = time.perf_counter() - start
    if stored != total or again != 0:
        raise BenchError(f"idempotency broken: {stored}/{total} stored, {again} on replay")
    return {
        "readings": total,
        "readings_per_s": round(total / fresh),
        "replay_readings_per_s": round(total / replay),
    }


def plain_ingest(path: Path, batches: list[list[StoredReading]]) -> int:
    """Baseline for ingest: the same batches into a table without rollups (rows pre-converted)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE readings (series INTEGER NOT NULL, ts INTEGER NOT NULL,"
        " temperature REAL NOT NULL, PRIMARY KEY (series, ts)) WITHOUT ROWID"
    )
    rows = [[(1, to_millis(r.timestamp), r.temperature) for r in b] for b in batches]
    start = time.perf_counter()
    for chunk in rows:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR IGNORE INTO readings VALUES (?, ?, ?)", chunk)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return round(sum(len(c) for c in rows) / elapsed)


def probe_name(k: int) -> str:
    return "beer" if k == 0 else f"probe{k}"


def copy_store(source: Path, target: Path) -> sqlite3.Connection:
    shutil.copyfile(source, target)
    return sqlite3.connect(target, isolation_level=None)


def ten_probes(year_file: Path, target: Path) -> None:
    """The year's store with nine more probes: the first one's rows, offset by k/10 °C.

    Made inside SQLite, as add_points would write them (readings, and rollups
    whose min/max/sum move with the offset), to keep make bench in its budget.
    """
    db = copy_store(year_file, target)
    with db:
        db.execute("BEGIN")
        for k in range(1, 10):
            sid = int(
                db.execute(
                    "INSERT INTO series (device, probe) VALUES (?, ?) RETURNING id",
                    (DEVICE, probe_name(k)),
                ).fetchone()[0]
            )
            args = {"sid": sid, "offset": k / 10}
            db.execute(
                "INSERT INTO readings SELECT :sid, ts, temperature + :offset FROM readings"
                " WHERE series = 1",
                args,
            )
            db.execute(
                "INSERT INTO rollups SELECT :sid, width, start, min + :offset, max + :offset,"
                " sum + count * :offset, count FROM rollups WHERE series = 1",
                args,
            )
        db.execute("COMMIT")
    db.close()


def ten_years(year_file: Path, target: Path, minutes: int) -> None:
    """The year's store with the nine years before it: the same rows, shifted.

    A year of whole days shifts every rollup period (10 min to 1 day) onto
    its own kind, so the copies are what add_points would write for a signal
    that repeats yearly.
    """
    db = copy_store(year_file, target)
    first = END_MS - minutes * MINUTE_MS
    with db:
        db.execute("BEGIN")
        for k in range(1, 10):
            shift = k * minutes * MINUTE_MS
            db.execute(
                "INSERT INTO readings SELECT series, ts - ?, temperature FROM readings"
                " WHERE series = 1 AND ts >= ?",
                (shift, first),
            )
            db.execute(
                "INSERT INTO rollups SELECT series, width, start - ?, min, max, sum, count"
                " FROM rollups WHERE series = 1 AND start >= ?",
                (shift, first),
            )
        db.execute("COMMIT")
    db.close()


# Long on purpose: one SQLite benchmark run in order (ingest, a year, ten probes, ten years),
# each step adding to the one result it returns.
async def bench_sqlite(tmp: Path, year: int) -> dict[str, Any]:
    result: dict[str, Any] = {}

    store = SqliteHistoryStore(tmp / "year.sqlite")
    await store.open()
    try:
        batches = reading_batches(year)
        print(f"sqlite: ingest {year:,} readings in batches of {BATCH}", flush=True)
        result["ingest"] = await ingest(store, batches)
        result["ingest"]["plain_insert_per_s"] = plain_ingest(tmp / "plain.sqlite", batches)
        baseline = SqliteBaseline(tmp / "year.sqlite")
        try:
            result["year"] = await compare(store, baseline.buckets, "beer", year, year)
        finally:
            baseline.close()
    finally:
        await store.close()

    print(f"sqlite: 10 probes × {year:,} readings", flush=True)
    ten_probes(tmp / "year.sqlite", tmp / "ten.sqlite")
    store = SqliteHistoryStore(tmp / "ten.sqlite")
    await store.open()
    try:
        baseline = SqliteBaseline(tmp / "ten.sqlite")
        try:
            result["ten_one"] = await compare(store, baseline.buckets, "probe5", year, year)
            grid = grid_of(year)
            start, end = from_millis(grid.start_ms), from_millis(grid.end_ms)
            names = [probe_name(k) for k in range(10)]

            async def ours() -> int:
                return sum(
                    [counted(await store.series(DEVICE, p, start, end, BUCKETS)) for p in names]
                )

            async def base() -> int:
                return sum([counted(await baseline.buckets(p, grid)) for p in names])

            ours_s, n_ours = await timed(ours, SERIES_RUNS // 2)
            base_s, n_base = await timed(base, 1)
            if n_ours != n_base or n_ours != 10 * year:
                raise BenchError(f"ten probes: series {n_ours}, baseline {n_base}")
            result["ten_all"] = {
                "series_ms": round(ours_s * 1000, 2),
                "baseline_ms": round(base_s * 1000, 1),
                "ratio": round(base_s / ours_s, 1),
                "readings": n_ours,
            }
        finally:
            baseline.close()
    finally:
        await store.close()

    print(f"sqlite: one probe, {10 * year:,} readings (ten years)", flush=True)
    ten_years(tmp / "year.sqlite", tmp / "decade.sqlite", year)
    store = SqliteHistoryStore(tmp / "decade.sqlite")
    await store.open()
    try:
        baseline = SqliteBaseline(tmp / "decade.sqlite")
        try:
            result["growth"] = {}
            for label, m in RANGES:
                minutes = m * year // YEAR
                result["growth"][label] = await compare(
                    store, baseline.buckets, "beer", minutes, minutes
                )
        finally:
            baseline.close()
    finally:
        await store.close()
    return result


async def bench_mongo(url: str, budget_s: float, sample: int) -> dict[str, Any]:
    from web_extras.store.mongo import MongoHistoryStore

    result: dict[str, Any] = {}
    batches = reading_batches(sample)
    for name, upsert in (("insert_many_unordered", False), ("bulk_upsert", True)):
        store = MongoHistoryStore(url, f"bench_{name}", upsert=upsert)
        await store.open()
        try:
            result[f"ingest_{name}"] = await ingest(store, batches)
        finally:
            await store.close()
    rate = result["ingest_insert_many_unordered"]["readings_per_s"]
    minutes = min(YEAR, max(BATCH, int(rate * budget_s) // BATCH * BATCH))
    result["points_note"] = (
        "a full year"
        if minutes == YEAR
        else f"the last {minutes:,} minutes of the year: a {budget_s:.0f} s load budget"
        f" at the measured {rate:,} readings/s (the query still asks for the whole year)"
    )
    print(f"mongo: loading {minutes:,} readings ({result['points_note']})", flush=True)
    store = MongoHistoryStore(url, "bench_year")
    await store.open()
    try:
        start = time.perf_counter()
        await store.add_points(DEVICE, "beer", points(minutes))
        result["load_per_s"] = round(minutes / (time.perf_counter() - start))
        from pymongo import AsyncMongoClient

        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
        readings = client["bench_year"]["readings"]

        async def baseline(probe: str, grid: Grid) -> Buckets:
            start_dt = from_millis(grid.start_ms)
            cursor = readings.find(
                {
                    "device": DEVICE,
                    "probe": probe,
                    "timestamp": {"$gte": start_dt, "$lt": from_millis(grid.end_ms)},
                },
                {"_id": 0, "timestamp": 1, "temperature": 1},
            ).sort("timestamp", 1)
            docs = await cursor.to_list()
            rows = [(to_millis(d["timestamp"]), d["temperature"]) for d in docs]
            return reduce_rows(rows, grid)

        try:
            year = await compare(store, baseline, "beer", YEAR, minutes)
        finally:
            await client.close()
        result["year"] = year
    finally:
        await store.close()
    return result


def row(
    metric: str,
    value: float,
    unit: str,
    goal: str | None = None,
    passed: bool | None = None,
    baseline: str | None = None,
    ratio: str | None = None,
) -> Row:
    return {
        "metric": metric,
        "value": value,
        "unit": unit,
        "goal": goal,
        "passed": passed,
        "baseline": baseline,
        "ratio": ratio,
    }


def query_rows(label: str, part: dict[str, Any], goals: bool) -> list[Row]:
    """The time row (goal < 5 ms) and the speed-up row (goal ≥ 50×) of one comparison."""
    ms, ratio = part["series_ms"], part["ratio"]
    return [
        row(
            label,
            ms,
            "ms",
            f"< {GOAL_MS:g} ms" if goals else None,
            ms < GOAL_MS if goals else None,
            f"SELECT + Python loop: {part['baseline_ms']:,} ms",
            f"{ratio:,}× faster",
        ),
        row(
            f"{label}: speed-up over the baseline",
            ratio,
            "×",
            f"≥ {GOAL_RATIO:g}×" if goals else None,
            ratio >= GOAL_RATIO if goals else None,
        ),
    ]


def sqlite_rows(part: dict[str, Any]) -> list[Row]:
    ingest = part["ingest"]
    rate, plain = ingest["readings_per_s"], ingest["plain_insert_per_s"]
    rows = [
        row(
            f"history SQLite: ingest with rollups, batches of {BATCH}",
            rate,
            "readings/s",
            f"≥ {GOAL_INGEST:,}/s",
            rate >= GOAL_INGEST,
            f"INSERT without rollups: {plain:,}/s",
            f"{rate / plain:.2f}× its rate",
        ),
        row(
            "history SQLite: the same batches again (nothing new)",
            ingest["replay_readings_per_s"],
            "readings/s",
        ),
    ]
    year = part["year"]
    rows += query_rows(
        f"history SQLite: {year['readings']:,} readings (1 probe) → {BUCKETS} buckets", year, True
    )
    one = part["ten_one"]
    rows += query_rows(
        f"history SQLite, 10 probes × {one['readings']:,}: one probe → {BUCKETS} buckets", one, True
    )
    every = part["ten_all"]
    rows.append(
        row(
            f"history SQLite, 10 probes × {one['readings']:,}: all ten → {BUCKETS} buckets each",
            every["series_ms"],
            "ms",
            f"≥ {GOAL_RATIO:g}× baseline",
            every["ratio"] >= GOAL_RATIO,
            f"SELECT + Python loop: {every['baseline_ms']:,} ms",
            f"{every['ratio']:,}× faster",
        )
    )
    for label, growth in part["growth"].items():
        rows.append(
            row(
                f"history SQLite: {label} ({growth['readings']:,}) → {BUCKETS} buckets",
                growth["series_ms"],
                "ms",
                baseline=f"SELECT + Python loop: {growth['baseline_ms']:,} ms",
                ratio=f"{growth['ratio']:,}× faster",
            )
        )
    return rows


def mongo_rows(part: dict[str, Any]) -> list[Row]:
    rows = [
        row(
            f"history {MONGO_LABEL}: ingest with rollups ({how.replace('_', ' ')})",
            part[f"ingest_{how}"]["readings_per_s"],
            "readings/s",
        )
        for how in ("insert_many_unordered", "bulk_upsert")
    ]
    year = part["year"]
    rows.append(
        row(
            f"history {MONGO_LABEL}: {year['readings']:,} readings → {BUCKETS} buckets",
            year["series_ms"],
            "ms",
            baseline=f"find + Python loop: {year['baseline_ms']:,} ms",
            ratio=f"{year['ratio']:,}× faster",
        )
    )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mongo-budget", type=float, default=30.0, help="seconds to load secantus")
    parser.add_argument("--no-mongo", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small data sets (smoke test)")
    args = parser.parse_args(argv)
    # Quick: four days stand for the year (whole days, as ten_years needs).
    year, sample = (4 * 1440, 500) if args.quick else (YEAR, 2000)
    budget = 1.0 if args.quick else args.mongo_budget

    report: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "batch": BATCH,
        "buckets": BUCKETS,
        "quick": args.quick,
        "notes": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        report["sqlite"] = asyncio.run(bench_sqlite(Path(tmp), year))
    print(json.dumps(report["sqlite"], indent=2), flush=True)
    metrics = sqlite_rows(report["sqlite"])

    if args.no_mongo:
        report["mongo"] = "skipped (--no-mongo)"
    else:
        try:
            # Untyped, and only installable on Python 3.11..3.13.
            secantus = importlib.import_module("secantus")
        except ImportError:
            report["mongo"] = f"skipped: secantusdb is not installed for Python {sys.version}"
        else:
            with ExitStack() as stack:
                server = stack.enter_context(secantus.SecantusDBServer(storage_path=":memory:"))
                url = server.uri + "?directConnection=true"
                print("mongo (secantus, in-process):", flush=True)
                report["mongo"] = asyncio.run(bench_mongo(url, budget, sample))
                report["mongo"]["server"] = "secantusdb (in-process, :memory:)"
            metrics += mongo_rows(report["mongo"])
            report["notes"] += [
                f"history {MONGO_LABEL}: secantus evaluates queries in Python, in-process; these"
                " rows test BeerPi's MongoDB code path and say nothing about a real mongod",
                f"history {MONGO_LABEL}: loaded {report['mongo']['points_note']}",
            ]
        print(json.dumps(report["mongo"], indent=2), flush=True)
    if isinstance(report["mongo"], str):
        report["notes"].append(f"history MongoDB: {report['mongo']}")
    report["metrics"] = metrics
    print(f"wrote {write_result('history', report)}")


if __name__ == "__main__":
    main()
