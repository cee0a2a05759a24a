"""The trend page's cold open with a year of readings, against the page of an earlier commit.

    python -m bench.trend_open [--quick] [--rounds N] [--baseline REF] [--events]

A year of 1-minute readings for two probes (as tests/browser/history_seed.py
seeds it for the browser test) in a SQLite file, two web services on loopback
(``python -m web_extras``), each on its own copy of that file: this tree's, and
the ``--baseline`` commit's ``web_extras`` (taken with ``git archive``; by
default the last page that fetched its first data over the network, preloaded).
Debian's Chromium (headless, Playwright) then opens ``/trend`` on "All" and on
"30 d", alternating between the two services, each time in a new browser
context (nothing cached), and reads when the chart was drawn
(``performance.now()``, from the navigation's start, which the page writes into
``#chart[data-drawn-at]``; nothing runs in the page before it has drawn:
``beerpi_devtools.browser.open_trend_untouched``). Goal: under 300 ms. Medians
and the ratio to the baseline go to bench/results/trend_open.json
(trend_open_events.json with ``--events``). Bounded: about a minute
(``--quick``: two rounds). ``--events`` adds what a real history holds besides
readings: the daemon reconnecting every 3 days and a fault raised and cleared
every week (markers under the chart: 20 in 30 days).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import io
import json
import math
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from beerpi_devtools.browser import CHROMIUM_ARGS, open_trend_untouched
from beerpi_devtools.harness import WebService
from web_extras.store.base import Event, EventKind
from web_extras.store.sqlite import SqliteHistoryStore

from ._daemon import ROOT, results_dir

# The last commit whose trend page fetched its first data over the network (the
# HTML named those requests in <link rel="preload">; since then it carries the
# answers). Older baselines: 90d04c7, the last page that asked for its first data
# only once its bundle had run; 26c0a5b, the last that loaded its ES modules one
# by one.
BASELINE = "5d0b9a0"
GOAL_MS = 300
CHROMIUM = Path("/usr/bin/chromium")
RANGES = {"all": "All", "30d": "30 d"}
DEVICE = "fv-year"


async def seed_year(path: Path, events: bool = False) -> None:
    """A year of 1-minute readings up to now for the probes beer and fridge of DEVICE
    (``events``: with reconnections and faults, see the module's text)."""
    last = int(time.time()) // 60 * 60_000
    minutes = range(last - 365 * 24 * 60 * 60_000, last, 60_000)
    store = SqliteHistoryStore(path)
    await store.open()
    try:
        for phase, probe in enumerate(("beer", "fridge")):
            await store.add_points(
                DEVICE,
                probe,
                ((ms, round(19 + 1.5 * math.sin(ms / 1e7 + phase), 3)) for ms in minutes),
            )
        if events:
            await seed_events(store, datetime.fromtimestamp(last / 1000, UTC))
    finally:
        await store.close()


async def seed_events(store: SqliteHistoryStore, now: datetime) -> None:
    """A reconnection every 3 days and a fault raised and cleared every week."""
    for day in range(0, 365, 3):
        linked = now - timedelta(days=day, hours=5)
        await store.add_event(Event(DEVICE, linked, EventKind.CONNECTED))
    fault = {"code": "probe_stale", "message": "beer probe stale"}
    for day in range(1, 365, 7):
        raised = now - timedelta(days=day)
        await store.add_event(Event(DEVICE, raised, EventKind.FAULT_RAISED, fault))
        cleared = raised + timedelta(minutes=20)
        await store.add_event(
            Event(DEVICE, cleared, EventKind.FAULT_CLEARED, {"code": "probe_stale"})
        )


def baseline_tree(ref: str, into: Path) -> Path:
    """``web_extras`` and ``beerpi_protocol`` as they were at ``ref``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "web_extras", "beerpi_protocol"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def open_cold(browser: Any, url: str) -> int:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        return open_trend_untouched(context.new_page(), url)
    finally:
        context.close()


def as_schema_of(db: Path, tree: Path) -> None:
    """Turn a history file seeded by this tree into one the older ``tree`` opens.

    The tables later schema steps made (empty here: the seed writes readings)
    are dropped and the version set back to the older tree's.
    """
    from web_extras.store.sqlite_schema import MIGRATIONS

    code = "from web_extras.store.sqlite_schema import SCHEMA_VERSION; print(SCHEMA_VERSION)"
    older = int(
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=tree,
            env={**os.environ, "PYTHONPATH": str(tree)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    with sqlite3.connect(db) as connection:
        for step in MIGRATIONS[older:]:
            for table in re.findall(r"CREATE TABLE (\w+)", step):
                connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.execute(f"PRAGMA user_version = {older}")
    connection.close()


def cold_opens(
    baseline: str, rounds: int, events: bool = False
) -> dict[tuple[str, str], list[int]]:
    """(side, range) -> request-to-drawn times of cold opens, the two pages alternating."""
    from playwright.sync_api import sync_playwright  # only when it is installed (main)

    with tempfile.TemporaryDirectory(prefix="beerpi-trend-open-") as temp:
        tmp = Path(temp)
        seeded = tmp / "history.sqlite"
        asyncio.run(seed_year(seeded, events))
        old = baseline_tree(baseline, tmp / "baseline")
        sides = {"this tree": ROOT, f"baseline {baseline}": old}
        times: dict[tuple[str, str], list[int]] = {}
        services = []
        try:
            urls = {}
            for n, (side, tree) in enumerate(sides.items()):
                db = tmp / f"history-{n}.sqlite"
                shutil.copy(seeded, db)
                if tree != ROOT:
                    as_schema_of(db, tree)
                service = WebService(
                    None,
                    ["--data-dir", str(tmp / f"web{n}"), "--db", str(db), "--log-level", "WARNING"],
                    tmp / f"web{n}.log",
                    cwd=tree,
                    env={"PYTHONPATH": str(tree)},
                )
                service.__enter__()
                services.append(service)
                urls[side] = f"http://127.0.0.1:{service.port}/trend?device={DEVICE}"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                for side in sides:  # warm the services (first queries, page templates)
                    open_cold(browser, f"{urls[side]}&range=all")
                for _ in range(rounds):
                    for range_ in RANGES:
                        for side in sides:
                            drawn = open_cold(browser, f"{urls[side]}&range={range_}")
                            times.setdefault((side, range_), []).append(drawn)
                browser.close()
        finally:
            for service in reversed(services):
                service.__exit__(None, None, None)
    return times


def result_rows(
    times: dict[tuple[str, str], list[int]], rounds: int, baseline: str, events: bool = False
) -> list[dict[str, Any]]:
    """One summary row per range: this tree's median against the baseline page's."""
    base = f"baseline {baseline}"
    data = "a year × 2 probes" + (", reconnections and faults" if events else "")
    rows = []
    for range_, label in RANGES.items():
        new = statistics.median(times[("this tree", range_)])
        before = statistics.median(times[(base, range_)])
        rows.append(
            {
                "metric": f"trend page cold open, {label}, {data} (median of {rounds})",
                "value": round(new),
                "unit": "ms",
                "goal": f"< {GOAL_MS} ms",
                "passed": new < GOAL_MS,
                "baseline": f"{round(before)} ms (page of {baseline})",
                "ratio": f"{before / new:.2f}× faster" if new else None,
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="two rounds")
    parser.add_argument("--rounds", type=int, default=6, help="cold opens per range and page")
    parser.add_argument("--baseline", default=BASELINE, help="git commit of the baseline page")
    parser.add_argument(
        "--events", action="store_true", help="reconnections and faults in the year too"
    )
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    if importlib.util.find_spec("playwright") is None or not CHROMIUM.exists():
        # Like the browser tests: without Debian's chromium (or playwright) say so.
        note = "skipped: needs the playwright package and /usr/bin/chromium"
        print(note)
        (results_dir() / "trend_open.json").write_text(json.dumps({"metrics": [], "notes": [note]}))
        return 0
    times = cold_opens(args.baseline, rounds, args.events)
    rows = result_rows(times, rounds, args.baseline, args.events)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    notes = [
        f"{side}, {RANGES[r]}: " + ", ".join(map(str, t)) + " ms" for (side, r), t in times.items()
    ] + [f"load average at the end: {' '.join(load)}"]
    for row in rows:
        print(f"{row['metric']}: {row['value']} ms (baseline {row['baseline']}, {row['ratio']})")
    for note in notes:
        print(f"  {note}")
    name = "trend_open_events.json" if args.events else "trend_open.json"
    (results_dir() / name).write_text(
        json.dumps({"machine": platform.node(), "metrics": rows, "notes": notes}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
