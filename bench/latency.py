"""Push latency and command round trip of a real simulated daemon, against the seed's polling.

    python -m bench.latency [--quick]

One daemon subprocess on 127.0.0.1 (probe conversion 0 s, read interval
0.01 s, which the daemon caps at 20 reads per second), one BeerPiClient:

1. push: a probe reading is taken (``probes.beer.timestamp``, wall clock at
   --sim-speed 1) -> the ``state`` carrying it reaches the client's listener.
   Meanwhile a second client polls ``GET /api/state`` every 1 s, the seed's
   design; for each reading it is the time until a poll returns that reading
   or a newer one.
2. command: ``set_relay heater on/off`` -> relay switched -> acknowledgement.
   The daemon limits control requests to 10/s per client by default; this
   benchmark raises ``[server] control_rate_per_s`` to 1000 so that the limit
   is not what is measured (and zeroes the heater's minimum on/off times).
3. polling flat out: the same poller with no pause, the floor polling can
   reach, and what it costs the daemon in requests and CPU.

Timestamps carry milliseconds (truncated), so each latency may read up to
1 ms long. Writes bench/results/latency.json; exits non-zero if a step broke.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import psutil

from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.errors import BeerPiError
from beerpi_protocol.models import State

from ._daemon import (
    BenchError,
    DaemonProcess,
    bench_parser,
    epoch,
    failed,
    finish,
    simulated_daemon,
    summary_ms,
)
from ._table import row, table

PUSH_P99_GOAL_MS = 20.0
COMMAND_P99_GOAL_MS = 50.0
PROBE = "beer"
RELAY = "heater"

CONFIG = """\
[server]
# Default 10/s; raised so the benchmark measures the daemon, not its rate limit.
control_rate_per_s = 1000.0

[sampling]
read_interval_s = 0.01

[simulation]
probe_conversion_s = 0.0

[thermostat]
initial_mode = "off"
heater_min_on_s = 0.0
heater_min_off_s = 0.0
"""


@dataclass
class Sizes:
    pushes: int
    commands: int
    flat_out_s: float
    warmup: int
    budget_s: float


FULL = Sizes(pushes=1000, commands=1000, flat_out_s=3.0, warmup=20, budget_s=120.0)
QUICK = Sizes(pushes=60, commands=100, flat_out_s=1.0, warmup=5, budget_s=30.0)


@dataclass
class Listener:
    """Every state push the client gets: new readings, and the relay switch awaited."""

    taken: list[float] = field(default_factory=list)  # epoch s of each distinct reading
    push_latency_s: list[float] = field(default_factory=list)
    # Reading taken -> the daemon stamped the state it pushes (its side of the latency).
    in_daemon_s: list[float] = field(default_factory=list)
    recording: bool = False
    enough: asyncio.Event = field(default_factory=asyncio.Event)
    wanted_pushes: int = 0
    want_heater: bool | None = None
    heater_at: float | None = None
    switched: asyncio.Event = field(default_factory=asyncio.Event)
    malformed: int = 0
    _last: str | None = None

    def __call__(self, state: State) -> None:
        arrived = time.time()
        arrived_perf = time.perf_counter()
        relay = state.relays.get(RELAY)
        if self.want_heater is not None and relay is not None and relay.on is self.want_heater:
            self.want_heater = None
            self.heater_at = arrived_perf
            self.switched.set()
        probe = state.probes.get(PROBE)
        if probe is None or probe.timestamp is None:
            self.malformed += 1
            return
        if probe.timestamp == self._last:
            return  # a push after a command, not a new reading
        self._last = probe.timestamp
        taken = epoch(probe.timestamp)
        self.taken.append(taken)
        if self.recording:
            self.push_latency_s.append(arrived - taken)
            if state.timestamp is not None:
                self.in_daemon_s.append(epoch(state.timestamp) - taken)
            if len(self.push_latency_s) >= self.wanted_pushes:
                self.enough.set()

    async def switched_at(self, timeout_s: float = 1.0) -> float | None:
        """When a push first showed the relay as wanted (None if none came in time)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.switched.wait(), timeout_s)
        return self.heater_at


# Signed URLs live 60 s (protocol 2: HTTP never carries the token); sign anew well before.
RESIGN_AFTER_S = 30.0


