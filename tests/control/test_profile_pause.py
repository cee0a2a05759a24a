"""Pausing, resuming and skipping a profile step, on simulated time (pure: no daemon)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pi_daemon.clock import ManualClock
from pi_daemon.config import load_config
from pi_daemon.control import ActiveProfile, Thermostat, load_profile, parse_profile, save_profile
from pi_daemon.control.profile_run import (
    ProfileCommandError,
    active_point,
    active_progress,
    pause,
    resume,
    skip,
)
from pi_daemon.control.profile_store import ProfileStoreError
from pi_daemon.control_adapter import DaemonThermostat, build_thermostat
from pi_daemon.gravity import HydrometerBook, new_reading

LIMITS: dict[str, float] = {"min_c": -2.0, "max_c": 35.0}
START = datetime(2026, 11, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
ALE = parse_profile(
    {
        "name": "ale",
        "steps": [
            {"target": 18, "days": 2},
            {"kind": "ramp", "target": 22, "hours": 10},
            {"target": 22, "days": 1},
        ],
    },
    **LIMITS,
)


def test_a_paused_ramp_holds_its_target_and_its_time_left_then_goes_on_where_it_stopped() -> None:
    active = ActiveProfile(ALE, START)
    halfway = START + 2 * DAY + 5 * HOUR
    assert active_point(active, halfway).target_c == pytest.approx(20.0)
    paused = pause(active, halfway)
    for later in (halfway + HOUR, halfway + 3 * DAY):
        point = active_point(paused, later)
        assert (point.step, point.target_c) == (1, pytest.approx(20.0))
        assert point.step_time_left_s == pytest.approx(5 * 3600)
        progress = active_progress(paused, later)
        assert progress.paused
        assert progress.paused_at == "2026-11-03T05:00:00.000Z"
    # Three days paused: none of them count toward the ramp or what follows.
    back = halfway + 3 * DAY
    resumed = resume(paused, back)
    assert resumed.paused_at is None
    assert resumed.paused_s == 3 * 86400
    assert active_point(resumed, back).target_c == pytest.approx(20.0)
    assert active_point(resumed, back + 150 * timedelta(minutes=1)).target_c == pytest.approx(21.0)
    assert not active_progress(resumed, back).paused
    end = active_point(resumed, back + 5 * HOUR + DAY - timedelta(seconds=1))
    assert (end.step, end.finished) == (2, False)
    assert active_point(resumed, back + 5 * HOUR + DAY).finished


def test_two_pauses_add_up() -> None:
    active = ActiveProfile(ALE, START)
    active = resume(pause(active, START + HOUR), START + 2 * HOUR)
    active = resume(pause(active, START + 5 * HOUR), START + 8 * HOUR)
    assert active.paused_s == 4 * 3600
    # Two days of holding from a start effectively 4 h later.
    assert active_point(active, START + 2 * DAY + 3 * HOUR).step == 0
    assert active_point(active, START + 2 * DAY + 4 * HOUR).step == 1


def test_skip_ends_the_step_now_and_the_next_runs_its_full_length() -> None:
    active = ActiveProfile(ALE, START)
    now = START + 7 * HOUR
    skipped = skip(active, now, None)
    assert skipped.ended == {0: 7 * 3600.0}
    point = active_point(skipped, now)
    assert (point.step, point.step_time_left_s) == (1, 10 * 3600.0)
    # The ramp starts from the skipped hold's target.
    assert point.target_c == pytest.approx(18.0)
    assert active_point(skipped, now + 5 * HOUR).target_c == pytest.approx(20.0)
    assert active_point(skipped, now).total_time_left_s == 34 * 3600.0


def test_skipping_a_ramp_goes_to_its_target() -> None:
    active = ActiveProfile(ALE, START)
    now = START + 2 * DAY + 2 * HOUR
    skipped = skip(active, now, 1)
    point = active_point(skipped, now)
    assert (point.step, point.target_c, point.step_time_left_s) == (2, 22.0, 86400.0)


def test_skipping_the_last_step_finishes_the_profile_and_its_target_holds() -> None:
    active = skip(ActiveProfile(ALE, START), START + HOUR, 0)
    active = skip(active, START + 2 * HOUR, 1)
    paused = pause(active, START + 3 * HOUR)
    done = skip(paused, START + 4 * HOUR, 2)
    point = active_point(done, START + 4 * HOUR)
    assert point.finished
    assert point.target_c == 22.0
    assert done.paused_at is None  # a finished profile is not paused
    assert not active_progress(done, START + 5 * DAY).paused
    for command in (
        lambda a: pause(a, START + 5 * HOUR),
        lambda a: skip(a, START + 5 * HOUR, None),
    ):
        with pytest.raises(ProfileCommandError, match="has finished"):
            command(done)


def test_skip_while_paused_starts_the_next_step_paused() -> None:
    paused = pause(ActiveProfile(ALE, START), START + HOUR)
    skipped = skip(paused, START + 3 * HOUR, 0)
    later = START + 2 * DAY
    point = active_point(skipped, later)
    assert (point.step, point.step_time_left_s, point.target_c) == (1, 36000.0, 18.0)
    assert active_progress(skipped, later).paused
    assert skipped.ended == {0: 3600.0}  # what it ran before the pause


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (lambda a: pause(None, START), "no profile is running to pause"),
        (lambda a: resume(None, START), "no profile is running to resume"),
        (lambda a: skip(None, START, None), "no profile is running to skip a step of"),
        (lambda a: resume(a, START + HOUR), "the profile 'ale' is not paused"),
        (lambda a: pause(pause(a, START), START + HOUR), "the profile 'ale' is already paused"),
        (lambda a: skip(a, START + HOUR, 1), "step 2 is not running (step 1 is); nothing skipped"),
    ],
)
def test_commands_that_do_not_fit_are_refused_with_a_reason(command, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProfileCommandError, match=re.escape(message)):
        command(ActiveProfile(ALE, START))


def test_gravity_does_not_end_a_paused_step_and_does_once_resumed() -> None:
    thermostat = Thermostat()
    thermostat.set_profile(
        {"steps": [{"target": 18, "days": 14, "until_sg": 1.012}, {"target": 2, "days": 2}]},
        START,
    )
    day3 = START + 3 * DAY
    book = HydrometerBook()
    for i in range(3):
        book.add(new_reading("tilt", 1.010, day3 - timedelta(minutes=2 * i)))
    active = thermostat.active_profile
    assert active is not None
    thermostat.resume_profile(pause(active, START + DAY))
    assert thermostat.end_step_on_gravity(day3, book.history) is None
    assert thermostat.target_at(day3) == 18
    paused = thermostat.active_profile
    assert paused is not None
    thermostat.resume_profile(resume(paused, day3))
    ended = thermostat.end_step_on_gravity(day3, book.history)
    assert ended is not None
    assert ended.ended == {0: 86400.0}  # it ran one day; the two paused ones do not count
    assert thermostat.target_at(day3) == 2


def test_a_paused_profile_is_stored_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    active = pause(
        resume(pause(ActiveProfile(ALE, START), START + HOUR), START + 2 * HOUR), START + 5 * HOUR
    )
    save_profile(path, active)
    assert load_profile(path, **LIMITS) == active
    document = json.loads(path.read_text())
    assert (document["paused_at"], document["paused_s"]) == ("2026-11-01T05:00:00.000Z", 3600.0)
    old = {k: v for k, v in document.items() if k not in ("paused_at", "paused_s")}
    path.write_text(json.dumps(old))  # a file from before pausing: running
    loaded = load_profile(path, **LIMITS)
    assert loaded is not None
    assert (loaded.paused_at, loaded.paused_s) == (None, 0.0)
    for key, bad in (
        ("paused_at", "soon"),
        ("paused_at", 5),
        ("paused_at", "2026-10-01T00:00:00Z"),  # before the start
        ("paused_s", -1),
        ("paused_s", "1"),
        ("paused_s", float("inf")),
    ):
        path.write_text(json.dumps({**document, key: bad}))
        with pytest.raises(ProfileStoreError):
            load_profile(path, **LIMITS)


def test_the_end_times_follow_pauses_and_skips_and_are_null_while_paused() -> None:
    active = ActiveProfile(ALE, START)
    progress = active_progress(active, START + HOUR)
    assert (progress.step_ends_at, progress.ends_at) == (
        "2026-11-03T00:00:00.000Z",
        "2026-11-04T10:00:00.000Z",
    )
    # The same instants a minute later: from the plan, not from now.
    assert active_progress(active, START + 2 * HOUR).step_ends_at == progress.step_ends_at
    paused = pause(active, START + HOUR)
    assert active_progress(paused, START + 2 * HOUR).step_ends_at is None
    assert active_progress(paused, START + 2 * HOUR).ends_at is None
    resumed = resume(paused, START + 4 * HOUR)
    # Three hours paused: both ends three hours later.
    assert active_progress(resumed, START + 5 * HOUR).step_ends_at == "2026-11-03T03:00:00.000Z"
    skipped = skip(resumed, START + 5 * HOUR, 0)
    # Step 2 (10 h) runs from the skip; the profile ends a day after it.
    later = active_progress(skipped, START + 5 * HOUR)
    assert (later.step_ends_at, later.ends_at) == (
        "2026-11-01T15:00:00.000Z",
        "2026-11-02T15:00:00.000Z",
    )
    done = skip(skip(skipped, START + 6 * HOUR, 1), START + 6 * HOUR, 2)
    assert active_progress(done, START + 6 * HOUR).ends_at is None


def test_a_pause_the_data_dir_refuses_changes_nothing(tmp_path: Path) -> None:
    """The daemon's side: stored first, so a failed write leaves the profile running."""
    clock = ManualClock(START)
    config = load_config(None, {"simulate": True, "storage.data_dir": str(tmp_path)})
    thermostat = build_thermostat(config, tmp_path, clock)
    thermostat.update(
        mode=None, target=None, profile=ALE.to_dict(), set_profile=True, now=clock.now()
    )
    stored = (tmp_path / "profile.json").read_text()
    (tmp_path / "profile.json").unlink()
    (tmp_path / "profile.json").mkdir()  # the write's rename now fails
    with pytest.raises(IsADirectoryError):
        thermostat.pause_profile(clock.now())
    with pytest.raises(IsADirectoryError):
        thermostat.skip_step(clock.now(), None)
    (tmp_path / "profile.json").rmdir()
    (tmp_path / "profile.json").write_text(stored)
    clock.advance(3600)
    thermostat.step(clock.monotonic(), clock.now(), {}, {})
    progress = thermostat.to_state().profile
    assert progress is not None
    assert (progress.paused, progress.step) == (False, 0)
    thermostat.pause_profile(clock.now())
    loaded = load_profile(tmp_path / "profile.json", **LIMITS)
    assert loaded is not None
    assert loaded.paused_at == START + HOUR


