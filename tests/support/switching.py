"""A live simulated daemon whose thermostat switches the heater every ~0.6 s, and a pin watcher.

At ``--sim-speed 600`` a heat-mode profile that alternates between 30 °C and
10 °C every 0.1 h makes the thermostat switch the heater on and off about once
a second of real time, so a test can check that local control never stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pi_daemon.config import DaemonConfig
from tests.support.daemon import RunningDaemon, connected, running_daemon, sim_config

SPEED = 600.0
STEP_HOURS = 0.1  # 360 s of the daemon's clock: 0.6 s of real time
FLIP_PROFILE = {
    "name": "flip",
    "steps": [
        {"kind": "hold", "target": 30.0 if i % 2 == 0 else 10.0, "hours": STEP_HOURS}
        for i in range(50)
    ],
}


def switching_config(data_dir: Path, **overrides: Any) -> DaemonConfig:
    values: dict[str, Any] = {
        "simulation.speed": SPEED,
        # A busy test machine may delay a read by a few real ms = seconds of this clock.
        "thermostat.stale_after_s": 900.0,
        "storage.record_interval_s": 600.0,
    }
    values.update(overrides)
    return sim_config(data_dir, **values)


def flip_config(data_dir: Path, **overrides: Any) -> DaemonConfig:
    """For `switching_daemon`: plain control on the beer, so the heater follows each step.

    The cascade may skip a step while the warm air coasts, which is right for beer but
    leaves a test that watches for "control never stopped" guessing at the cadence.
    """
    return switching_config(data_dir, **{"thermostat.chamber_probe": None, **overrides})


@dataclass
class PinWatch:
    """Every level change of the heater's and cooler's GPIO pins, with its real time."""

    pins: dict[str, Any]
    changes: list[tuple[float, str, bool]] = field(default_factory=list)
    both_on: int = 0

    def heater_changes_between(self, start: float, end: float) -> int:
        return sum(1 for t, rid, _ in self.changes if rid == "heater" and start <= t < end)

    def quiet_gaps(self, start: float, end: float) -> float:
        """The longest time without a heater change between start and end."""
        times = [start] + [t for t, rid, _ in self.changes if rid == "heater" and start <= t < end]
        times.append(end)
        return max(b - a for a, b in itertools.pairwise(times))


async def _watch(watch: PinWatch) -> None:
    last = {rid: pin.state for rid, pin in watch.pins.items()}
    while True:
        await asyncio.sleep(0.005)
        now = time.monotonic()
        states = {rid: pin.state for rid, pin in watch.pins.items()}
        for rid, state in states.items():
            if state != last[rid]:
                watch.changes.append((now, rid, bool(state)))
        watch.both_on += all(states.values())
        last = states


@contextlib.asynccontextmanager
async def switching_daemon(config: DaemonConfig) -> AsyncIterator[tuple[RunningDaemon, PinWatch]]:
    """The daemon running the flip profile in heat mode, its pins watched."""
    async with running_daemon(config) as running:
        fermenter = running.daemon.hardware.simulation.fermenter
        pins = {r.id: fermenter.pin_factory.pin(r.pin) for r in config.relays}
        watch = PinWatch(pins)
        watcher = asyncio.create_task(_watch(watch))
        try:
            async with connected(running) as client:
                await client.set_thermostat(mode="heat", profile=FLIP_PROFILE)
            yield running, watch
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