async def poller(
    session: aiohttp.ClientSession,
    daemon: DaemonProcess,
    client: BeerPiClient,
    interval_s: float,
    stop: asyncio.Event,
) -> tuple[float, list[tuple[float, float]]]:
    """Poll /api/state every interval_s (0: flat out). Returns its start and (seen, taken)."""
    polls: list[tuple[float, float]] = []
    started = time.time()
    next_at = time.monotonic()
    signed_at = -RESIGN_AFTER_S
    url = ""
    while not stop.is_set():
        if time.monotonic() - signed_at >= RESIGN_AFTER_S:
            url = daemon.url + await client.sign_url("/api/state")
            signed_at = time.monotonic()
        async with session.get(url) as response:
            if response.status != 200:
                raise BenchError(f"GET /api/state answered HTTP {response.status}")
            body: dict[str, Any] = await response.json()
        seen = time.time()
        timestamp = body.get("probes", {}).get(PROBE, {}).get("timestamp")
        if not isinstance(timestamp, str):
            raise BenchError(f"GET /api/state has no {PROBE} timestamp: {body!r:.200}")
        polls.append((seen, epoch(timestamp)))
        if interval_s > 0:
            next_at += interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.monotonic()))
    return started, polls


def poll_delays(
    taken: list[float], started: float, polls: list[tuple[float, float]]
) -> list[float]:
    """For each reading taken while polling: time until a poll returned it or a newer one."""
    delays: list[float] = []
    j = 0
    for t in sorted(x for x in taken if x >= started):
        while j < len(polls) and polls[j][1] < t:
            j += 1
        if j == len(polls):
            break  # taken after the last poll: never seen, not counted
        delays.append(polls[j][0] - t)
    if not delays:
        raise BenchError("the poller saw no reading")
    return delays


