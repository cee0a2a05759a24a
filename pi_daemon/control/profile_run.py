"""Pausing, resuming and skipping a running profile: pure steps from one ActiveProfile to the next.

A paused profile's clock stands still: its target holds where it was (halfway
up a ramp stays halfway), the time left in its step does not shrink, and a step
that ends on gravity does not end (the thermostat does not look while paused).
Resuming adds the pause to ``paused_s``, so the steps go on where they stopped.
A skip ends the running step at the point it has reached, as gravity does
(``ended``), so the next starts now; skipping the last step finishes the
profile, which then holds its last target like one that ran out.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

from beerpi_protocol import ProfileProgress
from beerpi_protocol.timestamps import iso

from .profile import ProfilePoint, point_after
from .profile_store import ActiveProfile


class ProfileCommandError(ValueError):
    """A pause, resume or skip that does not fit the profile's state (nothing changes)."""


def active_point(active: ActiveProfile, now: datetime) -> ProfilePoint:
    return point_after(active.profile, active.elapsed_s(now), active.ended)


def active_progress(active: ActiveProfile, now: datetime) -> ProfileProgress:
    point = active_point(active, now)
    step_ends_at = ends_at = None
    if active.paused_at is None and not point.finished:
        # From the plan, not from now: the same instant in every push.
        lengths = active.profile.lengths_s(active.ended)
        base = active.started_at + timedelta(seconds=active.paused_s)
        step_ends_at = iso(base + timedelta(seconds=sum(lengths[: point.step + 1])))
        ends_at = iso(base + timedelta(seconds=sum(lengths)))
    return ProfileProgress(
        name=active.profile.name,
        steps=active.profile.steps,
        step=point.step,
        step_time_left_s=point.step_time_left_s,
        total_time_left_s=point.total_time_left_s,
        started_at=iso(active.started_at),
        finished=point.finished,
        paused=active.paused_at is not None,
        paused_at=None if active.paused_at is None else iso(active.paused_at),
        step_ends_at=step_ends_at,
        ends_at=ends_at,
    )


def _running(active: ActiveProfile | None, now: datetime, verb: str) -> ActiveProfile:
    if active is None:
        raise ProfileCommandError(f"no profile is running to {verb}")
    if active_point(active, now).finished:
        raise ProfileCommandError(f"the profile {active.profile.name!r} has finished")
    return active


def pause(active: ActiveProfile | None, now: datetime) -> ActiveProfile:
    active = _running(active, now, "pause")
    if active.paused_at is not None:
        raise ProfileCommandError(f"the profile {active.profile.name!r} is already paused")
    return replace(active, paused_at=now)


def _unpaused(active: ActiveProfile, now: datetime) -> ActiveProfile:
    """The pause folded into ``paused_s`` (a clock that stepped back adds nothing)."""
    if active.paused_at is None:
        return active
    pause_s = max(0.0, (now - active.paused_at).total_seconds())
    return replace(active, paused_at=None, paused_s=active.paused_s + pause_s)


def resume(active: ActiveProfile | None, now: datetime) -> ActiveProfile:
    active = _running(active, now, "resume")
    if active.paused_at is None:
        raise ProfileCommandError(f"the profile {active.profile.name!r} is not paused")
    return _unpaused(active, now)


def skip(active: ActiveProfile | None, now: datetime, expect_step: int | None) -> ActiveProfile:
    """End the running step now (refused if ``expect_step`` is given and another runs)."""
    active = _running(active, now, "skip a step of")
    point = active_point(active, now)
    if expect_step is not None and expect_step != point.step:
        raise ProfileCommandError(
            f"step {expect_step + 1} is not running (step {point.step + 1} is); nothing skipped"
        )
    ran_s = active.profile.lengths_s(active.ended)[point.step] - point.step_time_left_s
    # Down to the millisecond, as a gravity end: the next step must already run at `now`.
    ran_s = max(0.0, math.floor(ran_s * 1000.0) / 1000.0)
    skipped = replace(active, ended={**active.ended, point.step: ran_s})
    if point.step == len(active.profile.steps) - 1:
        # Finished now: a finished profile is not paused.
        return _unpaused(skipped, now)
    return skipped
