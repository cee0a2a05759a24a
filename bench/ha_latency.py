"""Probe change -> Home Assistant state change, in a real Home Assistant (make ha-demo's).

    python -m bench.ha_latency [--changes N] [--timeout SECONDS]     (make bench-ha)

``scripts.ha_demo`` starts Home Assistant from ``.venv-ha`` with the BeerPi integration
set up, through the config flow, on a simulated daemon that reads its probes every
0.05 s with no conversion delay. The benchmark then listens on both ends:

- the daemon, as a second socket.io client: every ``state`` push gives the beer probe's
  reading and its timestamp (``probes.beer.timestamp``, the daemon's wall clock when the
  reading was taken, milliseconds truncated);
- Home Assistant's websocket API, ``subscribe_events state_changed``: every change of
  ``sensor.beerpi_beer_temperature`` gives the new value and ``last_updated``, Home
  Assistant's own wall clock when it wrote the state.

Each Home Assistant change is matched to the newest daemon reading with the same value
taken no later than it (a reading equal to the one before changes no state, so it is not
counted). The latency is ``last_updated - reading timestamp``: reading -> daemon push ->
the integration's socket.io client -> coordinator -> entity -> state machine. Both clocks
are the same machine's. The websocket delivery to this process is not part of it.

Runs with any Python that has aiohttp and python-socketio (the main env, as ``make
bench`` runs it, or .venv-ha); it needs ``.venv-ha`` with the demo's packages, and runs
``make env-ha-demo`` first when they are missing. Writes bench/results/ha_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import subprocess
import sys
import time
from datetime import datetime
from typing import Any

import aiohttp

from beerpi_devtools.harness import free_port
from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.models import State
from scripts.ha_demo import DEMO_DEPS, DemoError, HaDemo

from ._daemon import ROOT, BenchError, epoch, summary_ms, write_result

PROBE = "beer"
ENTITY_ID = f"sensor.beerpi_{PROBE}_temperature"
DAEMON_CONFIG = """\
[sampling]
read_interval_s = 0.05

[simulation]
probe_conversion_s = 0.0
"""


def ensure_environment() -> None:
    if not (DEMO_DEPS / ".synced").exists():
        print("bench.ha_latency: setting up .venv-ha for the demo (make env-ha-demo)", flush=True)
        subprocess.run(["make", "-s", "env-ha-demo"], cwd=ROOT, check=True)


# Home Assistant shows a reading at the probe's resolution (1/16 °C); the daemon sends
# millidegrees, like the kernel's w1 driver (19.938 for 19.9375).
PROBE_RESOLUTION_C = 1 / 16


class DaemonReadings:
    """The beer probe's readings as Home Assistant shows them: (timestamp, value), in order."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.values: list[float | None] = []

    def on_state(self, state: State) -> None:
        probe = state.probes.get(PROBE)
        if probe is None or probe.timestamp is None:
            return
        stamp = epoch(probe.timestamp)
        if self.times and stamp <= self.times[-1]:
            return  # the same reading again (a push for another change)
        self.times.append(stamp)
        value = probe.temperature
        if value is not None:
            value = round(value / PROBE_RESOLUTION_C) * PROBE_RESOLUTION_C
        self.values.append(value)

    def match(self, value: float, at: float) -> float | None:
        """When the reading that made Home Assistant show ``value`` at ``at`` was taken.

        That is the newest reading of ``value`` taken no later than ``at``, moved back to the
        first of its run of equal readings: the first changed the state, the rest did not.
        """
        index = bisect.bisect_right(self.times, at) - 1
        # A few readings back at most: Home Assistant writes each changed value.
        for i in range(index, max(-1, index - 20), -1):
            if self.values[i] == value:
                while i > 0 and self.values[i - 1] == value:
                    i -= 1
                return self.times[i]
        return None


