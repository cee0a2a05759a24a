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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from beerpi_protocol import ProfileProgress, ProfileStep
from beerpi_protocol.profiles import check_profile
from beerpi_protocol.timestamps import iso
from pi_daemon.gravity.book import GravityPoint
from pi_daemon.gravity.conditions import gravity_stable, sg_reached

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


def gravity_step_done(step: ProfileStep, history: Sequence[GravityPoint], now: datetime) -> bool:
    """Whether the gravity ``step`` ends on has come (False for a step without one)."""
    if step.until_sg is not None and sg_reached(history, step.until_sg, now):
        return True
    if step.stable_within is not None and step.stable_hours is not None:
        return gravity_stable(history, step.stable_within, step.stable_hours, now)
    return False


def parse_profile(data: object, *, min_c: float, max_c: float) -> Profile:
    """A validated Profile (beerpi_protocol.profiles' rules); ValueError names the bad field."""
    name, steps = check_profile(data, min_c=min_c, max_c=max_c)
    return Profile(name, steps)


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
