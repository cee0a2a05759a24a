"""Probe change -> the web service's /live browser namespace, against a browser polling it.

    python -m bench.web_latency [--quick]

A simulated daemon subprocess (probe conversion 0 s, read interval 0.02 s, which the
daemon caps at 20 reads per second) and a real web service subprocess
(``python -m web_extras``) that dials in to it (``--daemon ws://...``) with an API
token. Then, at the same time:

- a browser-like python-socketio ``AsyncClient`` on ``/live`` (the token in
  ``auth``): for every ``state`` push carrying a new beer reading, the time from
  the reading's timestamp (``state.probes.beer.timestamp``, the daemon's wall clock
  when it took the reading, milliseconds truncated) to the push's arrival;
- the seed's design, a browser polling ``GET /api/devices/{id}`` every 1 s: for each
  reading, the time until a poll returned it or a newer one (the baseline);
- a BeerPiClient straight on the daemon, as a reference: the same readings without
  the web service's hop, so the service's own share can be read off.

All clocks are this machine's. Writes bench/results/web_latency.json (``metrics``
rows for ``make bench``); exits non-zero if a step broke. Bounded: about 60 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from beerpi_devtools.harness import web_command
from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.errors import BeerPiError
from beerpi_protocol.models import State

from ._daemon import (
    BenchChild,
    BenchError,
    DaemonProcess,
    bench_parser,
    epoch,
    failed,
    finish,
    simulated_daemon,
    summary_ms,
)
from ._table import row
from .latency import poll_delays

PUSH_P99_GOAL_MS = 20.0
PROBE = "beer"
POLL_INTERVAL_S = 1.0

CONFIG = """\
[sampling]
read_interval_s = 0.02

[simulation]
probe_conversion_s = 0.0
"""


@dataclass
class Sizes:
    pushes: int
    warmup: int
    budget_s: float


FULL = Sizes(pushes=1000, warmup=20, budget_s=100.0)
QUICK = Sizes(pushes=60, warmup=5, budget_s=40.0)


class ServiceProcess(BenchChild):
    """The web service subprocess (the harness's child) with its API token."""

    def __init__(self, daemon: DaemonProcess, data_dir: Path) -> None:
        self.api_token = secrets.token_hex(16)
        args = [
            "--data-dir", str(data_dir),
            "--daemon", f"ws://127.0.0.1:{daemon.port}", "--daemon-token", daemon.token,
            "--api-token", self.api_token, "--log-level", "WARNING",
        ]  # fmt: skip
        super().__init__(
            lambda port: web_command(port, *args),
            data_dir.with_name("web.log"),
            ready=lambda _child: True,  # linked_device() waits for the link itself
            name="the web service",
        )


@contextlib.contextmanager
def web_service(daemon: DaemonProcess) -> Iterator[ServiceProcess]:
    """``python -m web_extras`` dialling in to ``daemon``, until the block ends (SIGTERM)."""
    with (
        tempfile.TemporaryDirectory(prefix="beerpi-bench-web-") as tmp,
        ServiceProcess(daemon, Path(tmp) / "data") as service,
    ):
        yield service


async def linked_device(
    session: aiohttp.ClientSession, service: ServiceProcess, timeout_s: float = 30.0
) -> str:
    """Wait until the service answers and shows the daemon online with a reading; its id."""
    headers = {"Authorization": f"Bearer {service.api_token}"}
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        service.check_alive()
        try:
            async with session.get(f"{service.url}/api/devices", headers=headers) as response:
                if response.status != 200:
                    raise BenchError(f"GET /api/devices answered HTTP {response.status}")
                devices: list[dict[str, Any]] = await response.json()
        except aiohttp.ClientConnectionError as err:
            last = str(err)
        else:
            last = repr(devices)[:200]
            for device in devices:
                probes = (device.get("state") or {}).get("probes") or {}
                if device.get("online") and (probes.get(PROBE) or {}).get("timestamp"):
                    return str(device["id"])
        await asyncio.sleep(0.1)
    raise BenchError(
        f"the web service did not link the daemon within {timeout_s:.0f} s ({last}):\n"
        + service.log_tail()
    )


@dataclass
class Arrivals:
    """New beer readings as one client saw them: latency from reading to arrival."""

    latency_s: list[float] = field(default_factory=list)
    taken: list[float] = field(default_factory=list)
    recording: bool = False
    wanted: int = 0
    enough: asyncio.Event = field(default_factory=asyncio.Event)
    malformed: int = 0
    _last: str | None = None

    def seen(self, state: dict[str, Any], arrived: float) -> None:
        timestamp = ((state.get("probes") or {}).get(PROBE) or {}).get("timestamp")
        if not isinstance(timestamp, str):
            self.malformed += 1
            return
        if timestamp == self._last:
            return  # the same reading again (a push for another change)
        self._last = timestamp
        taken = epoch(timestamp)
        self.taken.append(taken)
        if self.recording and len(self.latency_s) < self.wanted:
            self.latency_s.append(arrived - taken)
            if len(self.latency_s) >= self.wanted:
                self.enough.set()

    def start(self, wanted: int) -> None:
        self.latency_s.clear()
        self.enough.clear()
        self.wanted = wanted
        self.recording = True


async def poller(
    session: aiohttp.ClientSession, service: ServiceProcess, device: str, stop: asyncio.Event
) -> tuple[float, list[tuple[float, float]]]:
    """The seed's browser: GET /api/devices/{id} every second. Its start and (seen, taken)."""
    url = f"{service.url}/api/devices/{device}"
    headers = {"Authorization": f"Bearer {service.api_token}"}
    polls: list[tuple[float, float]] = []
    started = time.time()
    next_at = time.monotonic()
    while not stop.is_set():
        async with session.get(url, headers=headers) as response:
            if response.status != 200:
                raise BenchError(f"GET /api/devices/{device} answered HTTP {response.status}")
            body: dict[str, Any] = await response.json()
        seen = time.time()
        probes = (body.get("state") or {}).get("probes") or {}
        timestamp = (probes.get(PROBE) or {}).get("timestamp")
        if not isinstance(timestamp, str):
            raise BenchError(f"GET /api/devices/{device} has no {PROBE} reading: {body!r:.200}")
        polls.append((seen, epoch(timestamp)))
        next_at += POLL_INTERVAL_S
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.monotonic()))
    return started, polls


