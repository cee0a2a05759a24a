"""bench/control.py: the matrix's verdicts, and the rows it hands make bench's table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import control, run_all
from bench._control_loop import DAY_S

ROOT = Path(__file__).resolve().parents[2]


def numbers(**over: float) -> dict[str, Any]:
    m: dict[str, Any] = {
        "controller": "x",
        "rms_c": 0.2,
        "max_c": 0.4,
        "mean_c": 0.0,
        "rms_reachable_c": 0.2,
        "rms_all_c": 0.5,
        "overshoot_c": 0.2,
        "compressor_per_day": 5.0,
        "heater_per_day": 5.0,
        "fights": 0,
        "fight_pct": 0.0,
        "hot_heater_pct": 0.0,
        "guard_breaches": 0,
        "no_effect": 0,
        "holds_settled": 2,
        "holds": 2,
        "hold_errors_c": [0.2, 0.3],
    }
    m.update(over)
    return m


def entry(ours: dict[str, Any], *, feasible: tuple[bool, ...] = (True, True)) -> dict[str, Any]:
    e: dict[str, Any] = {
        "scenario": "a fermenter",
        "holds_feasible": list(feasible),
        "BeerPi": ours,
        "Inkbird": numbers(rms_c=0.30, rms_reachable_c=0.30, rms_all_c=0.6, compressor_per_day=4.0),
        "HA": numbers(
            rms_c=0.24, rms_reachable_c=0.24, rms_all_c=0.7, compressor_per_day=9.0, fights=50
        ),
    }
    e["goals"] = control.goals(e)
    return e


def test_rms_goal_is_half_the_better_baseline_and_compressor_starts_the_inkbirds() -> None:
    good = entry(numbers(rms_c=0.12, compressor_per_day=4.0))
    assert good["goals"]["rms"]["passed"] is True  # 0.12 <= 0.24 / 2
    assert good["goals"]["compressor"]["passed"] is True
    assert control.missed(good) == []
    bad = entry(numbers(rms_c=0.13, compressor_per_day=4.5, fights=1, overshoot_c=0.31))
    assert set(control.missed(bad)) == {"rms", "compressor", "fight", "overshoot"}


def test_the_compressor_goal_is_ruled_out_only_where_an_ideal_controller_misses_too() -> None:
    """More starts than the Inkbird is a miss, unless the ideal controller held to the
    Inkbird's count misses the RMS goal (½ of 0.24 here): then it is physics."""
    ours = numbers(rms_c=0.11, compressor_per_day=8.0)
    out_of_reach = entry(ours)
    out_of_reach["ideal_at_inkbird_starts"] = numbers(rms_c=0.2, compressor_per_day=4.0)
    out_of_reach["goals"] = control.goals(out_of_reach)
    verdict = out_of_reach["goals"]["compressor"]
    assert verdict["passed"] is None
    assert verdict["goal"].startswith("physics")
    assert "0.200 > the RMS goal 0.120" in verdict["goal"]
    assert control.missed(out_of_reach) == []
    assert control.ruled_out(out_of_reach) == ["compressor"]
    assert "compressor (physics)" in control.markdown([out_of_reach])
    rows = run_all.check_rows(control.rows([out_of_reach]))
    starts = next(r for r in rows if r["metric"].endswith("compressor starts"))
    assert starts["passed"] is None
    assert starts["goal"] == "physics"
    in_reach = entry(ours)
    in_reach["ideal_at_inkbird_starts"] = numbers(rms_c=0.1, compressor_per_day=4.0)
    in_reach["goals"] = control.goals(in_reach)
    assert in_reach["goals"]["compressor"]["passed"] is False, "the ideal gets there: a miss"
    assert control.missed(in_reach) == ["compressor"]
    # An "ideal" that does worse than the Inkbird at the Inkbird's own count is no bound.
    no_bound = entry(ours)
    no_bound["ideal_at_inkbird_starts"] = numbers(rms_c=0.35, compressor_per_day=4.0)
    no_bound["goals"] = control.goals(no_bound)
    assert no_bound["goals"]["compressor"]["passed"] is False


def test_where_physics_rules_a_hold_out_the_others_are_judged_and_the_whole_run_no_worse() -> None:
    ours = numbers(
        rms_c=9.0, rms_reachable_c=0.11, rms_all_c=0.55, guard_breaches=3, hold_errors_c=[0.2, 2.5]
    )
    e = entry(ours, feasible=(True, False))
    assert e["goals"]["rms"]["passed"] is True  # 0.11 <= 0.24 / 2, and whole run 0.55 <= 0.6
    assert "physics" in e["goals"]["rms"]["goal"]
    assert e["goals"]["settled"]["passed"] is True  # only the feasible hold must settle
    assert e["goals"]["breaches"]["passed"] is False  # the baselines had none
    assert e["goals"]["no_effect"]["passed"] is True  # nothing dead, nothing flagged
    assert "0.110 / 0.300 / 0.240; whole run 0.550 / 0.600 / 0.700" in control.markdown([e])
    loose = entry(numbers(rms_reachable_c=0.13, rms_all_c=0.55), feasible=(True, False))
    assert loose["goals"]["rms"]["passed"] is False, "the hold that can be reached: ½ its RMS"
    worse = entry(numbers(rms_reachable_c=0.11, rms_all_c=0.65), feasible=(True, False))
    assert worse["goals"]["rms"]["passed"] is False, "the whole run: no worse than the baselines"
    none_feasible = entry(numbers(hold_errors_c=[3.0, 3.0]), feasible=(False, False))
    assert none_feasible["goals"]["settled"]["passed"] is None
    assert none_feasible["goals"]["rms"]["passed"] is True  # whole run 0.5 <= 0.6


