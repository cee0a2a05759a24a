"""Gravity the daemon has seen survives its restart: a stability window carries on."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.requests import ReportGravity
from beerpi_protocol.timestamps import iso, parse_iso
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
    # Stored before the restart: a point every 10-15 simulated minutes on an idle machine,
    # fewer when a busy one lets the 20,000x clock run ahead of the reporter (41 seen).
    assert len(stored["hydrometers"]["ispindel"]["points"]) >= 14

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
async def test_an_unreadable_gravity_file_is_moved_aside_and_named(
    tmp_path: Path, content: str
) -> None:
    """The daemon starts without it (a step waiting on stable gravity waits a new
    window), keeps the file as it was, and its `storage` fault says so."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "gravity.json").write_text(content, encoding="utf-8")
    config = sim_config(data_dir, **{"camera.enabled": False, "gravity.simulated_tilt": False})
    async with running_daemon(config) as running:
        state = running.daemon.state()
        assert not state.hydrometers
        faults = [f for f in state.faults if f.code == "storage"]
        assert faults, "the brewer was not told"
        assert str(data_dir / "gravity.json") in (faults[0].message or "")
        assert "gravity starts anew" in (faults[0].message or "")
    (kept,) = data_dir.glob("gravity.json.damaged-*")
    assert kept.read_text(encoding="utf-8") == content


async def test_gravity_is_kept_on_disk_every_ten_minutes_while_it_runs(tmp_path: Path) -> None:
    """README: gravity.json is "written atomically at most every 10 minutes of the
    daemon's clock", so a power cut (no shutdown write) loses at most those minutes."""
    speed = 300.0  # ten clock minutes are two real seconds (the floor at high speeds)
    config = sim_config(
        tmp_path / "data",
        **{
            "simulation.speed": speed,
            "gravity.simulated_tilt": False,
            "camera.enabled": False,
            "server.control_rate_per_s": 200,
        },
    )
    path = tmp_path / "data" / "gravity.json"
    writes: list[datetime] = []  # the daemon's clock when a new file was seen
    seen: tuple[int, int] | None = None
    async with running_daemon(config) as running, connected(running) as client:
        clock = running.daemon.clock
        start = clock.now()
        sg = 1.0500
        while clock.now() < start + timedelta(minutes=35):
            sg -= 0.0001  # a new reading about every clock minute
            await client.report_gravity(
                ReportGravity(hydrometer="ispindel", sg=round(sg, 4), at=iso(clock.now()))
            )
            for _ in range(4):
                await asyncio.sleep(0.05)
                if (
                    path.exists()
                    and (stat := path.stat())
                    and (key := (stat.st_ino, stat.st_mtime_ns)) != seen
                ):
                    seen = key
                    writes.append(clock.now())
        last_sent = round(sg, 4)
        on_disk = json.loads(path.read_text(encoding="utf-8"))
        kept = on_disk["hydrometers"]["ispindel"]["latest"]["sg"]
    # Written while running, not only at the shutdown: the first at once, then on.
    assert len(writes) >= 3, writes
    gaps = [(b - a).total_seconds() / 60 for a, b in itertools.pairwise(writes)]
    # Never more often than every ten clock minutes (less a poll's 15 clock seconds)...
    assert min(gaps) >= 9.5, gaps
    # ...and the reading on disk is at most those minutes behind the newest one sent.
    assert last_sent <= kept <= round(last_sent + 0.0001 * 12, 4), (kept, last_sent, gaps)
