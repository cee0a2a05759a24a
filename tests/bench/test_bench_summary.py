"""make bench's runner: statistics, result rows, adapters, a crashed benchmark failing loudly."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from bench import run_all
from bench._daemon import percentile, summary_ms
from bench.latency import poll_delays
from bench.web_latency import metrics as web_latency_metrics

HISTORY = {
    "sqlite": {
        "ingest": {"readings": 525600, "readings_per_s": 442789},
        "query": {"points": 525600, "series_in_db_ms": 124.4, "fetch_all_ms": 2386.0},
    },
    "mongo": "skipped: secantusdb is not installed",
}


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


def test_history_adapter_judges_the_query_goals_and_notes_a_skipped_store() -> None:
    rows, notes = run_all.rows_for("history", HISTORY)
    query = next(r for r in rows if "buckets" in r["metric"])
    speedup = next(r for r in rows if "speed-up" in r["metric"])
    assert query["value"] == 124.4
    assert query["passed"] is True
    assert speedup["value"] == 19.2
    assert speedup["passed"] is False
    assert notes == ["history mongo: skipped: secantusdb is not installed"]


def test_metrics_rows_are_taken_as_given_but_checked() -> None:
    good = {"metrics": [{"metric": "m", "value": 1.5, "unit": "ms", "passed": None}]}
    rows, _ = run_all.rows_for("anything", good)
    assert rows[0]["value"] == 1.5
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


MONGO = {
    "ingest_insert_many_unordered": {"readings": 10000, "readings_per_s": 6205},
    "ingest_bulk_upsert": {"readings": 10000, "readings_per_s": 2371},
    "points_note": "capped at 286000 of 525600 readings by a 60 s load budget",
    "year_load": {"readings": 286000, "seconds": 58.1, "readings_per_s": 4921},
    "query": {"points": 286000, "series_in_db_ms": 11865.4, "fetch_all_ms": 19139.2},
}


def test_history_adapter_labels_the_emulator_and_shows_its_missed_goals() -> None:
    rows, notes = run_all.rows_for("history", dict(HISTORY, mongo=MONGO))
    mongo = [r for r in rows if "secantus (in-process MongoDB emulator)" in r["metric"]]
    assert len(mongo) == 5  # two ingest methods, the year's load, query, speed-up
    query = next(r for r in mongo if "buckets" in r["metric"])
    assert "286,000 readings" in query["metric"]
    assert query["passed"] is False
    assert next(r for r in mongo if "speed-up" in r["metric"])["passed"] is False
    assert any("say nothing about a real mongod" in n for n in notes)
    assert any("capped at 286000" in n for n in notes)


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
