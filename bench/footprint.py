"""Daemon memory (RSS) and idle CPU over a minute of simulation, against a bare Python.

    python -m bench.footprint [--quick] [--python PATH]...

A simulated daemon at its defaults (a read every 1 s, the DS18B20's 0.75 s
conversion simulated) with two idle clients connected (as Home Assistant and
the web service would be), and beside it, over the same minute, a bare
``python -c "import asyncio; asyncio.run(asyncio.sleep(...))"`` of the same
interpreter: the floor any Python program starts from. RSS is sampled every
second (the peak is judged, daemon plus any child process); CPU is user +
system time over the minute, in % of one core. Runs on this interpreter and,
when it exists, on .venv-pi: Python 3.11 (what Raspberry Pi OS Bookworm
ships) with only the daemon's dependencies, as a Pi install has; both at
once. Writes bench/results/footprint.json; exits non-zero if a step broke.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.errors import BeerPiError

from ._daemon import ROOT, BenchError, DaemonProcess, simulated_daemon, write_result

RSS_GOAL_MB = 60.0
CPU_GOAL_PCT = 1.0
MB = 1e6
CLIENTS = 2
# The simulated camera needs the `sim` extra (Pillow, PyAV), which a Pi install
# lacks; it imports neither before its first capture, so this costs the idle
# daemon measured here nothing.
NO_CAMERA = "[camera]\nenabled = false\n"


@dataclass
class Sizes:
    settle_s: float
    window_s: float


FULL = Sizes(settle_s=5.0, window_s=60.0)
QUICK = Sizes(settle_s=1.0, window_s=4.0)


class Meter:
    """RSS samples and CPU time of one process (and its children) over the window."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.rss: list[int] = []
        self._cpu0 = 0.0
        self._t0 = 0.0
        self.cpu_pct = 0.0
        self.uss_mb: float | None = None
        self.threads = 0

    def _tree(self) -> list[psutil.Process]:
        return [self.process, *self.process.children(recursive=True)]

    def _cpu(self) -> float:
        total = 0.0
        for proc in self._tree():
            times = proc.cpu_times()
            total += times.user + times.system
        return total

    def start(self) -> None:
        self._cpu0, self._t0 = self._cpu(), time.monotonic()

    def sample(self) -> None:
        try:
            self.rss.append(sum(proc.memory_info().rss for proc in self._tree()))
        except psutil.NoSuchProcess as err:
            raise BenchError(f"process {self.process.pid} is gone mid-measurement") from err

    def stop(self) -> None:
        """End of the window: CPU, and what can only be read while the process lives."""
        self.cpu_pct = 100.0 * (self._cpu() - self._cpu0) / (time.monotonic() - self._t0)
        self.threads = self.process.num_threads()
        # USS (memory only this process holds) needs /proc/PID/smaps; optional.
        with contextlib.suppress(psutil.AccessDenied, AttributeError):
            self.uss_mb = round(self.process.memory_full_info().uss / MB, 1)

    def report(self) -> dict[str, Any]:
        return {
            "rss_peak_mb": round(max(self.rss) / MB, 1),
            "rss_end_mb": round(self.rss[-1] / MB, 1),
            "uss_end_mb": self.uss_mb,
            "cpu_pct": round(self.cpu_pct, 3),
            "threads": self.threads,
        }


@contextlib.contextmanager
def bare_python(python: str, seconds: float) -> Iterator[subprocess.Popen[bytes]]:
    code = f"import asyncio; asyncio.run(asyncio.sleep({seconds:.0f}))"
    process = subprocess.Popen([python, "-c", code])
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def python_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return out.stdout.strip()


async def observe(
    daemons: list[DaemonProcess], bares: list[subprocess.Popen[bytes]], sizes: Sizes
) -> tuple[list[Meter], list[Meter], list[list[int]]]:
    clients: list[BeerPiClient] = []
    pushes = [[0] * CLIENTS for _ in daemons]
    try:
        for d, daemon in enumerate(daemons):
            for c in range(CLIENTS):
                client = BeerPiClient("127.0.0.1", daemon.port, daemon.token)
                await client.connect()
                clients.append(client)

                def count(_state: object, d: int = d, c: int = c) -> None:
                    pushes[d][c] += 1

                client.add_state_listener(count)
        # Start-up (imports, the first photo, connections) is not the steady state.
        await asyncio.sleep(sizes.settle_s)
        for row in pushes:
            row[:] = [0] * CLIENTS
        meters = [Meter(d.pid) for d in daemons]
        floors = [Meter(b.pid) for b in bares]
        for meter in meters + floors:
            meter.start()
        end = time.monotonic() + sizes.window_s
        while time.monotonic() < end:
            for meter in meters + floors:
                meter.sample()
            await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))
        for meter in meters + floors:
            meter.sample()
            meter.stop()
        for daemon in daemons:
            daemon.check_alive()
        for bare in bares:
            if bare.poll() is not None:
                raise BenchError(f"the bare Python exited early with {bare.returncode}")
        return meters, floors, pushes
    finally:
        for client in clients:
            await client.disconnect()


