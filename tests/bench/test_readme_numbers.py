"""README.md's Numbers table is the committed `make bench` run (bench/results/*.json):
each figure as that run's JSON holds it, rounded half up to the README's places, and
each goal marked missed exactly where the run missed it. A new run that changes a
figure fails here until the README says the new one."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"


@cache
def results(name: str) -> Any:
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def metric(name: str, starts: str) -> dict[str, Any]:
    rows = [m for m in results(name)["metrics"] if m["metric"].startswith(starts)]
    assert len(rows) == 1, (name, starts, rows)
    row: dict[str, Any] = rows[0]
    return row


def r(value: float, places: int = 0) -> str:
    """Half up, with thousands separators: as the README rounds."""
    exp = Decimal(1).scaleb(-places)
    return f"{Decimal(repr(value)).quantize(exp, rounding=ROUND_HALF_UP):,}"


def figure(text: str) -> str:
    """The first number in a benchmark's own string ("bare python: 19.4 MiB" -> 19.4)."""
    found = re.search(r"[\d,]+(?:\.\d+)?", text)
    assert found, text
    return found.group(0)


@cache
def table() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    numbers = text.split("\n## Numbers\n", 1)[1]
    lines = numbers.split("\n| what |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]


def row(starts: str) -> list[str]:
    rows = [cells for cells in table() if cells[0].startswith(starts)]
    assert len(rows) == 1, starts
    return rows[0]


def missed(cells: list[str]) -> bool:
    return "missed" in cells[1] or "missed" in cells[2]


def test_the_control_rows_are_the_committed_matrix() -> None:
    rms = [m for m in results("control")["metrics"] if m["metric"].endswith("beer RMS")]
    half = [m for m in rms if m["goal"] == "≤ ½ best baseline"]
    met = [m["value"] for m in half if m["passed"]]
    misses = [m["value"] for m in half if not m["passed"]]
    cells = row("beer RMS over 13 simulated fermenters")
    assert len(rms) == 13
    assert (
        f"in {len(met)} of {len(half)} reachable ({r(min(met), 2)}–{r(max(met), 2)} °C"
        in (cells[1])
    )
    assert [f"{r(v, 2)})" in cells[1] for v in misses] == [True] * len(misses)
    starts = [m for m in results("control")["metrics"] if m["metric"].endswith("starts")]
    inkbird = [float(figure(m["baseline"].removeprefix("Inkbird "))) for m in starts]
    above = sum(m["value"] > ink for m, ink in zip(starts, inkbird, strict=True))
    cells = row("compressor starts per day")
    values = [m["value"] for m in starts]
    assert cells[1].startswith(f"{r(min(values))}–{r(max(values))}; above the Inkbird's in")
    assert f"in {above} of {len(starts)} (missed" in cells[1]
    assert cells[3] == f"Inkbird: {r(min(inkbird), 1)}–{r(max(inkbird), 1)}"
    assert missed(cells) == any(m["passed"] is False for m in starts)


def test_the_latency_rows_are_the_committed_runs() -> None:
    lat, web, ha = results("latency"), results("web_latency"), results("ha_latency")
    cells = row("probe reading → `state`")
    push, poll = lat["push"], lat["poll_1s"]
    assert f"({push['count']} pushes)" in cells[0]
    assert cells[1] == f"{r(push['p50_ms'], 2)} / {r(push['p99_ms'], 2)} ms"
    assert cells[3].endswith(f"{r(poll['p50_ms'])} / {r(poll['p99_ms'])} ms")
    assert metric("latency", "push latency p99")["passed"] is not missed(cells)
    cells = row("reading → browser on the web service's")
    push, poll = web["web_push"], web["poll_1s"]
    assert cells[1] == f"{r(push['p50_ms'], 2)} / {r(push['p99_ms'], 2)} ms"
    assert cells[3].endswith(f"{r(poll['p50_ms'])} / {r(poll['p99_ms'])} ms")
    assert metric("web_latency", "web /live push p99")["passed"] is not missed(cells)
    cells = row("reading → Home Assistant entity state")
    assert f"({ha['n']} changes)" in cells[0]
    assert cells[1] == f"{r(ha['p50_ms'], 2)} / {r(ha['p99_ms'], 2)} ms"
    cells = row("command round trip")
    command = lat["command"]
    assert cells[1] == f"{r(command['p50_ms'], 2)} / {r(command['p99_ms'], 2)} ms"
    assert metric("latency", "command round trip p99")["passed"] is not missed(cells)


def test_the_trend_page_row_is_the_committed_run() -> None:
    every, month = (metric("trend_open", f"trend page cold open, {w},") for w in ("All", "30 d"))
    cells = row("trend page opened cold")
    assert cells[1] == f"{r(every['value'])} / {r(month['value'])} ms"
    assert cells[3].endswith(f"{figure(every['baseline'])} / {figure(month['baseline'])} ms")
    assert (every["passed"] and month["passed"]) is not missed(cells)


def test_the_history_rows_are_the_committed_run() -> None:
    sqlite = results("history")["sqlite"]
    for starts, key, places in (
        ("a year of 1-minute readings", "year", 2),
        ("the same for one of 10 probes", "ten_one", 2),
        ("all 10 probes × a year", "ten_all", 0),
    ):
        got, cells = sqlite[key], row(starts)
        assert cells[1] == f"{r(got['series_ms'], places)} ms", starts
        assert cells[3].endswith(f"{r(got['baseline_ms'])} ms ({r(got['ratio'])}×)"), starts
        assert not missed(cells)
    ingest, cells = sqlite["ingest"], row("history ingest with rollups")
    assert cells[1] == f"{r(ingest['readings_per_s'])} readings/s"
    assert cells[3].endswith(f"{r(ingest['plain_insert_per_s'])}/s")


def test_the_footprint_rows_are_the_committed_pi_like_run() -> None:
    pi = next(run for run in results("footprint")["runs"] if ".venv-pi" in run["interpreter"])
    rss = metric("footprint", "daemon RSS above bare python, no client (Python 3.11")
    cells = row("daemon RSS above a bare Python")
    assert cells[1] == f"{r(rss['value'], 1)} MiB"
    assert f"bare Python: {figure(rss['baseline'])} MiB" in cells[3]
    assert f"+{figure(rss['ratio'].split('alone:')[1])} MiB" in cells[3]
    assert f"libraries alone are {figure(rss['ratio'].split('alone:')[1])}" in cells[2]
    assert missed(cells) is not rss["passed"]
    for starts, measured in (
        ("daemon idle CPU", pi["idle"]["cpu_pct"]),
        ("daemon CPU with 2 idle clients", pi["clients"]["cpu_pct"]),
    ):
        assert row(starts)[1] == f"{r(measured, 3)} %", starts
    start = metric("footprint", "start-up to first /health (Python 3.11")
    cells = row("start-up to the first `/health`")
    assert cells[1] == f"{r(start['value'], 2)} s"
    assert cells[3].endswith(f"{r(float(figure(start['baseline'])), 2)} s ({start['ratio'][:5]})")
    size = metric("footprint", "installed site-packages (Python 3.11")
    cells = row("daemon extra installed")
    assert cells[1] == f"{r(size['value'], 1)} MB"
    assert cells[3] == f"of which bytecode: {figure(size['baseline'])} MB"


def test_the_web_service_row_is_the_committed_run() -> None:
    got = results("web_footprint")
    cells = row("web service RSS, 100 daemons")
    assert f"none of their {r(got['figures']['taken'])} readings lost" in cells[0]
    assert got["figures"]["lost"] == 0
    peak = metric("web_footprint", "web service RSS peak")
    assert cells[1] == f"{r(peak['value'], 1)} MiB"
    assert cells[3] == f"the same service idle: {figure(peak['baseline'])} MiB"


def numbers_text() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return " ".join(text.split("\n## Numbers\n", 1)[1].split("\n## ", 1)[0].split())


def test_the_range_table_and_the_mongodb_figures_are_the_committed_history_run() -> None:
    history = results("history")
    text = numbers_text()
    for name, got in history["sqlite"]["growth"].items():
        ratio = r(got["ratio"], 1) if got["ratio"] < 10 else r(got["ratio"])
        line = (
            f"| {name} | {r(got['readings'])} | {r(got['series_ms'], 1)} ms | "
            f"{r(got['baseline_ms'])} ms | {ratio}× |"
        )
        assert line in text, line
    mongo = history["mongo"]
    assert f"stored {r(mongo['ingest_insert_many_unordered']['readings_per_s'])} readings/s" in text
    assert f"({r(mongo['ingest_bulk_upsert']['readings_per_s'])}/s as bulk upserts)" in text
    year = mongo["year"]
    assert f"over the {r(year['readings'])} readings it could load in 30 s" in text
    assert f"in {r(year['series_ms'], 1)} ms against {r(year['baseline_ms'])} ms" in text


def test_the_run_times_and_the_trend_rows_are_the_committed_summary() -> None:
    summary = results("summary")
    text = numbers_text()
    took = {m["name"]: r(m["seconds"]) for m in summary["modules"]}
    assert f"All eight benchmarks took {r(summary['seconds'])} s (control {took['control']} s" in (
        text
    )
    for name in ("footprint", "history", "latency", "web_latency", "web_footprint", "ha_latency"):
        assert f"{name} {took[name]}," in text, name
    assert f"trend_open {took['trend_open']})" in text
    assert f"load average {summary['machine']['load_avg_1m']} at its start" in text
    every, month = (metric("trend_open", f"trend page cold open, {w},") for w in ("All", "30 d"))
    pair = (
        f"| {every['value']} / {figure(every['baseline'])} ms ({every['ratio'][:5]}) | "
        f"{month['value']} / {figure(month['baseline'])} ms ({month['ratio'][:5]}) |"
    )
    assert pair in text


def test_the_design_sections_control_table_is_the_committed_matrix() -> None:
    """The table under Design's control bullet: BeerPi / Inkbird / Home Assistant."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    who = ("BeerPi", "Inkbird", "HA")
    lines = [line for line in text.splitlines() if line.startswith("  | ")]
    found = 0
    for m in results("control")["matrix"]:
        name = m["scenario"]
        mine = [line for line in lines if line.startswith(f"  | {name} |")]
        mine += [line for line in lines if line.startswith(f"  | {name} † |")]
        assert len(mine) == 1, name
        cells = [c.strip() for c in mine[0].strip().strip("|").split("|")]
        whole = " / ".join(r(m[c]["rms_all_c"], 2) for c in who)
        reachable = " / ".join(r(m[c]["rms_reachable_c"], 2) for c in who)
        if not any(m["holds_feasible"]):
            assert cells[1] == f"{whole} (whole run)", name
        elif not all(m["holds_feasible"]):
            assert cells[1] == f"{reachable}; whole run {whole}", name
        else:
            assert cells[1] == reachable, name
        assert cells[2] == " / ".join(r(m[c]["compressor_per_day"], 1) for c in who), name
        assert cells[3] == " / ".join(r(m[c]["fight_pct"]) for c in who), name
        held = " / ".join(str(m[c]["holds_settled"]) for c in who)
        assert cells[4] == f"{held} of {sum(m['holds_feasible'])}", name
        found += 1
    assert found == 13
