from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from control_rig import START, make_rig, wall
from hypothesis import given
from hypothesis import strategies as st

from pi_daemon.control import (
    ActiveProfile,
    ProfileStoreError,
    Thermostat,
    load_profile,
    parse_profile,
    profile_point,
    profile_target_at,
    save_profile,
)

LIMITS: dict[str, float] = {"min_c": -2.0, "max_c": 35.0}
ALE = {
    "name": "ale",
    "steps": [
        {"kind": "hold", "target": 18, "days": 5},
        {"kind": "ramp", "target": 22, "hours": 48},
        {"kind": "hold", "target": 22, "days": 2},
        {"kind": "ramp", "target": 2, "hours": 20},
    ],
}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"steps": []}, "steps must not be empty"),
        ({"steps": [{"target": 18, "hours": 1}] * 51}, "at most 50"),
        ({"steps": "x"}, "steps must be a list"),
        ([], "profile must be an object"),
        ({"steps": [{"kind": "boil", "target": 18, "hours": 1}]}, "steps[0].kind"),
        ({"steps": [{"target": float("nan"), "hours": 1}]}, "steps[0].target must be a finite"),
        ({"steps": [{"target": "18", "hours": 1}]}, "steps[0].target must be a number"),
        ({"steps": [{"target": True, "hours": 1}]}, "steps[0].target must be a number"),
        ({"steps": [{"target": 50, "hours": 1}]}, "steps[0].target must be between"),
        ({"steps": [{"hours": 1}]}, "steps[0].target is missing"),
        ({"steps": [{"target": 18, "hours": 1}, {"target": 18, "hours": 0}]}, "steps[1].hours"),
        ({"steps": [{"target": 18, "days": -1}]}, "steps[0].days must be a positive number"),
        ({"steps": [{"target": 18, "hours": "2"}]}, "steps[0].hours must be a positive number"),
        ({"steps": [{"target": 18}]}, "steps[0] needs exactly one of hours or days"),
        ({"steps": [{"kind": "ramp", "target": 18, "hours": 1}]}, "steps[0] cannot be a ramp"),
        ({"steps": [{"target": 18, "hours": 1, "x": 1}]}, "unknown fields: x"),
        ({"name": "", "steps": [{"target": 18, "hours": 1}]}, "name must be"),
    ],
)
def test_validation_names_the_field(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_profile(data, **LIMITS)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
step_like = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["hold", "ramp", "x"]) | json_values,
        "target": st.floats() | st.integers() | json_values,
        "hours": st.floats() | st.integers() | json_values,
        "days": st.floats() | json_values,
    },
)


@given(st.fixed_dictionaries({"steps": st.lists(step_like, max_size=4)}) | json_values)
def test_validation_raises_only_value_error(data: Any) -> None:
    try:
        profile = parse_profile(data, **LIMITS)
    except ValueError:
        return
    assert profile.steps
    for step in profile.steps:
        assert -2.0 <= step.target <= 35.0
        assert step.hours > 0


def test_target_follows_holds_and_ramps() -> None:
    profile = parse_profile(ALE, **LIMITS)
    day = timedelta(days=1)
    assert profile_target_at(profile, START, START) == 18.0
    assert profile_target_at(profile, START, START + 4.9 * day) == 18.0
    assert profile_target_at(profile, START, START + 6 * day) == pytest.approx(20.0)
    assert profile_target_at(profile, START, START + 8 * day) == 22.0
    point = profile_point(profile, START, START + 9 * day + timedelta(hours=10))
    assert point.step == 3
    assert point.target_c == pytest.approx(12.0)
    assert point.step_time_left_s == pytest.approx(10 * 3600)
    end = profile_point(profile, START, START + 30 * day)
    assert end.finished
    assert end.target_c == 2.0
    assert end.total_time_left_s == 0.0


def test_resumes_at_the_right_step_after_a_restart(tmp_path: Path) -> None:
    rig = make_rig()
    active = rig.thermostat.set_profile(ALE, wall(0.0))
    path = tmp_path / "profile.json"
    save_profile(path, active)
    # Power cut; the daemon comes back 6 days later with a fresh monotonic clock.
    restored = load_profile(path, **LIMITS)
    assert restored is not None
    fresh = Thermostat(start_s=0.0)
    fresh.set_mode("heat_cool")
    fresh.resume_profile(restored)
    decision = fresh.step(5.0, START + timedelta(days=6), {}, {})
    assert decision.profile is not None
    assert decision.profile.step == 1
    assert decision.target_c == pytest.approx(20.0, abs=0.01)
    assert decision.profile.total_time_left_s == pytest.approx((3 + 20 / 24) * 86_400, abs=10)
    assert fresh.to_state().profile == decision.profile


def test_store_round_trip_and_clear(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    assert load_profile(path, **LIMITS) is None
    active = ActiveProfile(parse_profile(ALE, **LIMITS), START)
    save_profile(path, active)
    assert load_profile(path, **LIMITS) == active
    assert not list(tmp_path.glob("*.tmp"))
    save_profile(path, None)
    assert not path.exists()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        json.dumps({"version": 99, "steps": []}),
        json.dumps({"version": 1, "name": "a", "steps": [{"target": 18, "hours": 1}]}),
        json.dumps({"version": 1, "steps": [], "started_at": "2026-01-01T00:00:00Z"}),
    ],
)
def test_corrupt_store_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "profile.json"
    path.write_text(content)
    with pytest.raises(ProfileStoreError, match=r"profile\.json"):
        load_profile(path, **LIMITS)


def test_set_target_stops_a_profile() -> None:
    thermostat = Thermostat()
    thermostat.set_profile(ALE, START)
    assert thermostat.target_at(START + timedelta(days=8)) == 22.0
    thermostat.set_target(19.0)
    assert thermostat.active_profile is None
    assert thermostat.target_at(START + timedelta(days=8)) == 19.0
