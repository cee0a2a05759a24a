"""pause_profile, resume_profile and skip_step (protocol 2.2) on a live simulated daemon.

The real client on loopback; the daemon's own clock (a fast simulation) is the one
that must stand still for a paused profile.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from beerpi_protocol import ErrorCode, ProfileProgress, Request, State
from beerpi_protocol.errors import BeerPiRequestError, InvalidArgument
from beerpi_protocol.requests import (
    CONTROL_REQUESTS,
    REQUESTS,
    PauseProfile,
    ResumeProfile,
    SkipStep,
)
from beerpi_protocol.timestamps import parse_iso
from tests.support.daemon import connected, running_daemon, sim_config, wait_for_state

PROFILE: dict[str, Any] = {
    "name": "ale",
    "steps": [
        {"target": 18, "days": 4},
        {"kind": "ramp", "target": 22, "hours": 48},
        {"target": 2, "days": 2},
    ],
}


def _profile(state: State) -> ProfileProgress:
    profile = state.thermostat.profile
    assert profile is not None
    return profile


def test_the_requests_are_protocol_models_and_control_requests() -> None:
    for request in (PauseProfile(), ResumeProfile(), SkipStep(), SkipStep(step=2)):
        assert REQUESTS[request.NAME] is type(request)
        assert type(request).from_dict(request.to_dict()) == request
        assert request.NAME in CONTROL_REQUESTS  # rate limited like set_thermostat
    assert SkipStep(step=2).to_dict() == {"step": 2}
    for bad, message in (
        ({"step": -1}, "step must be at least 0"),
        ({"step": "1"}, "step must be a whole number, got a string"),
        ({"step": 1.0}, "step must be a whole number, got a number"),
        ({"step": 50}, "step must be at most 49"),
    ):
        with pytest.raises(InvalidArgument, match=message):
            SkipStep.from_dict(bad)
    assert {Request.PAUSE_PROFILE, Request.RESUME_PROFILE, Request.SKIP_STEP} <= set(REQUESTS)


async def test_pause_holds_the_step_resume_goes_on_skip_moves_to_the_next(tmp_path: Path) -> None:
    # 3600x: an hour of the daemon's time a second.
    config = sim_config(tmp_path, **{"simulation.speed": 3600, "camera.enabled": False})
    async with running_daemon(config) as running, connected(running) as client:
        with pytest.raises(BeerPiRequestError, match="no profile is running") as refused:
            await client.pause_profile()
        assert refused.value.code == ErrorCode.INVALID_ARGUMENT
        await client.set_thermostat(mode="heat_cool", profile=PROFILE)
        thermostat = await client.pause_profile()
        assert thermostat.profile is not None
        assert thermostat.profile.paused
        assert thermostat.profile.paused_at is not None
        left = thermostat.profile.step_time_left_s
        with pytest.raises(BeerPiRequestError, match="already paused"):
            await client.pause_profile()
        # Hours of the daemon's time go by; the step's time left stands still.
        await asyncio.sleep(1.5)
        state = await client.get_state()
        assert _profile(state).paused
        assert _profile(state).step_time_left_s == pytest.approx(left)
        paused_for = parse_iso(state.timestamp) - parse_iso(_profile(state).paused_at or "")
        assert paused_for > timedelta(hours=1)
        assert state.thermostat.target == 18.0

        resumed = await client.resume_profile()
        assert resumed.profile is not None
        assert not resumed.profile.paused
        assert resumed.profile.paused_at is None
        with pytest.raises(BeerPiRequestError, match="is not paused"):
            await client.resume_profile()
        moving = await wait_for_state(
            client, lambda s: _profile(s).step_time_left_s < left - 3600, timeout_s=10
        )
        assert not _profile(moving).paused

        # A skip that names a step other than the running one skips nothing.
        with pytest.raises(BeerPiRequestError, match="step 3 is not running"):
            await client.skip_step(2)
        skipped = await client.skip_step(0)
        assert skipped.profile is not None
        assert skipped.profile.step == 1
        assert skipped.profile.step_time_left_s == pytest.approx(48 * 3600, abs=3600)
        await client.skip_step(1)
        last = await client.skip_step(2)
        assert last.profile is not None
        assert last.profile.finished
        assert last.target == 2.0
        with pytest.raises(BeerPiRequestError, match="has finished"):
            await client.skip_step()


async def test_a_paused_profile_stays_paused_across_a_restart(tmp_path: Path) -> None:
    config = sim_config(tmp_path, **{"simulation.speed": 3600, "camera.enabled": False})
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="heat_cool", profile=PROFILE)
        await asyncio.sleep(0.5)
        paused = await client.pause_profile()
        assert paused.profile is not None
        left = paused.profile.step_time_left_s
        assert left < 4 * 86400
    async with running_daemon(config) as running, connected(running) as client:
        state = await client.get_state()
        profile = _profile(state)
        assert profile.paused
        assert profile.paused_at == paused.profile.paused_at
        assert profile.step_time_left_s == pytest.approx(left)
        resumed = await client.resume_profile()
        assert resumed.profile is not None
        assert resumed.profile.step_time_left_s == pytest.approx(left, abs=3600)


async def test_the_requests_pass_the_rate_limit(tmp_path: Path) -> None:
    """One control path: a burst of pauses is refused like any other control request."""
    config = sim_config(tmp_path, **{"camera.enabled": False, "server.control_rate_per_s": 1.0})
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="heat_cool", profile=PROFILE)
        codes = set()
        for _ in range(12):
            try:
                await client.call(Request.SKIP_STEP, {"step": 99})
            except BeerPiRequestError as err:
                codes.add(err.code)
        assert ErrorCode.RATE_LIMITED in codes