async def wait_for(
    arrivals: Arrivals, name: str, timeout_s: float, *checks: DaemonProcess | ServiceProcess
) -> None:
    try:
        await asyncio.wait_for(arrivals.enough.wait(), timeout_s)
    except TimeoutError:
        for process in checks:
            process.check_alive()
        raise BenchError(
            f"{name}: only {len(arrivals.latency_s)} of {arrivals.wanted} pushes "
            f"in {timeout_s:.0f} s"
        ) from None


# Long on purpose: the measurement's socket.io handlers are closures over its arrival records;
# they, the pushes and the poll baseline share one session and one clock.
async def measure(daemon: DaemonProcess, service: ServiceProcess, sizes: Sizes) -> dict[str, Any]:
    browser, direct = Arrivals(), Arrivals()
    other_device: list[str] = []
    async with aiohttp.ClientSession() as session:
        device = await linked_device(session, service)
        print(f"  web service linked device {device!r}", flush=True)

        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)

        @sio.on("state", namespace="/live")  # type: ignore[untyped-decorator]
        async def on_state(data: dict[str, Any]) -> None:
            arrived = time.time()
            if data.get("device") != device:
                other_device.append(str(data.get("device")))
                return
            browser.seen(data.get("state") or {}, arrived)

        def on_direct(state: State) -> None:
            direct.seen(state.to_dict(), time.time())

        client = BeerPiClient("127.0.0.1", daemon.port, daemon.token, session=session)
        client.add_state_listener(on_direct)
        await client.connect()
        try:
            await sio.connect(
                service.url,
                namespaces=["/live"],
                auth={"token": service.api_token},
                transports=["websocket"],
                wait_timeout=10,
            )
        except socketio.exceptions.ConnectionError as err:
            await client.disconnect()
            raise BenchError(f"/live refused the connection: {err}") from err
        try:
            # Warm-up pushes first (connections set up, first-call costs), then the measured.
            browser.start(sizes.warmup)
            await wait_for(browser, "warm-up", 30, daemon, service)
            stop = asyncio.Event()
            browser.start(sizes.pushes)
            direct.start(sizes.pushes)
            polling = asyncio.create_task(poller(session, service, device, stop))
            # The daemon reads at most 20 times a second: allow twice the time that needs.
            timeout_s = sizes.pushes / 20 * 2 + 10
            try:
                await wait_for(browser, "/live", timeout_s, daemon, service)
                await wait_for(direct, "daemon client", 5, daemon)
            finally:
                stop.set()
                started, polls = await polling
        finally:
            await sio.disconnect()
            await client.disconnect()
    daemon.check_alive()
    service.check_alive()
    if browser.malformed or direct.malformed:
        raise BenchError(
            f"pushes without a {PROBE} timestamp: {browser.malformed} on /live, "
            f"{direct.malformed} from the daemon"
        )
    if other_device:
        raise BenchError(f"/live pushed state of unexpected devices {sorted(set(other_device))}")
    latencies = browser.latency_s[: sizes.pushes]
    if min(latencies) < -0.002:  # 1 ms truncation of the daemon's stamp, 1 ms slack
        raise BenchError(f"a push arrived {min(latencies) * 1000:.1f} ms before its reading")
    period = (browser.taken[-1] - browser.taken[0]) / max(1, len(browser.taken) - 1)
    return {
        "device": device,
        "web_push": summary_ms(latencies),
        "daemon_push": summary_ms(direct.latency_s[: sizes.pushes]),
        "poll_1s": summary_ms(poll_delays(browser.taken, started, polls)) | {"polls": len(polls)},
        "read_period_ms": round(period * 1000, 2),
    }


