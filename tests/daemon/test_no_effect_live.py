"""A broken heater or cooler on a live simulated daemon (600x): no_effect is pushed, then clears.

Detection time is measured on the daemon's own clock, from the state that first
shows the relay on to the fault's ``since`` (run with ``-s`` to see it).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from beerpi_protocol import FaultCode, FaultInfo, State
from pi_daemon.safety.limits import COOLER_NO_EFFECT_S, HEATER_NO_EFFECT_S
from tests.support.daemon import connected, running_daemon
from tests.support.switching import switching_config

# One read period at 600x is 30 s of the daemon's clock; a busy machine adds a few.
SLACK_S = 120.0


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("relay", "mode", "beer_c", "room_c", "target", "window_s"),
    [
        ("heater", "heat", 16.0, 10.0, 22.0, HEATER_NO_EFFECT_S),
        ("cooler", "cool", 24.0, 30.0, 18.0, COOLER_NO_EFFECT_S),
    ],
)
async def test_a_broken_relay_raises_no_effect_and_a_repair_clears_it(
    tmp_path: Path,
    relay: str,
    mode: str,
    beer_c: float,
    room_c: float,
    target: float,
    window_s: float,
) -> None:
    config = switching_config(tmp_path / "data", **{"simulation.initial_beer_c": beer_c})
    async with running_daemon(config) as running, connected(running) as client:
        faults: list[FaultInfo] = []
        states: list[State] = []
        client.add_fault_listener(faults.append)
        client.add_state_listener(states.append)
        await client.simulate(ambient=room_c)
        await client.call("simulate", {"relay": relay, "broken": True})
        await client.set_thermostat(mode=mode, target=target)

        def found(active: bool) -> FaultInfo | None:
            return next(
                (
                    f
                    for f in faults
                    if f.code is FaultCode.NO_EFFECT and f.source == relay and f.active is active
                ),
                None,
            )

        for _ in range(400):  # up to 40 s real: 400 min of the daemon's clock
            if found(True):
                break
            await asyncio.sleep(0.1)
        raised = found(True)
        assert raised is not None, faults
        on_at = next(moment(s.timestamp) for s in states if s.relays[relay].on)
        took_s = (moment(raised.since) - on_at).total_seconds()
        print(f"live broken {relay}: no_effect {took_s / 60:.1f} min (daemon clock) after on")
        assert window_s <= took_s <= window_s + SLACK_S
        assert "no effect" in raised.message
        state = await client.get_state()
        assert any(f.code is FaultCode.NO_EFFECT for f in state.faults)

        await client.call("simulate", {"relay": relay, "broken": False})
        for _ in range(400):
            if found(False):
                break
            await asyncio.sleep(0.1)
        assert found(False) is not None, "the fault did not clear once the relay worked"
