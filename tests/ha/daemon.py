"""A real simulated BeerPi daemon in a subprocess, on a free 127.0.0.1 port.

A subprocess (not in-process) because python-socketio's server leaves engine.io
tasks behind that Home Assistant's harness reports as lingering.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Self

from beerpi_devtools.harness import DAEMON_READY, LOOPBACK, ROOT, Child, daemon_command, free_port

__all__ = ["ROOT", "Daemon", "free_port"]

# The daemon runs in the main project env (it is not part of the integration).
DAEMON_PYTHON = os.environ.get("BEERPI_DAEMON_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
# The daemon should exit at once on SIGTERM; it hangs while a client is
# connected (reported), so do not wait long before killing it.
STOP_TIMEOUT_S = 2.0
# The simulated DS18B20 takes a real one's 0.75 s per conversion, which held up every
# start (a first read before the server opens) and every read; the tests' daemons
# convert at once, as the main suite's do. A test's own --config takes the place of this.
FAST_PROBES = "[simulation]\nprobe_conversion_s = 0.01\n"


class Daemon(Child):
    """Start, stop and restart one daemon; the port and data dir survive restarts."""

    def __init__(
        self, data_dir: Path, token: str | None = None, extra_args: tuple[str, ...] = ()
    ) -> None:
        # The daemon refuses weak tokens: a fresh strong one per daemon (hex: it
        # never starts with "-", which argparse would take for an option).
        self.token = token or secrets.token_hex(16)
        self.host = LOOPBACK
        self.data_dir = data_dir
        self.log = data_dir / "daemon.log"
        # Read at each start: a test may change them between a stop and a start.
        self.extra_args = extra_args
        super().__init__(
            lambda port: daemon_command(
                port,
                self.token,
                data_dir,
                "--read-interval",
                "0.2",
                *self._config_args(),
                *self.extra_args,
                python=DAEMON_PYTHON,
            ),
            self.log,
            # This start's ready line, on this start's port (a test may move it).
            ready=lambda child: f"{DAEMON_READY} {child.url}" in child.output(),
            name="daemon",
            stop_timeout_s=STOP_TIMEOUT_S,
        )

    def _config_args(self) -> tuple[str, ...]:
        if "--config" in self.extra_args:
            return ()
        fast = self.data_dir / "fast-probes.toml"
        fast.write_text(FAST_PROBES)
        return ("--config", str(fast))

    def start(self, token: str | None = None, *, wait: bool = True) -> Self:
        """Start (with a new token if given) and wait for the ready line."""
        if token is not None:
            self.token = token
        self.data_dir.mkdir(parents=True, exist_ok=True)
        super().start(wait=wait)
        return self
