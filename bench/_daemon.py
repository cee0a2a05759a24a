"""Shared by the benchmarks: a simulated daemon as a real subprocess, and small statistics.

Not a benchmark itself (the leading underscore keeps ``bench.run_all`` from running it).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
READY_LINE = "BeerPi daemon ready on"


class BenchError(RuntimeError):
    """A step of a benchmark broke: the run must stop instead of printing a wrong number."""


def results_dir() -> Path:
    """bench/results, or BEERPI_BENCH_RESULTS (the smoke test keeps real results untouched)."""
    path = Path(os.environ.get("BEERPI_BENCH_RESULTS") or ROOT / "bench" / "results")
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_result(name: str, report: dict[str, Any]) -> Path:
    path = results_dir() / f"{name}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def epoch(iso_utc: str) -> float:
    """Seconds since the epoch of a protocol timestamp ("...T18:00:01.100Z")."""
    return datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).timestamp()


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: a value that was really measured, never an interpolation."""
    if not values:
        raise BenchError("percentile of no samples")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    """count, mean, p50, p99 and max of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in samples_s]
    return {
        "count": len(ms),
        "mean_ms": round(sum(ms) / len(ms), 3),
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
    }


@dataclass
class DaemonProcess:
    process: subprocess.Popen[str]
    port: int
    token: str
    data_dir: Path
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, n: int = 20) -> str:
        return "".join(self.lines[-n:])

    def check_alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise BenchError(f"the daemon exited with {code} mid-benchmark:\n{self.log_tail()}")


@contextlib.contextmanager
def simulated_daemon(
    config_toml: str = "",
    *extra: str,
    python: str = sys.executable,
    start_timeout_s: float = 30.0,
    wait_ready: bool = True,
) -> Iterator[DaemonProcess]:
    """Run ``python -m pi_daemon --simulate`` on loopback until the block ends (SIGTERM).

    With ``wait_ready=False`` the block starts at once (the caller times the start-up).
    """
    port = free_port()
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="beerpi-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        command = [
            python, "-m", "pi_daemon", "--simulate", "--host", "127.0.0.1",
            "--port", str(port), "--token", token, "--data-dir", str(data_dir),
            "--no-zeroconf", "--log-level", "WARNING",
        ]  # fmt: skip
        if config_toml:
            config = Path(tmp) / "bench.toml"
            config.write_text(config_toml)
            command += ["--config", str(config)]
        command += list(extra)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        daemon = DaemonProcess(process, port, token, data_dir)
        ready = threading.Event()

        def drain() -> None:
            # Keep reading so a chatty daemon never blocks on a full pipe.
            assert process.stdout is not None
            for line in process.stdout:
                daemon.lines.append(line)
                if READY_LINE in line:
                    ready.set()

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + start_timeout_s
            while wait_ready and not ready.wait(0.05):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BenchError(
                        f"the daemon did not start ({' '.join(command)}):\n{daemon.log_tail()}"
                    )
            yield daemon
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            reader.join(5)
