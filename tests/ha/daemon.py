"""A real simulated BeerPi daemon in a subprocess, on a free 127.0.0.1 port.

A subprocess (not in-process) because python-socketio's server leaves engine.io
tasks behind that Home Assistant's harness reports as lingering.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The daemon runs in the main project env (it is not part of the integration).
DAEMON_PYTHON = os.environ.get("BEERPI_DAEMON_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
READY = "BeerPi daemon ready on"
START_TIMEOUT_S = 30.0
# The daemon should exit at once on SIGTERM; it hangs while a client is
# connected (reported), so do not wait long before killing it.
STOP_TIMEOUT_S = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PortTakenError(RuntimeError):
    """Another process bound the port between picking it and the daemon binding it."""


class Daemon:
    """Start, stop and restart one daemon; the port and data dir survive restarts."""

    def __init__(
        self, data_dir: Path, token: str | None = None, extra_args: tuple[str, ...] = ()
    ) -> None:
        self.extra_args = extra_args
        self.host = "127.0.0.1"
        self.port = free_port()
        # The daemon refuses weak tokens: a fresh strong one per daemon (hex: it
        # never starts with "-", which argparse would take for an option).
        self.token = token or secrets.token_hex(16)
        self.data_dir = data_dir
        self.log = data_dir / "daemon.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._starts = 0
        self._log_start = 0
        self._ready_once = False

    def start(self, token: str | None = None) -> None:
        """Start and wait for the ready line.

        A free port is only free when it is picked: another process may take it
        before the daemon binds. The first start then moves to another port; a
        restart keeps its port (the tests reconnect to the same address).
        """
        for _attempt in range(3):
            try:
                self._start_once(token)
                return
            except PortTakenError:
                if self._ready_once:
                    raise
                self._starts -= 1
                self.port = free_port()
        self._start_once(token)

    def _start_once(self, token: str | None) -> None:
        if token is not None:
            self.token = token
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._starts += 1
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    DAEMON_PYTHON,
                    "-m",
                    "pi_daemon",
                    "--simulate",
                    "--host",
                    self.host,
                    "--port",
                    str(self.port),
                    "--token",
                    self.token,
                    "--data-dir",
                    str(self.data_dir),
                    "--read-interval",
                    "0.2",
                    "--no-zeroconf",
                    *self.extra_args,
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        seen = f"{READY} http://{self.host}:{self.port}"
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                this_start = self.log.read_bytes()[self._log_start :]
                if b"address already in use" in this_start:
                    raise PortTakenError(self.port)
                raise RuntimeError(f"daemon exited: {self.log.read_text()[-2000:]}")
            # Restarts (on the same or another port) append to the same log: count
            # the ready lines, the newest one on this start's port.
            log = self.log.read_text()
            newest = log[log.rfind(READY) :].splitlines()[0] if READY in log else ""
            if log.count(READY) >= self._starts and newest == seen:
                self._ready_once = True
                return
            time.sleep(0.05)
        raise RuntimeError(f"daemon not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None
