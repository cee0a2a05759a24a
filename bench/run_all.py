"""Run every benchmark in bench/ and print one table of BeerPi's numbers against its baselines.

    python -m bench.run_all [--quick] [--only NAME,...] [--strict]     (make bench)

Every ``bench/<name>.py`` (not ``_private``, ``__main__`` or this file) is a
benchmark: it runs as ``python -m bench.<name>`` in its own process group
(bounded by a timeout), must exit 0 and write ``bench/results/<name>.json``.
A benchmark states its numbers for the table as a ``"metrics"`` list in that
JSON, each row::

    {"metric": str, "value": number, "unit": str, "goal": str | null,
     "passed": bool | null, "baseline": str | null, "ratio": str | null}

and may add ``"notes"``, a list of strings printed under the table. The table
goes to stdout, ``bench/results/summary.json`` and ``summary.md`` (with date
and machine). Exit status: 1 if a benchmark crashed, timed out or wrote no
usable result; a missed goal shows as FAIL and exits 2 only with --strict,
since timing goals on a shared, noisy machine are reported, not enforced.
``--quick`` passes ``--quick`` to the benchmarks whose source offers it and
skips the others (the smoke test).

Interpreters: a benchmark runs with this runner's Python (``.venv``, 3.14)
unless ``INTERPRETERS`` names another environment for it. ``history`` runs
with ``.venv311/bin/python`` (``make bench`` builds it: ``env311``), because
its MongoDB-protocol part needs secantus, which installs only on Python
3.11..3.13; without that environment it runs here and notes the Mongo part
as skipped. Environments: a benchmark listed in ``NEEDS`` is skipped, with a
note saying how to build it, until its environment exists: ``ha_latency``
needs ``.venv-ha`` with the Home Assistant demo's packages, several minutes
and ~1 GB to build: ``make bench`` builds it first (``env-ha-demo``), as ``make
bench-ha`` does; ``python -m bench.run_all`` run by hand skips it until then.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._daemon import ROOT, results_dir
from ._table import ROW_HEADERS, row_cells, text_table

BENCH_DIR = ROOT / "bench"
# Quick, deterministic ones first; the rest alphabetically after these.
ORDER = ("control", "history", "latency", "web_latency", "footprint")
NOT_BENCHMARKS = {"__init__", "__main__", "run_all"}
MODULE_TIMEOUT_S = 300.0
# name -> the Python it runs with, relative to the repository, when that file exists.
INTERPRETERS: dict[str, str] = {"history": ".venv311/bin/python"}
# name -> (a file that exists once its environment is built, how to build it).
NEEDS: dict[str, tuple[str, str]] = {
    "ha_latency": (
        ".venv-ha/demo-deps/.synced",
        "needs Home Assistant in .venv-ha: `make bench-ha` builds it and runs it alone; "
        "`make bench` includes it from then on",
    ),
}
# make bench must finish within 15 minutes. The eight benchmarks took 715 s on a
# quiet machine on 2026-11-29 (control 253, footprint 124, history 100, latency 57,
# web_latency 55, web_footprint 52, ha_latency 44, trend_open 29): the 10 minutes
# it had until then left the last three unrun.
TOTAL_BUDGET_S = 870.0

Row = dict[str, Any]


class ResultError(Exception):
    """A result file that cannot be turned into trustworthy rows."""


@dataclass
class Outcome:
    name: str
    status: str  # ok, crashed, timeout, no_result, bad_result, skipped
    seconds: float = 0.0
    exit_code: int | None = None
    error: str = ""
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def discover() -> list[str]:
    names = {
        p.stem for p in BENCH_DIR.glob("*.py") if p.stem not in NOT_BENCHMARKS and p.stem[0] != "_"
    }
    return [n for n in ORDER if n in names] + sorted(names - set(ORDER))


def offers_quick(name: str) -> bool:
    return "--quick" in (BENCH_DIR / f"{name}.py").read_text()


def interpreter(name: str) -> tuple[str, str | None]:
    """The Python to run ``name`` with, and a note when its own one is missing."""
    wanted = INTERPRETERS.get(name)
    if wanted is None:
        return sys.executable, None
    if (ROOT / wanted).exists():
        return str(ROOT / wanted), None
    return sys.executable, f"{name}: {wanted} is missing (make env311), ran with {sys.executable}"


def missing_environment(name: str) -> str | None:
    """Why ``name`` cannot run yet (see NEEDS), or None."""
    need = NEEDS.get(name)
    if need is None or (ROOT / need[0]).exists():
        return None
    return f"{need[0]} missing; {need[1]}"


def run_module(
    name: str, *, quick: bool, timeout_s: float, python: str = sys.executable
) -> Outcome:
    """Run one benchmark, echoing its output, and read back its result rows."""
    result_path = results_dir() / f"{name}.json"
    result_path.unlink(missing_ok=True)  # never report a previous run's numbers
    command = [python, "-m", f"bench.{name}", *(["--quick"] if quick else [])]
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group: a timeout also ends the daemons it started
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    timed_out = threading.Event()

    def kill_group() -> None:
        timed_out.set()
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            time.sleep(grace)

    timer = threading.Timer(timeout_s, kill_group)
    timer.start()
    tail: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        print(f"  [{name}] {line}", end="", flush=True)
        tail = [*tail[-14:], line]
    code = process.wait()
    timer.cancel()
    outcome = Outcome(name, "ok", round(time.monotonic() - started, 1), code)
    if timed_out.is_set():
        outcome.status, outcome.error = "timeout", f"killed after {timeout_s:.0f} s"
    elif code != 0:
        outcome.status = "crashed"
        outcome.error = f"exit code {code}: " + "".join(tail[-5:]).strip()
    elif not result_path.exists():
        outcome.status, outcome.error = "no_result", f"wrote no {result_path.name}"
    else:
        try:
            outcome.rows, outcome.notes = rows_for(name, json.loads(result_path.read_text()))
        except (ResultError, ValueError, KeyError, TypeError, ZeroDivisionError) as err:
            outcome.status = "bad_result"
            outcome.error = (
                f"{result_path.name} not understood ({type(err).__name__}: {err}); "
                "give it a 'metrics' list (see bench/run_all.py)"
            )
    return outcome


def check_rows(rows: object) -> list[Row]:
    if not isinstance(rows, list):
        raise ResultError("'metrics' must be a list")
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("metric"), str):
            raise ResultError(f"malformed row {row!r:.120}")
        value = row.get("value")
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise ResultError(f"{row['metric']}: value {value!r} is not a finite number")
        if row.get("passed") not in (True, False, None):
            raise ResultError(f"{row['metric']}: passed must be true, false or null")
    return [
        {
            "metric": r["metric"],
            "value": r["value"],
            "unit": r.get("unit") or "",
            "goal": r.get("goal"),
            "passed": r.get("passed"),
            "baseline": r.get("baseline"),
            "ratio": r.get("ratio"),
        }
        for r in rows
    ]


def rows_for(name: str, result: Any) -> tuple[list[Row], list[str]]:
    if isinstance(result, dict) and "metrics" in result:
        notes = result.get("notes", [])
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise ResultError("'notes' must be a list of strings")
        return check_rows(result["metrics"]), notes
    raise ResultError(f"{name}: no 'metrics' list")


# -- the summary ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model")):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
    }


HEADERS = ("benchmark", *ROW_HEADERS)


def table_cells(outcomes: list[Outcome]) -> list[tuple[str, ...]]:
    cells: list[tuple[str, ...]] = []
    for o in outcomes:
        if o.status not in ("ok", "skipped"):  # skipped ones are listed in the notes
            cells.append((o.name, o.status.upper(), "", "", o.error[:160], "", "ERROR"))
        cells += [(o.name, *row_cells(r)) for r in o.rows]
    return cells


def markdown(summary: dict[str, Any], cells: list[tuple[str, ...]]) -> str:
    m = summary["machine"]
    lines = [
        "# BeerPi benchmarks",
        "",
        f"{summary['when']} on {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
        f"{m['os']} (load average {m['load_avg_1m']} at start)"
        + (" — quick mode, not for quoting" if summary["quick"] else ""),
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join(" --- " for _ in HEADERS) + "|",
        *("| " + " | ".join(c.replace("|", "\\|") for c in cell) + " |" for cell in cells),
    ]
    if summary["notes"]:
        lines += ["", *(f"- {note}" for note in summary["notes"])]
    lines += [
        "",
        "Runs: "
        + ", ".join(f"{o['name']} {o['status']} ({o['seconds']} s)" for o in summary["modules"]),
    ]
    return "\n".join(lines) + "\n"


# Long on purpose: argument handling, then running each benchmark and printing its rows in order;
# the steps share the parsed options and the result list.
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny runs, for the smoke test")
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a goal is missed")
    args = parser.parse_args(argv)

    names = discover()
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            print(f"bench: no benchmark {', '.join(unknown)} in {BENCH_DIR}", file=sys.stderr)
            return 1
        names = [n for n in names if n in wanted]
    when = datetime.now(UTC)
    info = machine()
    started = time.monotonic()
    outcomes: list[Outcome] = []
    for name in names:
        left = TOTAL_BUDGET_S - (time.monotonic() - started)
        if args.quick and not offers_quick(name):
            outcomes.append(Outcome(name, "skipped", error="no --quick mode"))
            continue
        if left < 10:
            outcomes.append(
                Outcome(name, "timeout", error=f"the {TOTAL_BUDGET_S:.0f} s budget was spent")
            )
            continue
        missing = missing_environment(name)
        if missing is not None:
            outcomes.append(Outcome(name, "skipped", error=missing))
            continue
        python, note = interpreter(name)
        print(f"== bench.{name} ({python})", flush=True)
        outcome = run_module(
            name, quick=args.quick, timeout_s=min(MODULE_TIMEOUT_S, left), python=python
        )
        outcome.notes += [note] if note else []
        outcomes.append(outcome)

    broken = [o for o in outcomes if o.status not in ("ok", "skipped")]
    failed = [r["metric"] for o in outcomes for r in o.rows if r["passed"] is False]
    summary: dict[str, Any] = {
        "when": when.isoformat(timespec="seconds"),
        "machine": info,
        "quick": args.quick,
        "seconds": round(time.monotonic() - started, 1),
        "modules": [
            {k: v for k, v in asdict(o).items() if k not in ("rows", "notes")} for o in outcomes
        ],
        "rows": [{"benchmark": o.name, **r} for o in outcomes for r in o.rows],
        "notes": [n for o in outcomes for n in o.notes]
        + [f"{o.name}: skipped ({o.error})" for o in outcomes if o.status == "skipped"],
        "goals": {
            "passed": sum(r["passed"] is True for o in outcomes for r in o.rows),
            "failed": failed,
        },
    }
    cells = table_cells(outcomes)
    out = results_dir()
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(markdown(summary, cells))
    print()
    print(
        f"BeerPi benchmarks, {summary['when']}, {info['cpu']}, {info['cores']} cores, "
        f"Python {info['python']}"
    )
    print(text_table(HEADERS, cells))
    for note in summary["notes"]:
        print(f"note: {note}")
    print(f"wrote {out / 'summary.json'} and {out / 'summary.md'} ({summary['seconds']} s)")
    if broken:
        print(
            "bench: FAILED: " + "; ".join(f"{o.name} {o.status}: {o.error}" for o in broken),
            file=sys.stderr,
        )
        return 1
    if failed:
        print(f"bench: {len(failed)} goal(s) missed: {', '.join(failed)}", file=sys.stderr)
        return 2 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