def test_where_a_hold_is_out_of_reach_the_compressor_is_weighed_on_the_holds_in_reach() -> None:
    """A hold, then a crash the fridge cannot reach: the whole run's RMS is the crash's,
    which says nothing of the hold's starts. The ideal at the Inkbird's count is weighed
    on the hold, against ½ the better baseline there."""
    ours = numbers(rms_reachable_c=0.06, rms_all_c=0.55, compressor_per_day=8.0)
    e = entry(ours, feasible=(True, False))
    e["ideal_at_inkbird_starts"] = numbers(
        rms_reachable_c=0.2, rms_all_c=0.4, compressor_per_day=4.0
    )
    e["goals"] = control.goals(e)
    assert e["goals"]["compressor"]["passed"] is None
    assert "0.200 > the RMS goal 0.120" in e["goals"]["compressor"]["goal"]
    reachable = entry(ours, feasible=(True, False))
    reachable["ideal_at_inkbird_starts"] = numbers(
        rms_reachable_c=0.1, rms_all_c=0.4, compressor_per_day=4.0
    )
    reachable["goals"] = control.goals(reachable)
    assert reachable["goals"]["compressor"]["passed"] is False


def test_a_dead_relays_lock_outs_are_its_alarm_and_no_effect_must_be_raised() -> None:
    flagged = numbers(rms_c=9.0, rms_all_c=0.55, guard_breaches=3, no_effect=5)
    e = entry(flagged, feasible=(False, False))
    e["dead_relay"] = True
    e["goals"] = control.goals(e)
    assert e["goals"]["breaches"]["passed"] is True  # lock-outs of a relay flagged no_effect
    assert e["goals"]["no_effect"]["passed"] is True
    silent = entry(numbers(rms_c=9.0, rms_all_c=0.55), feasible=(False, False))
    silent["dead_relay"] = True
    silent["goals"] = control.goals(silent)
    assert silent["goals"]["no_effect"]["passed"] is False  # a dead relay nobody flagged
    working = entry(numbers(no_effect=1))
    assert working["goals"]["no_effect"]["passed"] is False  # a false alarm is a miss


def test_rows_are_what_run_all_reads() -> None:
    entries = [
        entry(numbers(rms_c=0.1)),
        entry(numbers(rms_c=0.2, rms_reachable_c=0.1), feasible=(True, False)),
        entry(numbers(rms_c=0.2), feasible=(False, False)),
    ]
    rows = run_all.check_rows(control.rows(entries))
    rms = [r for r in rows if r["metric"].endswith("beer RMS")]
    assert [r["passed"] for r in rms] == [True, True, True]
    assert [r["value"] for r in rms] == [0.1, 0.1, 0.5]
    assert rms[1]["goal"].startswith("≤ ½ best baseline where reachable")
    assert rms[2]["goal"] == "≤ baselines (physics)"
    settled = next(r for r in rows if "holds settled" in r["metric"])
    assert settled["unit"] == "of 3"  # two feasible holds, then one, then none
    assert "BeerPi / Inkbird" in control.markdown(entries)


def test_a_quick_run_writes_the_matrix_and_its_rows(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.control", "--quick", "--jobs", "1"],
        cwd=ROOT,
        env={**os.environ, "BEERPI_BENCH_RESULTS": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,  # the quick matrix now also runs the ideal controller at a budget
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "control.json").read_text())
    rows, _ = run_all.rows_for("control", report)
    assert any(r["metric"].endswith("compressor starts") for r in rows)
    assert [e["scenario"] for e in report["matrix"]] == [
        control.MATRIX[i].name for i in control.QUICK
    ]
    for e in report["matrix"]:
        assert set(control.CONTROLLERS) <= set(e)
        assert e["BeerPi"]["fights"] == 0
    assert (tmp_path / "control_matrix.md").read_text().count("\n|") >= 3


def test_the_matrix_across_a_pool_is_the_matrix_run_in_turn() -> None:
    """make bench runs the matrix in pieces on a pool, longest first; the numbers must be
    those of running each scenario in turn (only the time it took differs)."""
    from bench._control_pool import evaluate_all

    seconds = 0.75 * DAY_S  # long enough for the compressor to cycle
    pooled = evaluate_all(control.QUICK, seconds, jobs=2)
    serial = [control.evaluate(i, seconds) for i in control.QUICK]
    for e in (*pooled, *serial):
        assert e.pop("seconds") > 0
    assert json.dumps(pooled) == json.dumps(serial)
    assert any("ideal_at_inkbird_starts" in e for e in serial), "the ideal run is covered"
