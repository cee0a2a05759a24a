"""Profile steps that end on gravity, on a live simulated daemon, on the daemon's own clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from beerpi_protocol import State
from beerpi_protocol.requests import ReportGravity
from beerpi_protocol.timestamps import iso, parse_iso
from tests.support.daemon import connected, running_daemon, sim_config, wait_for_state


def _step(state: State) -> int | None:
    profile = state.thermostat.profile
    return None if profile is None else profile.step


async def test_the_simulated_tilt_ends_a_step_at_its_gravity(tmp_path: Path) -> None:
    """20000x: the ale reaches 1.030 about two days in, long before the 10-day maximum."""
    config = sim_config(tmp_path, **{"simulation.speed": 20000, "camera.enabled": False})
    profile = {
        "name": "primary",
        "steps": [
            {"target": 19, "days": 10, "until_sg": 1.030},
            {"target": 4, "days": 2},
        ],
    }
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="heat_cool", profile=profile)
        moved = await wait_for_state(client, lambda s: _step(s) == 1, timeout_s=60)
        started = parse_iso(moved.thermostat.profile.started_at)
        took = parse_iso(moved.timestamp) - started
        assert timedelta(hours=12) < took < timedelta(days=5)  # gravity ended it, not its 10 days
        tilt = next(h for h in moved.hydrometers if h.id == "tilt-red")
        assert tilt.sg <= 1.032  # the median of three readings reached 1.030
        assert moved.thermostat.target == 4.0
        # The next step's end moved up with it: two days from now, not from day 12.
        assert abs(moved.thermostat.profile.step_time_left_s - 2 * 86400) < 2 * 3600


async def test_without_gravity_the_maximum_time_ends_the_step(tmp_path: Path) -> None:
    config = sim_config(
        tmp_path,
        **{"simulation.speed": 20000, "gravity.simulated_tilt": False, "camera.enabled": False},
    )
    profile = {
        "steps": [
            {"target": 19, "hours": 6, "until_sg": 1.010},
            {"target": 15, "hours": 6, "stable_within": 0.001, "stable_hours": 2},
            {"target": 4, "days": 2},
        ]
    }
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="heat_cool", profile=profile)
        last = await wait_for_state(client, lambda s: _step(s) == 2, timeout_s=30)
        took = parse_iso(last.timestamp) - parse_iso(last.thermostat.profile.started_at)
        assert timedelta(hours=12) <= took < timedelta(hours=14)  # 6 h + 6 h, and a read or two
        assert last.hydrometers == ()


async def test_reported_gravity_ends_a_stable_step_at_once(tmp_path: Path) -> None:
    """An iSpindel's readings, handed over by report_gravity, show an hour at 1.010."""
    config = sim_config(tmp_path, **{"gravity.simulated_tilt": False, "camera.enabled": False})
    profile = {
        "steps": [
            {"target": 19, "days": 7, "stable_within": 0.001, "stable_hours": 1},
            {"target": 4, "days": 2},
        ]
    }
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="heat_cool", profile=profile)
        now = running.daemon.clock.now()
        for minutes_ago, sg in ((75, 1.0105), (55, 1.010), (35, 1.0102)):
            at = iso(now - timedelta(minutes=minutes_ago))
            await client.report_gravity(ReportGravity(hydrometer="ispindel", sg=sg, at=at))
            await asyncio.sleep(0.15)
            # Not yet: nothing in the window's last quarter (the iSpindel may have stopped).
            assert _step(await client.get_state()) == 0
        at = iso(now - timedelta(minutes=5))
        await client.report_gravity(ReportGravity(hydrometer="ispindel", sg=1.0098, at=at))
        state = await client.get_state()
        assert _step(state) == 1
        assert state.thermostat.target == 4.0
