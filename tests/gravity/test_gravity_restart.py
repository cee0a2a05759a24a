"""Gravity the daemon has seen survives its restart: a stability window carries on."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.requests import ReportGravity
from beerpi_protocol.timestamps import iso, parse_iso
from pi_daemon.config import ConfigError
from pi_daemon.gravity.store import MAX_POINTS
from tests.support.daemon import RunningDaemon, connected, running_daemon, sim_config

SPEED = 20000.0
PROFILE = {
    "steps": [
        {"target": 19, "days": 7, "stable_within": 0.001, "stable_hours": 24},
        {"target": 4, "days": 2},
    ]
}


async def _report_until(
    running: RunningDaemon, client: BeerPiClient, until: datetime
) -> datetime | None:
    """An iSpindel at 1.010 every ~10 simulated minutes; when step 1 began, if it did."""
    clock = running.daemon.clock
    while clock.now() < until:
        await client.report_gravity(
            ReportGravity(hydrometer="ispindel", sg=1.010, at=iso(clock.now()))
        )
        state = await client.get_state()
        profile = state.thermostat.profile
        if profile is not None and profile.step == 1:
            return parse_iso(state.timestamp)
        await asyncio.sleep(600 / SPEED)
    return None


async def test_a_restart_does_not_start_a_new_stability_window(tmp_path: Path) -> None:
    """24 h stable: 14 h before a restart and 9-10 h after it end the step, not 24 h after."""
    config = sim_config(
        tmp_path / "data",
        **{
            "simulation.speed": SPEED,
            "gravity.simulated_tilt": False,
            "camera.enabled": False,
            "server.control_rate_per_s": 200,
        },
    )
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="heat_cool", profile=PROFILE)
        first = running.daemon.clock.now()
        assert await _report_until(running, client, first + timedelta(hours=14)) is None
    stored = json.loads((tmp_path / "data" / "gravity.json").read_text(encoding="utf-8"))
    # One point about every 10-15 simulated minutes.
    assert len(stored["hydrometers"]["ispindel"]["points"]) >= 14 * 3

    async with running_daemon(config) as running, connected(running) as client:
        state = await client.get_state()
        # The last reading shows at once, before the iSpindel wakes again.
        assert [h.id for h in state.hydrometers] == ["ispindel"]
        assert state.thermostat.profile is not None
        assert state.thermostat.profile.step == 0
        ended = await _report_until(running, client, first + timedelta(hours=40))
    assert ended is not None, "the step never ended on gravity"
    # Watched for 24 h (less the last slice) since the first reading; a forgotten
    # history would have needed 24 h after the restart, 37 h or more in all.
    assert timedelta(hours=22) <= ended - first <= timedelta(hours=28)


@pytest.mark.parametrize(
    "content",
    [
        '{"version": 1, "hydrometers": {"ispindel": {"latest": {"id": "isp',
        '{"version": 1, "hydrometers": {"a": {"latest": {"id": "a", "sg": 7, "at": "x"}}}}',
        '{"version": 1, "hydrometers": {"a": {"latest": {"id": "a", "sg": 1.01, '
        '"at": "2026-11-27T10:00:00Z"}, "start": 1700000000, "points": [[0, 1.01], [0, 1.01]]}}}',
        json.dumps(
            {
                "version": 1,
                "hydrometers": {
                    "a": {
                        "latest": {"id": "a", "sg": 1.01, "at": "2026-11-27T10:00:00Z"},
                        "start": 1700000000,
                        "points": [[i, 1.01] for i in range(MAX_POINTS + 1)],
                    }
                },
            }
        ),
        '{"version": 9, "hydrometers": {}}',
    ],
    ids=["cut", "bad reading", "times not rising", "too many points", "newer format"],
)
async def test_an_unreadable_gravity_file_stops_the_start_with_its_name(
    tmp_path: Path, content: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "gravity.json").write_text(content, encoding="utf-8")
    config = sim_config(data_dir, **{"camera.enabled": False})
    with pytest.raises(ConfigError, match=r"gravity\.json .*fix or remove it"):
        async with running_daemon(config):
            pass
