"""Run a real simulated daemon on 127.0.0.1 inside the test's event loop, or as a process."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beerpi_devtools.harness import (
    DAEMON_READY,
    Child,
    daemon_command,
    free_port,
    ready_line,
)
from beerpi_protocol.client import BeerPiClient
from pi_daemon.app import run
from pi_daemon.config import DaemonConfig, load_config
from pi_daemon.service import Daemon

__all__ = [
    "TOKEN",
    "DaemonProcess",
    "RunningDaemon",
    "connected",
    "daemon_process",
    "free_port",
    "running_daemon",
    "sim_config",
    "wait_for_state",
]

# Daemons refuse weak tokens; a strong one, fresh for each test run (hex: it
# never starts with "-", which argparse would take for an option).
TOKEN = secrets.token_hex(16)


def sim_config(data_dir: Path, port: int | None = None, **overrides: Any) -> DaemonConfig:
    values: dict[str, Any] = {
        "simulate": True,
        "server.host": "127.0.0.1",
        "server.port": port or free_port(),
        "server.token": TOKEN,
        "storage.data_dir": str(data_dir),
        "zeroconf.enabled": False,
        "sampling.read_interval_s": 0.1,
        "simulation.probe_conversion_s": 0.01,
    }
    values.update(overrides)
    return load_config(None, values)


@dataclass
class RunningDaemon:
    config: DaemonConfig
    daemon: Daemon
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def port(self) -> int:
        return self.config.server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, token: str = TOKEN, **kwargs: Any) -> BeerPiClient:
        return BeerPiClient("127.0.0.1", self.port, token, **kwargs)


@contextlib.asynccontextmanager
async def running_daemon(config: DaemonConfig) -> AsyncIterator[RunningDaemon]:
    stop = asyncio.Event()
    ready: asyncio.Future[Daemon] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run(config, stop=stop, on_ready=ready.set_result))
    done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises why it did not start
    if ready not in done:
        task.cancel()
        raise TimeoutError("daemon did not start")
    try:
        yield RunningDaemon(config, ready.result(), stop, task)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


@contextlib.asynccontextmanager
async def connected(running: RunningDaemon, **kwargs: Any) -> AsyncIterator[BeerPiClient]:
    client = running.client(**kwargs)
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


async def wait_for_state(client: BeerPiClient, predicate: Any, timeout_s: float = 10.0) -> Any:
    """Wait until a pushed state satisfies ``predicate``; returns that state."""
    loop = asyncio.get_running_loop()
    found: asyncio.Future[Any] = loop.create_future()

    def check(state: Any) -> None:
        if not found.done() and predicate(state):
            found.set_result(state)

    remove = client.add_state_listener(check)
    try:
        if client.state is not None:
            check(client.state)
        return await asyncio.wait_for(found, timeout_s)
    finally:
        remove()


class DaemonProcess(Child):
    """A simulated daemon subprocess; its output goes to a log file beside its data dir."""

    def __init__(self, data_dir: Path, *extra: str, port: int | None = None) -> None:
        self.data_dir = data_dir
        super().__init__(
            lambda p: daemon_command(p, TOKEN, data_dir, *extra),
            data_dir.with_name(f"{data_dir.name}.log"),
            ready=ready_line(DAEMON_READY),
            port=port,
            name="daemon",
        )

    def terminate(self, timeout: float = 20) -> tuple[int | None, str]:
        """SIGTERM; the exit code and everything this start wrote."""
        code = self.stop(timeout)
        return code, self.output()


@contextlib.contextmanager
def daemon_process(data_dir: Path, *extra: str, port: int | None = None) -> Iterator[DaemonProcess]:
    """A started daemon process, killed at the end if the test did not stop it."""
    process = DaemonProcess(data_dir, *extra, port=port)
    process.start()
    try:
        yield process
    finally:
        process.kill()