class CpuMeter:
    """The daemon's CPU use (all threads) between start() and stop(), in % of one core."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self._cpu = 0.0
        self._wall = 0.0

    def _used(self) -> float:
        times = self._process.cpu_times()
        return float(times.user + times.system)

    def start(self) -> None:
        self._cpu, self._wall = self._used(), time.monotonic()

    def stop(self) -> float:
        return 100.0 * (self._used() - self._cpu) / (time.monotonic() - self._wall)


async def run_push(
    daemon: DaemonProcess, client: BeerPiClient, listener: Listener, sizes: Sizes, cpu: CpuMeter
) -> dict[str, Any]:
    # Warm-up readings first (connection set up, first-call costs), then the measured ones.
    listener.wanted_pushes = sizes.warmup
    listener.recording = True
    await asyncio.wait_for(listener.enough.wait(), 30)
    listener.push_latency_s.clear()
    listener.in_daemon_s.clear()
    listener.enough.clear()
    listener.wanted_pushes = sizes.pushes
    stop = asyncio.Event()
    cpu.start()
    async with aiohttp.ClientSession() as session:
        polling = asyncio.create_task(poller(session, daemon, client, 1.0, stop))
        # The daemon reads at most 20 times a second: allow twice the time that needs.
        timeout_s = sizes.pushes / 20 * 2 + 10
        try:
            await asyncio.wait_for(listener.enough.wait(), timeout_s)
        except TimeoutError:
            daemon.check_alive()
            raise BenchError(
                f"only {len(listener.push_latency_s)} of {sizes.pushes} pushes in {timeout_s:.0f} s"
            ) from None
        finally:
            stop.set()
        started, polls = await polling
    cpu_pct = cpu.stop()
    listener.recording = False
    latencies = listener.push_latency_s[: sizes.pushes]
    if min(latencies) < -0.002:
        raise BenchError(f"a push arrived {min(latencies) * 1000:.1f} ms before its reading")
    period = (listener.taken[-1] - listener.taken[0]) / max(1, len(listener.taken) - 1)
    return {
        "push": summary_ms(latencies),
        "push_in_daemon": summary_ms(listener.in_daemon_s[: sizes.pushes]),
        "poll_1s": summary_ms(poll_delays(listener.taken, started, polls)) | {"polls": len(polls)},
        "read_period_ms": round(period * 1000, 2),
        "daemon_cpu_pct": round(cpu_pct, 1),
    }


async def run_commands(client: BeerPiClient, listener: Listener, sizes: Sizes) -> dict[str, Any]:
    round_trips: list[float] = []
    to_push: list[float] = []
    on = True
    for i in range(sizes.warmup + sizes.commands):
        listener.want_heater, listener.heater_at = on, None
        listener.switched.clear()
        sent = time.perf_counter()
        try:
            ack = await client.call("set_relay", {"relay": RELAY, "on": on})
        except BeerPiError as err:
            raise BenchError(f"set_relay {RELAY} {on} failed: {err}") from err
        acked = time.perf_counter()
        if ack.get("relay") != RELAY or ack.get("on") is not on:
            raise BenchError(f"set_relay {RELAY} {on} answered {ack!r}")
        # The daemon publishes the switched state before it acknowledges.
        switched = await listener.switched_at()
        if switched is None:
            raise BenchError(f"no state push showed {RELAY} {'on' if on else 'off'}")
        if i >= sizes.warmup:
            round_trips.append(acked - sent)
            to_push.append(switched - sent)
        on = not on
    return {"command": summary_ms(round_trips), "command_to_push": summary_ms(to_push)}


async def run_flat_out(
    daemon: DaemonProcess, client: BeerPiClient, listener: Listener, sizes: Sizes, cpu: CpuMeter
) -> dict[str, Any]:
    stop = asyncio.Event()
    cpu.start()
    async with aiohttp.ClientSession() as session:
        polling = asyncio.create_task(poller(session, daemon, client, 0.0, stop))
        await asyncio.sleep(sizes.flat_out_s)
        stop.set()
        started, polls = await polling
    cpu_pct = cpu.stop()
    seconds = polls[-1][0] - started
    return {
        "poll_flat_out": summary_ms(poll_delays(listener.taken, started, polls))
        | {"polls_per_s": round(len(polls) / seconds, 1)},
        "daemon_cpu_pct_flat_out": round(cpu_pct, 1),
    }


async def measure(daemon: DaemonProcess, sizes: Sizes) -> dict[str, Any]:
    listener = Listener()
    client = BeerPiClient("127.0.0.1", daemon.port, daemon.token)
    cpu = CpuMeter(daemon.pid)
    await client.connect()
    remove = client.add_state_listener(listener)
    try:
        report = await run_push(daemon, client, listener, sizes, cpu)
        print(f"  push: {report['push']}", flush=True)
        print(f"  of which inside the daemon: {report['push_in_daemon']}", flush=True)
        report |= await run_commands(client, listener, sizes)
        print(f"  command: {report['command']}", flush=True)
        report |= await run_flat_out(daemon, client, listener, sizes, cpu)
        print(f"  polling flat out: {report['poll_flat_out']}", flush=True)
    finally:
        remove()
        await client.disconnect()
    if listener.malformed:
        raise BenchError(f"{listener.malformed} state pushes had no {PROBE} timestamp")
    daemon.check_alive()
    return report


def _times(baseline_ms: float, value_ms: float) -> str:
    return f"{baseline_ms / value_ms:,.0f}× sooner" if value_ms > 0 else "n/a"


def metrics(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for the summary table (see bench/run_all.py)."""
    push, poll, cmd = r["push"], r["poll_1s"], r["command"]
    flat = r["poll_flat_out"]
    rows: list[dict[str, Any]] = []
    for stat, goal in (("mean", None), ("p50", None), ("p99", PUSH_P99_GOAL_MS), ("max", None)):
        value, base = push[f"{stat}_ms"], poll[f"{stat}_ms"]
        rows.append(
            row(
                f"push latency {stat} (reading → client)",
                value,
                "ms",
                below=goal,
                baseline=f"poll every 1 s: {base:.1f} ms",
                ratio=_times(base, value),
            )
        )
    for stat, goal in (("p50", None), ("p99", COMMAND_P99_GOAL_MS), ("max", None)):
        value = cmd[f"{stat}_ms"]
        rows.append(row(f"command round trip {stat} (set_relay → ack)", value, "ms", below=goal))
    rows.append(
        row(
            "polling flat out p99 (reading → seen)",
            flat["p99_ms"],
            "ms",
            baseline=f"push p99: {push['p99_ms']:.1f} ms",
            ratio=(
                f"{flat['polls_per_s']:.0f} req/s, daemon CPU {r['daemon_cpu_pct_flat_out']:.0f} %"
                f" (push: {r['daemon_cpu_pct']:.0f} %)"
            ),
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    args = bench_parser(__doc__).parse_args(argv)
    sizes = QUICK if args.quick else FULL
    print(
        f"latency: {sizes.pushes} pushes, {sizes.commands} commands, "
        f"{sizes.flat_out_s:g} s polling flat out",
        flush=True,
    )
    started = time.monotonic()
    try:
        with simulated_daemon(CONFIG) as daemon:
            report = asyncio.run(asyncio.wait_for(measure(daemon, sizes), sizes.budget_s))
    except (TimeoutError, BenchError, BeerPiError) as err:
        return failed("latency", err, sizes.budget_s)
    rows = metrics(report)
    print(table(rows))
    return finish("latency", report, rows, started=started, quick=args.quick, config=CONFIG)


if __name__ == "__main__":
    sys.exit(main())
