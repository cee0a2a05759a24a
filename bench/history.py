"""History store benchmark: ingest rate and a year-long 1000-bucket query.

    python -m bench.history            # SQLite, plus MongoDB when secantus imports
    .venv311/bin/python -m bench.history   # the MongoDB part needs secantusdb (3.11..3.13)
    python -m bench.history --quick        # small data sets, for the smoke test

``make bench`` runs it with ``.venv311/bin/python`` (bench/run_all.py's INTERPRETERS),
so the MongoDB part is in its table.

For each store: readings/s stored in batches of 1000 (new readings, then the
same batches re-delivered, which must store nothing), then a 1000-bucket
series over a year of 1-minute readings computed in the database against
fetching every raw point and bucketing in Python. secantus is an in-process
Python server, far slower to load than mongod, so its data set is capped by a
time budget and the size is printed and recorded; it evaluates aggregation in
Python, so its numbers test BeerPi's MongoDB code path, not a real mongod. Writes
bench/results/history.json (or under BEERPI_BENCH_RESULTS).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from web_extras.store.base import Grid, HistoryStore, StoredReading, to_millis
from web_extras.store.sqlite import SqliteHistoryStore

from ._daemon import write_result

T0 = datetime(2024, 1, 1, tzinfo=UTC)
YEAR_OF_MINUTES = 525_600
BATCH = 1000
BUCKETS = 1000
SAMPLE = 10_000  # readings per ingest-method comparison on the MongoDB-protocol store


def year(points: int) -> Iterator[StoredReading]:
    """A fermenter-like signal, one reading a minute from T0."""
    for i in range(points):
        temperature = 19.0 + 2.0 * math.sin(i / 720.0) + (i % 7) * 0.01
        yield StoredReading("bench", "beer", T0 + timedelta(minutes=i), round(temperature, 3))


def batches(points: int, offset: int = 0) -> Iterator[list[StoredReading]]:
    chunk: list[StoredReading] = []
    for reading in year(offset + points):
        if reading.timestamp < T0 + timedelta(minutes=offset):
            continue
        chunk.append(reading)
        if len(chunk) == BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def ingest(store: HistoryStore, chunks: list[list[StoredReading]]) -> dict[str, float]:
    """Rate of new readings, then of the same batches delivered again."""
    total = sum(len(c) for c in chunks)
    start = time.perf_counter()
    stored = 0
    for chunk in chunks:
        stored += await store.add_readings(chunk)
    fresh = time.perf_counter() - start
    start = time.perf_counter()
    again = 0
    for chunk in chunks:
        again += await store.add_readings(chunk)
    replay = time.perf_counter() - start
    if stored != total or again != 0:
        raise AssertionError(f"idempotency broken: {stored}/{total} stored, {again} on replay")
    return {
        "readings": total,
        "seconds": round(fresh, 3),
        "readings_per_s": round(total / fresh),
        "replay_readings_per_s": round(total / replay),
    }


async def fetch_all_buckets(store: HistoryStore, end: datetime) -> int:
    """The slow way: every raw point into Python, then min/mean/max per bucket."""
    grid = Grid.of(T0, end, BUCKETS)
    acc: dict[int, list[float]] = {}
    async for r in store.raw("bench", "beer", T0, end):
        index = (to_millis(r.timestamp) - grid.start_ms) // grid.width_ms
        slot = acc.get(index)
        if slot is None:
            acc[index] = [r.temperature, r.temperature, r.temperature, 1.0]
        else:
            slot[0] = min(slot[0], r.temperature)
            slot[1] = max(slot[1], r.temperature)
            slot[2] += r.temperature
            slot[3] += 1
    return sum(int(s[3]) for s in acc.values())


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, int, Any]:
    """Median of ``runs`` timings; a single run when one already takes over 2 s."""
    times: list[float] = []
    result: Any = None
    while len(times) < runs:
        start = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - start)
        if times[0] > 2.0:
            break
    return statistics.median(times), len(times), result


async def query(store: HistoryStore, points: int) -> dict[str, Any]:
    end = T0 + timedelta(minutes=YEAR_OF_MINUTES)
    db_s, db_runs, buckets = await timed(lambda: store.series("bench", "beer", T0, end, BUCKETS), 7)
    fetch_s, fetch_runs, fetched = await timed(lambda: fetch_all_buckets(store, end), 3)
    counted = sum(b.count for b in buckets)
    if counted != points or fetched != points:
        raise AssertionError(f"{points} points, series counted {counted}, fetch-all {fetched}")
    return {
        "points": points,
        "buckets_returned": len(buckets),
        "series_in_db_ms": round(db_s * 1000, 1),
        "series_runs": db_runs,
        "fetch_all_ms": round(fetch_s * 1000, 1),
        "fetch_all_runs": fetch_runs,
        "speedup": round(fetch_s / db_s, 1),
    }


async def bench_sqlite(points: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteHistoryStore(Path(tmp) / "bench.sqlite")
        await store.open()
        try:
            chunks = list(batches(points))
            result = {"ingest": await ingest(store, chunks)}
            result["query"] = await query(store, points)
        finally:
            await store.close()
    return result


async def bench_mongo(url: str, budget_s: float, sample_size: int = SAMPLE) -> dict[str, Any]:
    from web_extras.store.mongo import MongoHistoryStore

    result: dict[str, Any] = {}
    # Which idempotent write is faster: unordered insert ignoring duplicate
    # keys, or bulk upserts. Same readings (10,000) into fresh databases.
    sample = list(batches(sample_size))
    for name, upsert in (("insert_many_unordered", False), ("bulk_upsert", True)):
        async with AsyncExitStack() as stack:
            store = MongoHistoryStore(url, f"bench_{name}", upsert=upsert)
            await store.open()
            stack.push_async_callback(store.close)
            result[f"ingest_{name}"] = await ingest(store, sample)
    rate = result["ingest_insert_many_unordered"]["readings_per_s"]
    # Inserts slow down as the unique index grows (about a quarter by 400k).
    points = min(YEAR_OF_MINUTES, max(BATCH, int(rate / 1.3 * budget_s) // BATCH * BATCH))
    result["points_note"] = (
        "full year"
        if points == YEAR_OF_MINUTES
        else f"capped at {points} of {YEAR_OF_MINUTES} readings by a {budget_s:.0f} s load budget"
        f" at the measured {rate} readings/s; the query still asks for the whole year"
    )
    print(f"  mongo: loading {points} readings ({result['points_note']})", flush=True)
    store = MongoHistoryStore(url, "bench_year")
    await store.open()
    try:
        start = time.perf_counter()
        for chunk in batches(points):
            await store.add_readings(chunk)
        load = time.perf_counter() - start
        result["year_load"] = {
            "readings": points,
            "seconds": round(load, 1),
            "readings_per_s": round(points / load),
        }
        result["query"] = await query(store, points)
    finally:
        await store.close()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=YEAR_OF_MINUTES, help="SQLite data set")
    parser.add_argument(
        "--mongo-budget", type=float, default=60.0, help="seconds allowed to load secantus"
    )
    parser.add_argument("--no-mongo", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small data sets (smoke test)")
    args = parser.parse_args(argv)
    sample_size = SAMPLE
    if args.quick:
        args.points, args.mongo_budget, sample_size = 20_000, 2.0, 2_000

    report: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "batch": BATCH,
        "buckets": BUCKETS,
        "quick": args.quick,
    }
    print(f"sqlite: {args.points} readings", flush=True)
    report["sqlite"] = asyncio.run(bench_sqlite(args.points))
    print(json.dumps(report["sqlite"], indent=2), flush=True)

    if args.no_mongo:
        report["mongo"] = "skipped (--no-mongo)"
    else:
        try:
            # Untyped, and only installable on Python 3.11..3.13.
            secantus = importlib.import_module("secantus")
        except ImportError:
            report["mongo"] = f"skipped: secantusdb is not installed for Python {sys.version}"
            print(report["mongo"])
        else:
            with ExitStack() as stack:
                server = stack.enter_context(secantus.SecantusDBServer(storage_path=":memory:"))
                url = server.uri + "?directConnection=true"
                print("mongo (secantus, in-process):", flush=True)
                report["mongo"] = asyncio.run(bench_mongo(url, args.mongo_budget, sample_size))
                report["mongo"]["server"] = "secantusdb (in-process, :memory:)"
            print(json.dumps(report["mongo"], indent=2), flush=True)

    print(f"wrote {write_result('history', report)}")


if __name__ == "__main__":
    main()
