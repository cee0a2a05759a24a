"""Fermentation profiles: validation, and the target in force at any moment.

A profile is a name and steps: ``{"kind": "hold", "target": C, "hours": H}`` (or
``"days": D``) and ``{"kind": "ramp", "target": C, "hours": H}``, which ramps
linearly from the previous step's target. Time is wall-clock time since the
profile started, so a daemon that was off for a while resumes at the right step
(the time it was off counts), less the time it was paused (profile_run.py).

A hold may end on gravity (``until_sg``, or ``stable_within`` with
``stable_hours``); its hours are then the most it runs. When gravity (or a skip)
ends one, the time it really ran is kept in ``ended`` (step index -> seconds),
and the steps after it move up by what it saved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from beerpi_protocol import ProfileProgress, ProfileStep
from beerpi_protocol.const import SG_RANGE
from beerpi_protocol.requests import MAX_PROFILE_STEPS
from beerpi_protocol.timestamps import iso
from pi_daemon.gravity.book import MAX_STABLE_HOURS, GravityPoint
from pi_daemon.gravity.conditions import gravity_stable, sg_reached

MAX_STEPS = MAX_PROFILE_STEPS
MAX_STEP_HOURS = 24 * 365.0
MAX_NAME_LEN = 64
KINDS = ("hold", "ramp")
MAX_STABLE_WITHIN = 0.050
_GRAVITY_FIELDS = ("until_sg", "stable_within", "stable_hours", "hydrometer")
# What a profile step's gravity may end on: seconds each ended step really ran.
Ended = Mapping[int, float]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    steps: tuple[ProfileStep, ...]

    @property
    def total_s(self) -> float:
        return sum(s.hours for s in self.steps) * 3600.0

    def lengths_s(self, ended: Ended) -> list[float]:
        """How long each step runs: its hours, or what it ran when gravity ended it."""
        return [ended.get(i, step.hours * 3600.0) for i, step in enumerate(self.steps)]

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "steps": [s.to_dict() for s in self.steps]}


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field} must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{field} must be a finite number")
    return number


def _hours(raw: Mapping[object, object], where: str) -> float:
    has_hours, has_days = "hours" in raw, "days" in raw
    if has_hours == has_days:
        raise ValueError(f"{where} needs exactly one of hours or days")
    key = "hours" if has_hours else "days"
    field = f"{where}.{key}"
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{field} must be a positive number")
    hours = float(value) * (24.0 if key == "days" else 1.0)
    if not math.isfinite(hours) or hours > MAX_STEP_HOURS:
        raise ValueError(f"{field} must be at most {MAX_STEP_HOURS:g} hours")
    return hours


def _step(raw: object, index: int, min_c: float, max_c: float) -> ProfileStep:
    where = f"steps[{index}]"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be an object")
    kind = raw.get("kind", "hold")
    if kind not in KINDS:
        raise ValueError(f"{where}.kind must be one of: {', '.join(KINDS)}")
    if index == 0 and kind == "ramp":
        raise ValueError(f"{where} cannot be a ramp: a ramp starts from the previous target")
    if "target" not in raw:
        raise ValueError(f"{where}.target is missing")
    target = _number(raw["target"], f"{where}.target")
    if not min_c <= target <= max_c:
        raise ValueError(f"{where}.target must be between {min_c:g} and {max_c:g} °C")
    unknown = set(raw) - {"kind", "target", "hours", "days", *_GRAVITY_FIELDS}
    if unknown:
        raise ValueError(f"{where} has unknown fields: {', '.join(sorted(map(str, unknown)))}")
    step = ProfileStep(kind=str(kind), target=target, hours=_hours(raw, where))
    if any(key in raw for key in _GRAVITY_FIELDS):
        step = _gravity(raw, where, step)
    return step


def _gravity(raw: Mapping[object, object], where: str, step: ProfileStep) -> ProfileStep:
    """The step with its gravity end; hours/days stay its maximum (the fallback)."""
    if step.kind != "hold":
        raise ValueError(f"{where}: only a hold can end on gravity")
    until_sg = stable_within = stable_hours = None
    if raw.get("until_sg") is not None:
        until_sg = _number(raw["until_sg"], f"{where}.until_sg")
        low, high = SG_RANGE
        if not low <= until_sg <= high:
            raise ValueError(f"{where}.until_sg must be between {low:g} and {high:g}")
    has_within = raw.get("stable_within") is not None
    has_hours = raw.get("stable_hours") is not None
    if has_within != has_hours:
        raise ValueError(f"{where}: give stable_within and stable_hours together")
    if has_within:
        stable_within = _number(raw["stable_within"], f"{where}.stable_within")
        if not 0 < stable_within <= MAX_STABLE_WITHIN:
            raise ValueError(
                f"{where}.stable_within must be more than 0 and at most {MAX_STABLE_WITHIN:g}"
            )
        stable_hours = _number(raw["stable_hours"], f"{where}.stable_hours")
        if not 0 < stable_hours <= MAX_STABLE_HOURS:
            raise ValueError(
                f"{where}.stable_hours must be more than 0 and at most {MAX_STABLE_HOURS:g}"
            )
    if until_sg is None and stable_within is None:
        raise ValueError(f"{where}: give until_sg, or stable_within with stable_hours")
    hydrometer = raw.get("hydrometer")
    if hydrometer is not None and (
        not isinstance(hydrometer, str) or not 1 <= len(hydrometer) <= MAX_NAME_LEN
    ):
        raise ValueError(f"{where}.hydrometer must be a text of 1 to {MAX_NAME_LEN} characters")
    return ProfileStep(
        kind=step.kind,
        target=step.target,
        hours=step.hours,
        until_sg=until_sg,
        stable_within=stable_within,
        stable_hours=stable_hours,
        hydrometer=hydrometer,
    )


def gravity_step_done(step: ProfileStep, history: Sequence[GravityPoint], now: datetime) -> bool:
    """Whether the gravity ``step`` ends on has come (False for a step without one)."""
    if step.until_sg is not None and sg_reached(history, step.until_sg, now):
        return True
    if step.stable_within is not None and step.stable_hours is not None:
        return gravity_stable(history, step.stable_within, step.stable_hours, now)
    return False


def parse_profile(data: object, *, min_c: float, max_c: float) -> Profile:
    """A validated Profile from request JSON; ValueError names the bad field."""
    if not isinstance(data, Mapping):
        raise ValueError("profile must be an object with name and steps")
    name = data.get("name", "profile")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LEN:
        raise ValueError(f"name must be a non-empty text of at most {MAX_NAME_LEN} characters")
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise ValueError("steps must be a list")
    if not steps:
        raise ValueError("steps must not be empty")
    if len(steps) > MAX_STEPS:
        raise ValueError(f"steps must have at most {MAX_STEPS} entries")
    return Profile(name.strip(), tuple(_step(s, i, min_c, max_c) for i, s in enumerate(steps)))


@dataclass(frozen=True, slots=True)
class ProfilePoint:
    """Where a profile stands at one moment."""

    step: int
    target_c: float
    step_time_left_s: float
    total_time_left_s: float
    finished: bool


def profile_point(
    profile: Profile, started_at: datetime, now: datetime, ended: Ended | None = None
) -> ProfilePoint:
    return point_after(profile, max(0.0, (now - started_at).total_seconds()), ended)


def point_after(profile: Profile, elapsed: float, ended: Ended | None = None) -> ProfilePoint:
    """Where ``profile`` stands once it has run ``elapsed`` seconds."""
    lengths = profile.lengths_s(ended or {})
    total = sum(lengths)
    begin = 0.0
    previous_c = profile.steps[0].target
    for index, step in enumerate(profile.steps):
        length = lengths[index]
        if elapsed < begin + length:
            into = elapsed - begin
            target = step.target
            if step.kind == "ramp":
                target = previous_c + (step.target - previous_c) * into / length
            return ProfilePoint(index, target, length - into, total - elapsed, False)
        begin += length
        previous_c = step.target
    last = len(profile.steps) - 1
    return ProfilePoint(last, profile.steps[last].target, 0.0, 0.0, True)


def profile_target_at(profile: Profile, started_at: datetime, now: datetime) -> float:
    """The target in force at ``now``; after the last step its target holds."""
    return profile_point(profile, started_at, now).target_c


def profile_progress(
    profile: Profile, started_at: datetime, now: datetime, ended: Ended | None = None
) -> ProfileProgress:
    point = profile_point(profile, started_at, now, ended)
    return ProfileProgress(
        name=profile.name,
        steps=profile.steps,
        step=point.step,
        step_time_left_s=point.step_time_left_s,
        total_time_left_s=point.total_time_left_s,
        started_at=iso(started_at),
        finished=point.finished,
    )