async def ha_changes(
    demo: HaDemo, readings: DaemonReadings, wanted: int, timeout_s: float
) -> tuple[list[float], int]:
    """Latencies (s) of ``wanted`` state changes of the beer sensor; and how many went unmatched."""
    changes: list[tuple[float, float]] = []  # (value, when Home Assistant wrote it)
    latencies: list[float] = []
    unmatched = 0
    ws_url = demo.url.replace("http://", "ws://") + "/api/websocket"
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        assert (await ws.receive_json())["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": demo.access_token})
        if (answer := await ws.receive_json())["type"] != "auth_ok":
            raise BenchError(f"Home Assistant refused the token: {answer}")
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
        deadline = time.monotonic() + timeout_s
        while len(changes) < wanted:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"only {len(changes)} of {wanted} changes in {timeout_s:.0f} s")
            message: dict[str, Any] = await asyncio.wait_for(ws.receive_json(), left)
            if message.get("type") != "event":
                continue
            data = message["event"]["data"]
            new = data.get("new_state")
            old = data.get("old_state")
            if data.get("entity_id") != ENTITY_ID or new is None or old is None:
                continue
            if old["state"] == new["state"]:
                continue  # an attribute or availability change, not a new reading
            try:
                value = float(new["state"])
            except ValueError:
                continue  # unknown/unavailable: no reading to time
            changes.append((value, datetime.fromisoformat(new["last_updated"]).timestamp()))
    # Matched once the run is over: the daemon's push to this process may trail Home
    # Assistant's, and an incomplete list would match an older reading.
    await asyncio.sleep(0.5)
    for value, written in changes:
        taken = readings.match(value, written)
        if taken is None:
            unmatched += 1
        else:
            latencies.append(written - taken)
    return latencies, unmatched


async def measure(demo: HaDemo, wanted: int, timeout_s: float) -> dict[str, Any]:
    readings = DaemonReadings()
    client = BeerPiClient("127.0.0.1", demo.daemon_port, demo.daemon_token)
    client.add_state_listener(readings.on_state)
    await client.connect()
    try:
        latencies, unmatched = await ha_changes(demo, readings, wanted, timeout_s)
    finally:
        await client.disconnect()
    if min(latencies) < -0.002:  # 1 ms truncation of the daemon's stamp, 1 ms slack
        raise BenchError(f"negative latency {min(latencies) * 1000:.1f} ms: clocks disagree")
    stats = summary_ms([max(0.0, s) for s in latencies])
    return {**stats, "unmatched": unmatched}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=300, help="state changes to time (≥ 200)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to collect them")
    args = parser.parse_args(argv)

    ensure_environment()
    started = time.monotonic()
    try:
        with HaDemo(
            ha_port=free_port(), read_interval_s=0.05, daemon_config_toml=DAEMON_CONFIG
        ) as demo:
            print(f"Home Assistant up in {time.monotonic() - started:.0f} s; timing", flush=True)
            stats = asyncio.run(measure(demo, args.changes, args.timeout))
    except DemoError as err:
        raise BenchError(str(err)) from err
    result = {
        "p50_ms": stats["p50_ms"],
        "p99_ms": stats["p99_ms"],
        "max_ms": stats["max_ms"],
        "n": stats["count"],
        "mean_ms": stats["mean_ms"],
        "unmatched": stats["unmatched"],
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "what": "daemon reading timestamp -> Home Assistant state last_updated "
        f"({ENTITY_ID}), real Home Assistant, loopback, read interval 0.05 s",
        "metrics": [
            {
                "metric": "probe reading → Home Assistant state p50",
                "value": stats["p50_ms"],
                "unit": "ms",
                "goal": None,
                "passed": None,
                "baseline": None,
                "ratio": None,
            },
            {
                "metric": "probe reading → Home Assistant state p99",
                "value": stats["p99_ms"],
                "unit": "ms",
                "goal": None,
                "passed": None,
                "baseline": "seed: 1 s polling",
                "ratio": None,
            },
        ],
    }
    path = write_result("ha_latency", result)
    print(
        f"probe -> Home Assistant state: p50 {stats['p50_ms']:.1f} ms, p99 "
        f"{stats['p99_ms']:.1f} ms, max {stats['max_ms']:.1f} ms over {stats['count']} "
        f"changes ({stats['unmatched']} unmatched); wrote {path}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