def test_clearing_a_profile_keeps_the_target_it_had_reached(tmp_path: Path) -> None:
    """Manual again: the beer stays where the profile held it, not at the old manual target."""
    clock = ManualClock(START)
    config = load_config(None, {"simulate": True, "storage.data_dir": str(tmp_path)})
    thermostat = build_thermostat(config, tmp_path, clock)

    def target_now(t: DaemonThermostat = thermostat) -> float:
        t.step(clock.monotonic(), clock.now(), {}, {})
        target = t.to_state().target
        assert target is not None
        return target

    thermostat.update(mode="heat_cool", target=12.0, profile=None, set_profile=False, now=START)
    thermostat.update(
        mode=None, target=None, profile=ALE.to_dict(), set_profile=True, now=clock.now()
    )
    clock.advance((2 * DAY + 5 * HOUR).total_seconds())  # halfway up the ramp to 22
    assert target_now() == pytest.approx(20.0)
    thermostat.update(mode=None, target=None, profile=None, set_profile=True, now=clock.now())
    clock.advance(60)
    assert target_now() == pytest.approx(20.0)
    assert thermostat.to_state().profile is None
    # And after a restart: the kept target is the stored one.
    again = build_thermostat(config, tmp_path, clock)
    assert target_now(again) == pytest.approx(20.0)


def test_the_times_left_are_those_of_the_moment_the_state_is_taken(tmp_path: Path) -> None:
    """A state stamped after the last step gives that moment's times left, not the step's.

    Pages add the time left to the state's stamp to draw the profile's end; on the
    simulated clock a state can go out many minutes of profile time after the step.
    """
    clock = ManualClock(START)
    config = load_config(None, {"simulate": True, "storage.data_dir": str(tmp_path)})
    thermostat = build_thermostat(config, tmp_path, clock)
    thermostat.update(
        mode=None, target=None, profile=ALE.to_dict(), set_profile=True, now=clock.now()
    )
    thermostat.step(clock.monotonic(), clock.now(), {}, {})
    clock.advance(180)  # three minutes after the step, as a 600x clock makes 0.3 s
    progress = thermostat.to_state(clock.now()).profile
    assert progress is not None
    assert progress.step_ends_at == "2026-11-03T00:00:00.000Z"
    assert clock.now() + timedelta(seconds=progress.step_time_left_s) == START + 2 * DAY
    assert progress.total_time_left_s == (3 * DAY + 10 * HOUR).total_seconds() - 180