def _sooner(baseline_ms: float, value_ms: float) -> str:
    return f"{baseline_ms / value_ms:,.0f}× sooner" if value_ms > 0 else "n/a"


def metrics(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for the summary table (see bench/run_all.py)."""
    push, poll, direct = r["web_push"], r["poll_1s"], r["daemon_push"]
    rows: list[dict[str, Any]] = []
    for stat, goal in (("p50", None), ("p99", PUSH_P99_GOAL_MS), ("max", None)):
        value, base = push[f"{stat}_ms"], poll[f"{stat}_ms"]
        rows.append(
            row(
                f"web /live push {stat} (reading → browser)",
                value,
                "ms",
                below=goal,
                baseline=f"GET /api/devices/{{id}} every 1 s: {base:.1f} ms",
                ratio=_sooner(base, value),
            )
        )
    rows.append(
        row(
            "web service hop p50 (/live minus daemon client)",
            round(push["p50_ms"] - direct["p50_ms"], 3),
            "ms",
            baseline=f"daemon → client direct p50 {direct['p50_ms']:.2f} ms, "
            f"p99 {direct['p99_ms']:.1f} ms",
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    args = bench_parser(__doc__).parse_args(argv)
    sizes = QUICK if args.quick else FULL
    print(f"web_latency: {sizes.pushes} pushes through the web service's /live", flush=True)
    started = time.monotonic()
    try:
        with simulated_daemon(CONFIG) as daemon, web_service(daemon) as service:
            report = asyncio.run(asyncio.wait_for(measure(daemon, service, sizes), sizes.budget_s))
    except (TimeoutError, BenchError, BeerPiError) as err:
        return failed("web_latency", err, sizes.budget_s)
    rows = metrics(report)
    print(f"  /live push: {report['web_push']}", flush=True)
    print(f"  daemon client push: {report['daemon_push']}", flush=True)
    print(f"  poll every 1 s: {report['poll_1s']}", flush=True)
    return finish(
        "web_latency",
        report,
        rows,
        started=started,
        quick=args.quick,
        load_avg_1m=round(os.getloadavg()[0], 2),
        config=CONFIG,
    )


if __name__ == "__main__":
    sys.exit(main())
