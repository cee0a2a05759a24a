"""Run a real simulated daemon on 127.0.0.1 inside the test's event loop, or as a process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beerpi_protocol.client import BeerPiClient
from pi_daemon.app import run
from pi_daemon.config import DaemonConfig, load_config
from pi_daemon.service import Daemon

# Daemons refuse weak tokens; a strong one, fresh for each test run (hex: it
# never starts with "-", which argparse would take for an option).
TOKEN = secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@dataclass
class DaemonProcess:
    process: subprocess.Popen[str]
    port: int
    data_dir: Path
    lines: list[str]
    reader: threading.Thread

    def terminate(self, timeout: float = 20) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout)
        return code, "".join(self.lines)


def daemon_command(port: int, data_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pi_daemon",
        "--simulate",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--token",
        TOKEN,
        "--data-dir",
        str(data_dir),
        "--no-zeroconf",
        *extra,
    ]


@contextlib.contextmanager
def daemon_process(data_dir: Path, *extra: str, port: int | None = None) -> Iterator[DaemonProcess]:
    port = port or free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        daemon_command(port, data_dir, *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line)
            if "BeerPi daemon ready" in line:
                break
        else:
            raise RuntimeError(f"daemon exited with {process.wait()}: {''.join(lines)}")
        # Keep draining the pipe so a chatty daemon never blocks on a full pipe.
        stream = process.stdout
        reader = threading.Thread(target=lambda: lines.extend(stream), daemon=True)
        reader.start()
        yield DaemonProcess(process, port, data_dir, lines, reader)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
