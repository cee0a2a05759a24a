"""A restarted daemon carries on: the simulated fermenter's temperatures, and the relays' rests.

relays.json may be stale (the data dir stopped taking writes before a power blip):
the compressor still rests, and the heater still waits the changeover, from the start.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from beerpi_protocol import BeerPiRequestError, State
from tests.support.daemon import (
    RunningDaemon,
    connected,
    running_daemon,
    sim_config,
    wait_for_state,
)
from tests.support.switching import switching_config


def when(state: State) -> datetime:
    return datetime.fromisoformat(state.timestamp.replace("Z", "+00:00"))


def started_at(running: RunningDaemon) -> datetime:
    """When the daemon started, on its (simulated) clock: its rests count from then."""
    clock = running.daemon.clock
    return clock.now() - timedelta(seconds=clock.monotonic())


async def test_the_simulated_fermenter_carries_on_from_its_last_temperatures(
    tmp_path: Path,
) -> None:
    config = switching_config(tmp_path / "data", **{"simulation.initial_beer_c": 14.0})
    async with running_daemon(config) as running, connected(running) as client:
        await client.simulate(ambient=40.0)
        await client.set_thermostat(mode="heat", target=30.0)
        await asyncio.sleep(4.0)  # 40 simulated minutes of a warm room and the heater
        before = await client.get_state()
    beer_before = before.probes["beer"].temperature
    assert beer_before is not None
    assert beer_before > 14.3  # it has really moved from where it started
    async with running_daemon(config) as running, connected(running) as client:
        after = await wait_for_state(client, lambda s: s.probes["beer"].temperature is not None)
    beer_after = after.probes["beer"].temperature
    # The beer carries on (a few simulated minutes passed over the restart), no jump to 14 °C.
    assert abs(beer_after - beer_before) < 0.2, (beer_before, beer_after)


async def test_no_heater_right_after_a_restart_that_stopped_the_cooler(tmp_path: Path) -> None:
    config = switching_config(tmp_path / "data", **{"simulation.initial_beer_c": 24.0})
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="cool", target=18.0)
        await wait_for_state(client, lambda s: s.relays["cooler"].on, timeout_s=10)
        await asyncio.sleep(0.5)
    # It stopped with the cooler running; now someone wants heat at once.
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="heat_cool", target=30.0)
        waiting = await client.get_state()
        assert not waiting.relays["heater"].on
        assert "changeover" in waiting.thermostat.reason
        started = when(waiting)
        heating = await wait_for_state(client, lambda s: s.relays["heater"].on, timeout_s=15)
        waited_s = (when(heating) - started).total_seconds()
        # The changeover (30 min) counts from the restart, when the cooler stopped.
        assert 25 * 60 < waited_s < 40 * 60, waited_s


def write_stale_history(data_dir: Path, now: datetime) -> None:
    """relays.json as a data dir that stopped taking writes left it: both relays off for
    two hours, although the cooler may have run until the power blip."""
    data_dir.mkdir(parents=True, exist_ok=True)
    long_ago = (now - timedelta(hours=2)).isoformat()
    relay = {"on": False, "since": long_ago, "ran_until": long_ago}
    (data_dir / "relays.json").write_text(
        json.dumps({"version": 1, "relays": {"heater": relay, "cooler": relay}})
    )


async def test_a_stale_history_does_not_let_the_cooler_on_by_hand_at_start(
    tmp_path: Path,
) -> None:
    write_stale_history(tmp_path / "data", datetime.now(UTC))
    config = sim_config(tmp_path / "data")
    async with running_daemon(config) as running, connected(running) as client:
        with pytest.raises(BeerPiRequestError) as refused:
            await client.set_relay("cooler", True)
        assert refused.value.code == "relay_locked_out"
        assert "minimum off time" in refused.value.message
        assert not running.daemon.hardware.relays["cooler"].is_on
        state = await client.get_state()
        assert state.relays["cooler"].locked_for_s > 500


async def test_a_stale_history_does_not_let_the_thermostat_start_the_cooler_at_once(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    write_stale_history(data_dir, datetime.now(UTC))
    (data_dir / "thermostat.json").write_text(json.dumps({"mode": "cool", "target": 18.0}))
    config = switching_config(data_dir, **{"simulation.initial_beer_c": 24.0})
    async with running_daemon(config) as running, connected(running) as client:
        started = started_at(running)
        waiting = await client.get_state()
        assert not waiting.relays["cooler"].on
        assert "minimum off time" in waiting.thermostat.reason
        cooling = await wait_for_state(client, lambda s: s.relays["cooler"].on, timeout_s=15)
        rested_s = (when(cooling) - started).total_seconds()
        # The compressor's 10 min rest counts from the start, as after a power cut.
        # (The upper bound only says it does start: 3 real seconds of slack at this speed.)
        assert 600 <= rested_s < 2400, rested_s


async def test_after_a_stale_cool_spell_the_heater_waits_the_changeover_from_start(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    write_stale_history(data_dir, datetime.now(UTC))
    (data_dir / "thermostat.json").write_text(json.dumps({"mode": "cool", "target": 18.0}))
    # The beer is below the cool target now: the cooler stays off after the restart.
    config = switching_config(data_dir, **{"simulation.initial_beer_c": 16.0})
    async with running_daemon(config) as running, connected(running) as client:
        started = started_at(running)
        # The thermostat drove the cooler when it stopped; now someone wants heat at once.
        await client.set_thermostat(mode="heat_cool", target=30.0)
        waiting = await client.get_state()
        assert not waiting.relays["heater"].on
        assert "changeover" in waiting.thermostat.reason
        heating = await wait_for_state(client, lambda s: s.relays["heater"].on, timeout_s=15)
        waited_s = (when(heating) - started).total_seconds()
        assert 1800 <= waited_s < 3600, waited_s


async def test_the_relay_history_is_kept_current_without_switches(tmp_path: Path) -> None:
    """relays.json is rewritten every minute of the clock, switch or not: its saved_at
    is what tells a restart that it is current (see the next test)."""
    config = sim_config(tmp_path / "data", **{"simulation.speed": 10.0})
    history = tmp_path / "data" / "relays.json"
    async with running_daemon(config) as running, connected(running) as client:
        await wait_for_state(client, lambda s: history.exists())
        first = json.loads(history.read_text())["saved_at"]
        await asyncio.sleep(7.0)  # 70 s of this clock
        assert json.loads(history.read_text())["saved_at"] > first
        assert not any(r.on for r in (await client.get_state()).relays.values())


async def test_a_restart_with_a_current_history_waits_no_changeover(tmp_path: Path) -> None:
    """A restart while the data dir takes writes: relays.json, written as the daemon
    stopped, is current, so heat_cool heats at once: no 30 min changeover for a
    cooler that never ran (a file that may be stale would have made it wait)."""
    config = sim_config(tmp_path / "data", **{"simulation.initial_beer_c": 14.0})
    async with running_daemon(config) as running, connected(running) as client:
        # Cooling wanted, but the compressor rests its first 10 min: nothing runs.
        await client.set_thermostat(mode="heat_cool", target=10.0)
        await wait_for_state(client, lambda s: "cooler" in s.thermostat.reason)
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="heat_cool", target=25.0)
        heating = await wait_for_state(client, lambda s: s.relays["heater"].on, timeout_s=10)
        assert heating.thermostat.mode == "heat_cool"