def metrics(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for the summary table (see bench/run_all.py)."""
    rows: list[dict[str, Any]] = []
    for run in runs:
        py, daemon, bare = run["python"], run["daemon"], run["bare_python"]
        rss, base_rss = daemon["rss_peak_mb"], bare["rss_peak_mb"]
        # The memory goal is a Pi's: judged on the Pi-like install. The dev
        # environment also holds the web service's libraries (python-socketio
        # imports redis when it is installed), so its figure is shown, not judged.
        on_pi = ".venv-pi" in str(run.get("interpreter", ""))
        where = "Pi install" if on_pi else "dev environment with the web extras"
        rows.append(
            {
                "metric": f"daemon RSS peak, {run['window_s']:g} s (Python {py}, {where})",
                "value": rss,
                "unit": "MB",
                "goal": f"< {RSS_GOAL_MB:g} MB" if on_pi else None,
                "passed": rss < RSS_GOAL_MB if on_pi else None,
                "baseline": f"bare python: {base_rss:.1f} MB",
                "ratio": f"{rss / base_rss:.1f}× bare python",
            }
        )
        cpu, base_cpu = daemon["cpu_pct"], bare["cpu_pct"]
        rows.append(
            {
                "metric": f"daemon idle CPU, {CLIENTS} clients (Python {py})",
                "value": cpu,
                "unit": "%",
                "goal": f"< {CPU_GOAL_PCT:g} %",
                "passed": cpu < CPU_GOAL_PCT,
                "baseline": f"bare python: {base_cpu:.2f} %",
                "ratio": f"+{cpu - base_cpu:.2f} points",
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'metric':<46}{'value':>10}  {'goal':<10}{'baseline':<26}ratio"]
    for row in rows:
        verdict = {True: " PASS", False: " FAIL", None: ""}[row["passed"]]
        lines.append(
            f"{row['metric']:<46}{row['value']:>7.2f} {row['unit']:<3} {row['goal'] or '':<10}"
            f"{row['baseline'] or '':<26}{row['ratio'] or ''}{verdict}"
        )
    return "\n".join(lines)


def interpreters(given: list[str] | None, quick: bool) -> list[str]:
    if given:
        return given
    found = [sys.executable]
    # What a Pi install has: Python 3.11 and only the daemon's dependencies
    # (`make bench` builds it); the smoke test keeps to one interpreter.
    pi_like = ROOT / ".venv-pi" / "bin" / "python"
    if (
        not quick
        and pi_like.exists()
        and os.path.realpath(pi_like) != os.path.realpath(sys.executable)
    ):
        found.append(str(pi_like))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for the smoke test")
    parser.add_argument(
        "--python", action="append", type=str, help="interpreter(s) to run the daemon with"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    pythons = interpreters(args.python, args.quick)
    for python in pythons:
        if not Path(python).exists():
            print(f"footprint: FAILED: no interpreter {python}", file=sys.stderr)
            return 1
    print(f"footprint: {sizes.window_s:g} s on {', '.join(pythons)}", flush=True)
    started = time.monotonic()
    try:
        versions = [python_version(python) for python in pythons]
        with contextlib.ExitStack() as stack:
            daemons = [
                stack.enter_context(simulated_daemon(NO_CAMERA, python=py)) for py in pythons
            ]
            lifetime = sizes.settle_s + sizes.window_s + 60
            bares = [stack.enter_context(bare_python(py, lifetime)) for py in pythons]
            meters, floors, pushes = asyncio.run(
                asyncio.wait_for(observe(daemons, bares, sizes), sizes.window_s + 60)
            )
    except TimeoutError:
        print("footprint: FAILED: over its time budget", file=sys.stderr)
        return 1
    except (BenchError, BeerPiError, subprocess.SubprocessError) as err:
        print(f"footprint: FAILED: {err}", file=sys.stderr)
        return 1
    runs: list[dict[str, Any]] = []
    for python, version, meter, floor, counts in zip(
        pythons, versions, meters, floors, pushes, strict=True
    ):
        # A daemon that stopped reading would look thrifty: demand its 1 Hz pushes.
        if min(counts) < 0.8 * sizes.window_s:
            print(
                f"footprint: FAILED: clients of the Python {version} daemon got {counts} pushes"
                f" in {sizes.window_s:g} s, expected about one a second",
                file=sys.stderr,
            )
            return 1
        runs.append(
            {
                "python": version,
                "interpreter": python,
                "window_s": sizes.window_s,
                "clients": CLIENTS,
                "pushes_per_client": counts,
                "daemon": meter.report(),
                "bare_python": floor.report(),
            }
        )
    rows = metrics(runs)
    print(table(rows))
    report = {
        "benchmark": "footprint",
        "quick": args.quick,
        "python": platform.python_version(),
        "seconds": round(time.monotonic() - started, 1),
        "runs": runs,
        "metrics": rows,
    }
    print(f"wrote {write_result('footprint', report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
