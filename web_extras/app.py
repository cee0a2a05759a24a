"""``create_app(config)``: the whole service as one aiohttp application.

The store and the daemon links live in ``cleanup_ctx`` generators (opened at
start-up, closed at shutdown, in reverse order); socket.io's background tasks
stop in ``on_shutdown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import socketio
from aiohttp import web

from .api import control, devices, history, meta, session
from .auth import Auth, auth_middleware
from .config import WebConfig, client_ssl_context
from .dialin import DialInLink
from .dialout import DevicesNamespace
from .errors import error_middleware
from .hub import DeviceHub
from .ingest import Recorder
from .keys import AUTH, CONFIG, HTTP, HUB, MEDIA, RECORDER, SIO, STORE
from .live import LiveNamespace
from .media import MediaCache
from .store import create_store

_LOGGER = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Requests from browsers and scripts are small; media goes the other way.
MAX_BODY_BYTES = 256 * 1024


def create_app(config: WebConfig) -> web.Application:
    for daemon in config.daemons:
        client_ssl_context(daemon)  # a certificate that cannot load is a config error now
    auth = Auth.from_config(config)
    if not auth.login_required and config.host not in ("127.0.0.1", "::1", "localhost"):
        _LOGGER.warning(
            "no user or API token configured: anyone who reaches %s can control devices",
            config.host,
        )
    app = web.Application(
        middlewares=[error_middleware, auth_middleware(auth)], client_max_size=MAX_BODY_BYTES
    )
    store = create_store(config.mongo_url, config.sqlite_path)
    hub = DeviceHub(store)
    recorder = Recorder(hub)
    app[CONFIG] = config
    app[AUTH] = auth
    app[STORE] = store
    app[HUB] = hub
    app[RECORDER] = recorder
    app[MEDIA] = MediaCache(config.data_dir / "media", hub)

    sio = _socketio_server(config)
    app[SIO] = sio
    live = LiveNamespace(hub, auth)
    devices_ns = DevicesNamespace(
        recorder, config.device_tokens, request_timeout_s=config.request_timeout_s
    )
    sio.register_namespace(live)
    sio.register_namespace(devices_ns)
    hub.add_listener(live)
    sio.attach(app)
    if config.redis_url:
        from .scaleout import attach_scaleout

        attach_scaleout(app, config.redis_url)

    for module in (meta, session, devices, history, control):
        app.router.add_routes(module.routes)
    _add_pages(app)

    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_links_ctx)
    if config.retention_days is not None:
        app.cleanup_ctx.append(_retention_ctx)

    async def shutdown(app: web.Application) -> None:
        await live.close()
        await devices_ns.close()
        await sio.shutdown()

    app.on_shutdown.append(shutdown)
    return app


def _socketio_server(config: WebConfig) -> socketio.AsyncServer:
    manager = None
    if config.redis_url:
        # /live broadcasts and dial-out requests then reach every service process.
        manager = socketio.AsyncRedisManager(config.redis_url)
    return socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        # Pages are served by this service: same origin only.
        cors_allowed_origins=[],
        max_http_buffer_size=64 * 1024,
    )


def _add_pages(app: web.Application) -> None:
    if STATIC_DIR.is_dir():
        app.router.add_static("/static/", STATIC_DIR)
    if importlib.util.find_spec("web_extras.pages") is not None:
        # Written by the pages engineer against the API contract (openapi.json).
        pages = importlib.import_module("web_extras.pages")
        pages.register_pages(app)
        return

    async def index(request: web.Request) -> web.Response:
        return web.Response(
            text="<!doctype html><title>BeerPi</title><h1>BeerPi</h1>"
            '<p><a href="/api/devices">devices</a> · <a href="/api/openapi.json">API</a></p>',
            content_type="text/html",
        )

    app.router.add_get("/", index)


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    app[CONFIG].data_dir.mkdir(parents=True, exist_ok=True)
    store = app[STORE]
    await store.open()
    await app[HUB].load_known()
    yield
    await store.close()


RETENTION_EVERY_S = 3600.0


async def _retention_ctx(app: web.Application) -> AsyncIterator[None]:
    """Drop raw readings past the retention age (rollups stay): at start, then hourly."""
    days = app[CONFIG].retention_days
    assert days is not None
    store = app[STORE]

    async def roll() -> None:
        while True:
            cutoff = datetime.now(UTC) - timedelta(days=days)
            try:
                dropped = await store.drop_raw(cutoff)
            except Exception:  # retention must never take the service down
                _LOGGER.exception("dropping raw readings older than %g days failed", days)
            else:
                if dropped:
                    _LOGGER.info(
                        "dropped %d raw readings older than %g days (rollups kept)", dropped, days
                    )
            await asyncio.sleep(RETENTION_EVERY_S)

    task = asyncio.create_task(roll(), name="beerpi-retention")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _links_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    session = aiohttp.ClientSession()
    app[HTTP] = session
    # A daemon with its own (self-signed) certificate gets a session that trusts it.
    sessions = [session]
    links = []
    for daemon in config.daemons:
        context = client_ssl_context(daemon)
        link_session = session
        if context is not None:
            link_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
            sessions.append(link_session)
        links.append(
            DialInLink(
                daemon, app[RECORDER], link_session, request_timeout_s=config.request_timeout_s
            )
        )
    for link in links:
        link.start()
    yield
    for link in links:
        await link.stop()
    for each in sessions:
        await each.close()
