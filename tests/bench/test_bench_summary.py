"""make bench's runner: statistics, result rows, crashes failing loudly."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from bench import history, run_all
from bench._daemon import percentile, summary_ms
from bench.latency import poll_delays
from bench.web_latency import metrics as web_latency_metrics


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([3.0], 99) == 3.0
    assert summary_ms([0.001, 0.002]) == {
        "count": 2,
        "mean_ms": 1.5,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "max_ms": 2.0,
    }


def test_poll_delay_is_until_the_first_poll_showing_that_reading_or_newer() -> None:
    taken = [10.0, 10.05, 10.5, 11.2]
    polls = [(10.3, 10.05), (11.3, 11.2)]  # (seen at, newest reading it returned)
    delays = poll_delays(taken, started=10.01, polls=polls)
    assert [round(d, 3) for d in delays] == [0.25, 0.8, 0.1]


def part(series_ms: float, baseline_ms: float, readings: int = 525_600) -> dict[str, float]:
    return {
        "series_ms": series_ms,
        "baseline_ms": baseline_ms,
        "ratio": round(baseline_ms / series_ms, 1),
        "readings": readings,
    }


SQLITE = {
    "ingest": {
        "readings_per_s": 180_000,
        "replay_readings_per_s": 400_000,
        "plain_insert_per_s": 300_000,
    },
    "year": part(2.5, 400.0),
    "ten_one": part(2.6, 410.0),
    "ten_all": part(30.0, 4100.0, 5_256_000),
    "growth": {"1 month": part(1.5, 40.0, 43_200), "10 years": part(3.0, 5000.0, 5_256_000)},
}


def test_history_emits_rows_that_judge_its_goals() -> None:
    rows = history.sqlite_rows(SQLITE)
    by_metric = {r["metric"]: r for r in rows}
    year = by_metric["history SQLite: 525,600 readings (1 probe) → 1000 buckets"]
    assert (year["value"], year["goal"], year["passed"]) == (2.5, "< 5 ms", True)
    assert year["baseline"] == "SELECT + Python loop: 400.0 ms"
    speedup = by_metric[
        "history SQLite: 525,600 readings (1 probe) → 1000 buckets: speed-up over the baseline"
    ]
    assert (speedup["value"], speedup["passed"]) == (160.0, True)
    ingest = next(r for r in rows if "ingest with rollups" in r["metric"])
    assert (ingest["value"], ingest["passed"]) == (180_000, True)
    assert any("10 years (5,256,000)" in r["metric"] for r in rows)
    slow = dict(SQLITE, year=part(6.0, 200.0))
    rows = {r["metric"]: r for r in history.sqlite_rows(slow)}
    assert rows["history SQLite: 525,600 readings (1 probe) → 1000 buckets"]["passed"] is False
    assert (
        rows[
            "history SQLite: 525,600 readings (1 probe) → 1000 buckets: speed-up over the baseline"
        ]["passed"]
        is False
    )
    # run_all takes them without an adapter.
    emitted = {"metrics": history.sqlite_rows(slow), "notes": ["n"]}
    checked, notes = run_all.rows_for("history", emitted)
    assert len(checked) == len(rows)
    assert notes == ["n"]
    with pytest.raises(run_all.ResultError, match="no 'metrics' list"):
        run_all.rows_for("history", {"sqlite": SQLITE})  # no adapters for old formats


def test_history_labels_the_emulator_and_sets_it_no_goal() -> None:
    mongo = {
        "ingest_insert_many_unordered": {"readings_per_s": 900},
        "ingest_bulk_upsert": {"readings_per_s": 400},
        "year": part(40.0, 3000.0, 30_000),
    }
    rows = history.mongo_rows(mongo)
    assert len(rows) == 3
    assert all("secantus (an in-process emulator)" in r["metric"] for r in rows)
    assert all(r["goal"] is None and r["passed"] is None for r in rows)


def test_metrics_rows_are_taken_as_given_but_checked() -> None:
    good = {"metrics": [{"metric": "m", "value": 1.5, "unit": "ms", "passed": None}]}
    rows, notes = run_all.rows_for("anything", good)
    assert rows[0]["value"] == 1.5
    assert notes == []
    with pytest.raises(run_all.ResultError):
        run_all.rows_for("anything", {**good, "notes": "not a list"})
    for bad in (math.nan, "3", None, True):
        with pytest.raises(run_all.ResultError):
            run_all.rows_for("anything", {"metrics": [{"metric": "m", "value": bad}]})
    with pytest.raises(run_all.ResultError):
        run_all.rows_for("unknown", {"numbers": 1})


def test_a_crashed_benchmark_is_reported_not_summarised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEERPI_BENCH_RESULTS", str(tmp_path))
    outcome = run_all.run_module("no_such_benchmark", quick=True, timeout_s=30)
    assert outcome.status == "crashed"
    assert "No module named" in outcome.error
    assert outcome.rows == []


def test_history_runs_on_its_own_interpreter_when_it_exists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    python = tmp_path / "python"
    python.touch()
    monkeypatch.setitem(run_all.INTERPRETERS, "history", str(python))
    assert run_all.interpreter("history") == (str(python), None)
    assert run_all.interpreter("latency") == (sys.executable, None)
    monkeypatch.setitem(run_all.INTERPRETERS, "history", str(tmp_path / "missing"))
    chosen, note = run_all.interpreter("history")
    assert chosen == sys.executable
    assert note is not None
    assert "missing" in note


def test_a_benchmark_whose_environment_is_missing_is_skipped_with_a_note(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(run_all.NEEDS, "ha_latency", (str(tmp_path / "x"), "make bench-ha"))
    reason = run_all.missing_environment("ha_latency")
    assert reason is not None
    assert "make bench-ha" in reason
    (tmp_path / "x").touch()
    assert run_all.missing_environment("ha_latency") is None
    assert run_all.missing_environment("latency") is None


def test_web_latency_rows_judge_the_push_goal_against_polling() -> None:
    stats = {"mean_ms": 2.0, "p50_ms": 1.5, "p99_ms": 25.0, "max_ms": 40.0}
    rows = web_latency_metrics(
        {
            "web_push": stats,
            "daemon_push": dict(stats, p50_ms=1.0),
            "poll_1s": {"mean_ms": 500.0, "p50_ms": 480.0, "p99_ms": 980.0, "max_ms": 1000.0},
        }
    )
    p99 = next(r for r in rows if "p99" in r["metric"])
    assert p99["passed"] is False
    assert p99["goal"] == "< 20 ms"
    assert "every 1 s: 980.0 ms" in p99["baseline"]
    hop = next(r for r in rows if "hop" in r["metric"])
    assert hop["value"] == 0.5
    run_all.check_rows(rows)
