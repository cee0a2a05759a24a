"""Run the real web service on a free 127.0.0.1 port, in the test's loop or as a process."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from aiohttp import web

from beerpi_devtools.harness import WebService
from tests.support.daemon import TOKEN, RunningDaemon, free_port, running_daemon, sim_config
from web_extras.app import create_app
from web_extras.config import WebConfig
from web_extras.keys import HUB, STORE

DEVICE_TOKEN = "device-token-0123456789"
API_TOKEN = "api-token-0123456789"
# The login of secured_config's service, and the body of a POST /api/login with it.
USER, PASSWORD = "brewer", "correct horse"
LOGIN = {"username": USER, "password": PASSWORD}


@dataclass
class RunningService:
    app: web.Application
    runner: web.AppRunner
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hub(self) -> Any:
        return self.app[HUB]

    @property
    def store(self) -> Any:
        return self.app[STORE]


def web_config(data_dir: Path, **values: Any) -> WebConfig:
    base: dict[str, Any] = {"host": "127.0.0.1", "port": free_port(), "data_dir": str(data_dir)}
    base.update(values)
    return WebConfig.model_validate(base)


def dial_in_config(data_dir: Path, daemon_port: int, **values: Any) -> WebConfig:
    """The service dialling in to the test daemon (TOKEN) on ``daemon_port``."""
    daemons = [{"url": f"ws://127.0.0.1:{daemon_port}", "token": TOKEN}]
    return web_config(data_dir, daemons=daemons, **values)


def secured_config(tmp_path: Path, **values: Any) -> WebConfig:
    """A service that wants a login (USER, PASSWORD) or the API_TOKEN; data in tmp_path/web."""
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n")
    base: dict[str, Any] = {"user": USER, "password_file": str(password), "api_token": API_TOKEN}
    return web_config(tmp_path / "web", **{**base, **values})


@contextlib.asynccontextmanager
async def running_service(
    config: WebConfig, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[RunningService]:
    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", config.port, ssl_context=ssl_context)
    await site.start()
    try:
        yield RunningService(app, runner, config.port)
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def dialled_in(tmp_path: Path) -> AsyncIterator[tuple[RunningService, RunningDaemon, str]]:
    """A simulated daemon and the service (API_TOKEN) dialled in to it, its device online."""
    async with running_daemon(sim_config(tmp_path / "daemon")) as daemon:
        config = dial_in_config(tmp_path / "web", daemon.port, api_token=API_TOKEN)
        async with running_service(config) as service:
            device = daemon.daemon.device.id
            await wait_until(lambda: service.hub.find(device) and service.hub.find(device).online)
            yield service, daemon, device


async def wait_until(predicate: Any, timeout_s: float = 15.0, step_s: float = 0.05) -> Any:
    """Poll an (async or sync) predicate until truthy; bounded."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(step_s)


@contextlib.asynccontextmanager
async def live_client(
    url: str, *, auth: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[tuple[Any, list[tuple[str, Any]]]]:
    """A browser-like socket.io client on ``/live``, recording every event it gets."""
    received: list[tuple[str, Any]] = []
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)

    @sio.on("*", namespace="/live")  # type: ignore[misc]
    async def any_event(event: str, data: Any) -> None:
        received.append((event, data))

    await sio.connect(
        url, namespaces=["/live"], auth=auth, headers=headers or {}, transports=["websocket"]
    )
    try:
        yield sio, received
    finally:
        await sio.shutdown()


@contextlib.asynccontextmanager
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@contextlib.contextmanager
def service_process(*args: str, port: int | None = None) -> Iterator[WebService]:
    """``python -m web_extras`` as a child; ready when /health answers."""
    with (
        tempfile.TemporaryDirectory(prefix="beerpi-web-") as tmp,
        WebService(port, args, Path(tmp) / "web.log") as service,
    ):
        yield service
