"""A restarted daemon carries on: the simulated fermenter's temperatures, and the relays' rests."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from beerpi_protocol import State
from tests.support.daemon import connected, running_daemon, wait_for_state
from tests.support.switching import switching_config


def when(state: State) -> datetime:
    return datetime.fromisoformat(state.timestamp.replace("Z", "+00:00"))


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
