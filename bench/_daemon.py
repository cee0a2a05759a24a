"""Shared by the benchmarks: a simulated daemon as a real subprocess, and small statistics.

Not a benchmark itself (the leading underscore keeps ``bench.run_all`` from running it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from beerpi_devtools.harness import (
    DAEMON_READY,
    ROOT,
    Child,
    StartError,
    daemon_command,
    free_port,
    ready_line,
)

__all__ = ["ROOT", "BenchError", "DaemonProcess", "free_port", "simulated_daemon"]


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


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's arguments: described by its docstring's first line, with ``--quick``."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for the smoke test")
    return parser


def failed(name: str, err: BaseException, budget_s: float) -> int:
    """Say why a benchmark stopped (over its budget, or a broken step); exit code 1."""
    why = f"over its {budget_s:g} s budget" if isinstance(err, TimeoutError) else str(err)
    print(f"{name}: FAILED: {why}", file=sys.stderr)
    return 1


def finish(
    name: str,
    measured: dict[str, Any],
    rows: list[dict[str, Any]],
    *,
    started: float,
    quick: bool,
    **details: Any,
) -> int:
    """Write a benchmark's result file (what it measured, how it ran, its rows); exit code 0."""
    report = measured | {
        "benchmark": name,
        "quick": quick,
        "python": platform.python_version(),
        "seconds": round(time.monotonic() - started, 1),
        **details,
        "metrics": rows,
    }
    print(f"wrote {write_result(name, report)}")
    return 0


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


class BenchChild(Child):
    """A harness child whose death mid-run is a BenchError (the run stops, no wrong number)."""

    def log_tail(self, n: int = 20) -> str:
        return "".join(self.output().splitlines(keepends=True)[-n:])

    def check_alive(self) -> None:
        try:
            super().check_alive()
        except StartError as err:
            raise BenchError(f"mid-benchmark: {err}") from err


class DaemonProcess(BenchChild):
    """A simulated daemon subprocess (the harness's child) with the benchmark's token."""

    def __init__(
        self, token: str, data_dir: Path, extra: list[str], log_path: Path, python: str
    ) -> None:
        self.token = token
        self.data_dir = data_dir
        super().__init__(
            lambda port: daemon_command(port, token, data_dir, *extra, python=python),
            log_path,
            ready=ready_line(DAEMON_READY),
            name="the daemon",
        )


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
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="beerpi-bench-") as tmp:
        options = ["--log-level", "WARNING"]
        if config_toml:
            config = Path(tmp) / "bench.toml"
            config.write_text(config_toml)
            options += ["--config", str(config)]
        daemon = DaemonProcess(
            token, Path(tmp) / "data", [*options, *extra], Path(tmp) / "log", python
        )
        daemon.start_timeout_s = start_timeout_s
        try:
            daemon.start(wait=wait_ready)
        except StartError as err:
            raise BenchError(f"the daemon did not start: {err}") from err
        try:
            yield daemon
        finally:
            daemon.stop()
