"""Profile steps that end on gravity, as pure functions: parsing, conditions, the thermostat."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from beerpi_protocol.timestamps import iso
from pi_daemon.control import ActiveProfile, Thermostat, load_profile, parse_profile, save_profile
from pi_daemon.control.profile import profile_point
from pi_daemon.control.profile_store import ProfileStoreError
from pi_daemon.gravity import HydrometerBook, new_reading
from pi_daemon.gravity.book import GravityPoint
from pi_daemon.gravity.conditions import gravity_stable, sg_reached

LIMITS: dict[str, float] = {"min_c": -2.0, "max_c": 35.0}
START = datetime(2026, 11, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
PROFILE = {
    "name": "ale to FG",
    "steps": [
        {"target": 18, "days": 14, "until_sg": 1.012},
        {"target": 20, "days": 7, "stable_within": 0.001, "stable_hours": 24},
        {"target": 2, "days": 2},
    ],
}


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"kind": "ramp", "until_sg": 1.01}, "steps[1]: only a hold can end on gravity"),
        ({"until_sg": 1.3}, "steps[1].until_sg must be between 0.99 and 1.2"),
        ({"until_sg": "1.01"}, "steps[1].until_sg must be a number"),
        ({"until_sg": float("nan")}, "steps[1].until_sg must be a finite number"),
        ({"stable_within": 0.001}, "steps[1]: give stable_within and stable_hours together"),
        ({"stable_hours": 24}, "steps[1]: give stable_within and stable_hours together"),
        ({"stable_within": 0, "stable_hours": 24}, "stable_within must be more than 0"),
        ({"stable_within": 0.001, "stable_hours": 100}, "stable_hours must be more than 0 and at"),
        ({"hydrometer": "tilt-red"}, "steps[1]: give until_sg, or stable_within with stable"),
        ({"until_sg": 1.01, "hydrometer": ""}, "steps[1].hydrometer must be a text of 1 to 64"),
    ],
)
def test_validation_names_the_field(step: dict[str, object], message: str) -> None:
    data = {"steps": [{"target": 18, "hours": 1}, {"target": 18, "hours": 48, **step}]}
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_profile(data, **LIMITS)


def test_a_gravity_step_still_needs_its_maximum_time() -> None:
    with pytest.raises(ValueError, match=r"steps\[0\] needs exactly one of hours or days"):
        parse_profile({"steps": [{"target": 18, "until_sg": 1.01}]}, **LIMITS)


def _points(sgs: list[float], *, every: timedelta, end: datetime) -> list[GravityPoint]:
    return [GravityPoint(end - every * (len(sgs) - 1 - i), sg) for i, sg in enumerate(sgs)]


def test_sg_reached_takes_the_median_of_three_fresh_readings() -> None:
    now = START
    minute = timedelta(minutes=1)
    assert not sg_reached(_points([1.020, 1.020, 1.011], every=minute, end=now), 1.012, now)
    assert sg_reached(_points([1.020, 1.012, 1.011], every=minute, end=now), 1.012, now)
    assert not sg_reached(_points([1.011, 1.011], every=minute, end=now), 1.012, now)
    stale = _points([1.010] * 3, every=minute, end=now - 3 * HOUR)
    assert not sg_reached(stale, 1.012, now)


def test_stable_needs_the_whole_window_and_tolerates_a_tilts_jitter() -> None:
    rng = random.Random(3)
    now = START + timedelta(days=3)
    minute = timedelta(minutes=1)

    def noisy(true_sg: list[float]) -> list[GravityPoint]:
        sgs = [round(sg + rng.gauss(0, 0.0005), 3) for sg in true_sg]
        return _points(sgs, every=minute, end=now)

    flat = noisy([1.010] * (25 * 60))
    assert max(p.sg for p in flat) - min(p.sg for p in flat) >= 0.002  # raw: not "within 0.001"
    assert gravity_stable(flat, 0.001, 24, now)
    assert not gravity_stable(flat[-20 * 60 :], 0.001, 24, now)  # watched 20 h of 24
    falling = noisy([1.014 - 0.003 * i / (25 * 60) for i in range(25 * 60)])
    assert not gravity_stable(falling, 0.001, 24, now)
    assert not gravity_stable(flat, 0.001, 24, now + 3 * HOUR)  # gone quiet


def _book_with(
    sgs: list[float], end: datetime, every: timedelta = timedelta(minutes=5)
) -> HydrometerBook:
    book = HydrometerBook()
    for i, sg in enumerate(sgs):
        book.add(new_reading("ispindel", sg, end - every * (len(sgs) - 1 - i)))
    return book


def test_the_thermostat_ends_a_step_when_its_gravity_comes_and_later_steps_move_up() -> None:
    thermostat = Thermostat()
    thermostat.set_profile(PROFILE, START)
    day3 = START + timedelta(days=3)
    assert thermostat.end_step_on_gravity(day3, _book_with([1.020] * 3, day3).history) is None
    assert thermostat.target_at(day3) == 18
    active = thermostat.end_step_on_gravity(day3, _book_with([1.012] * 3, day3).history)
    assert active is not None
    assert active.ended == {0: 3 * 86400.0}
    assert thermostat.target_at(day3 + HOUR) == 20  # step 2 from day 3, not day 14
    point = profile_point(active.profile, START, day3 + HOUR, active.ended)
    assert (point.step, point.step_time_left_s) == (1, 7 * 86400.0 - 3600.0)
    assert point.total_time_left_s == 9 * 86400.0 - 3600.0


def test_without_gravity_the_maximum_time_ends_it() -> None:
    thermostat = Thermostat()
    thermostat.set_profile(PROFILE, START)
    nothing = HydrometerBook().history
    for day in (1, 7, 13):
        assert thermostat.end_step_on_gravity(START + timedelta(days=day), nothing) is None
    assert thermostat.target_at(START + timedelta(days=13, hours=23)) == 18
    assert thermostat.target_at(START + timedelta(days=14, hours=1)) == 20


def test_the_named_hydrometer_is_the_one_that_counts() -> None:
    profile = {"steps": [{"target": 18, "days": 14, "until_sg": 1.012, "hydrometer": "tilt-red"}]}
    thermostat = Thermostat()
    thermostat.set_profile(profile, START)
    day3 = START + timedelta(days=3)
    book = _book_with([1.010] * 3, day3)  # "ispindel", not tilt-red
    assert thermostat.end_step_on_gravity(day3, book.history) is None
    for i in range(3):
        book.add(new_reading("tilt-red", 1.011, day3 - timedelta(minutes=2 * i)))
    assert thermostat.end_step_on_gravity(day3, book.history) is not None


def test_the_store_keeps_what_gravity_ended(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    active = ActiveProfile(parse_profile(PROFILE, **LIMITS), START, {0: 259200.0})
    save_profile(path, active)
    assert load_profile(path, **LIMITS) == active
    document = json.loads(path.read_text())
    assert document["ended"] == {"0": 259200.0}
    del document["ended"]  # a file from before gravity steps
    path.write_text(json.dumps(document))
    loaded = load_profile(path, **LIMITS)
    assert loaded is not None
    assert loaded.ended == {}
    for bad in ({"5": 1.0}, {"0": -1.0}, {"0": 1e12}, {"x": 1.0}, []):
        path.write_text(json.dumps({**document, "ended": bad}))
        with pytest.raises(ProfileStoreError, match="ended"):
            load_profile(path, **LIMITS)


def test_the_book_keeps_one_point_a_minute_and_the_latest_by_time() -> None:
    book = HydrometerBook()
    assert book.add(new_reading("t", 1.040, START))
    assert book.add(new_reading("t", 1.039, START + timedelta(seconds=5)))
    assert book.add(new_reading("t", 1.038, START + timedelta(seconds=61)))
    assert not book.add(new_reading("t", 1.050, START + timedelta(seconds=30)))  # late
    assert [p.sg for p in book.history("t")] == [1.040, 1.038]
    latest = book.latest("t")
    assert latest is not None
    assert latest.sg == 1.038
    assert iso(START + timedelta(seconds=61)) == book.readings()[0].at
    book.add(new_reading("t", 1.030, START + timedelta(hours=100)))
    assert [p.sg for p in book.history("t")] == [1.030]  # older than the longest window: gone
