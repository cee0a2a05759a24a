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

from beerpi_guard.config_file import prepare_data_dir
from beerpi_guard.enginelog import EngineLog
from beerpi_guard.logthrottle import throttle_accept_errors
from beerpi_guard.origins import OriginPolicy
from beerpi_guard.preauth import PreAuthGuard

from .alerts.engine import AlertEngine
from .api import alerts, brews, control, devices, history, hydrometers, meta, profiles, session
from .auth import Auth, auth_middleware
from .config import ConfigError, WebConfig, check_secrets, client_ssl_context
from .dialin import DialInLink
from .dialout import DEVICES_NAMESPACE, DevicesNamespace
from .errors import error_middleware
from .gravity_link import GravityFromStates, GravityToDaemons
from .hub import DeviceHub
from .ingest import Recorder
from .keys import (
    ALERTS,
    AUTH,
    CONFIG,
    GRAVITY_TO_DAEMONS,
    GUARD,
    HTTP,
    HUB,
    LIVE,
    MEDIA,
    RECORDER,
    SIO,
    STORE,
)
from .live import LiveNamespace
from .media import MediaCache
from .pins import DevicePins
from .security import cross_site_middleware, security_headers
from .store import create_store

_LOGGER = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Requests from browsers and scripts are small; media goes the other way.
MAX_BODY_BYTES = 256 * 1024
# Largest socket.io packet: a daemon's sealed answer to readings_since (500
# readings, JSON inside a JSON string) can pass 64 KiB; a larger packet would
# cut the link, where an over-long page is only trimmed (ingest.py).
DEVICE_PACKET_BYTES = 256 * 1024
# An idle connection (one that sends no request) is closed this soon.
IDLE_TIMEOUT_S = 30.0


# Long on purpose: the service's one factory (the design's create_app): every object and route is
# built here, in dependency order, so tests and main() build the same thing.
def create_app(config: WebConfig) -> web.Application:
    check_secrets(config)  # every way of starting the service comes through here
    for daemon in config.daemons:
        client_ssl_context(daemon)  # a certificate that cannot load is a config error now
    prepare_data_dir(config.data_dir, "data_dir", ConfigError)
    auth = Auth.from_config(config)
    origins = OriginPolicy(config.allowed_origins)
    if not auth.login_required and config.host not in ("127.0.0.1", "::1", "localhost"):
        _LOGGER.warning(
            "no user or API token configured: anyone who reaches %s can control devices",
            config.host,
        )
    app = web.Application(
        middlewares=[error_middleware, cross_site_middleware(origins), auth_middleware(auth)],
        client_max_size=MAX_BODY_BYTES,
    )
    app.on_response_prepare.append(security_headers)
    app.on_startup.append(_quiet_accept_errors)
    store = create_store(config.mongo_url, config.sqlite_path)
    hub = DeviceHub(store)
    recorder = Recorder(hub, config)
    app[CONFIG] = config
    app[AUTH] = auth
    app[STORE] = store
    app[HUB] = hub
    app[RECORDER] = recorder
    app[MEDIA] = MediaCache(config.data_dir / "media", hub, max_bytes=config.max_media_bytes)
    app[ALERTS] = _alert_engine(config, hub)

    sio = _socketio_server(config, origins)
    app[SIO] = sio
    live = LiveNamespace(hub, auth, max_browsers=config.max_browsers)
    app[LIVE] = live
    devices_ns = DevicesNamespace(
        recorder, config.device_tokens, request_timeout_s=config.request_timeout_s
    )
    app[GUARD] = PreAuthGuard(
        sio,
        max_pending=config.max_unauthenticated,
        deadline_s=config.auth_timeout_s,
        logger=_LOGGER,
        # A daemon dialling out connects first and proves its token after (protocol 2).
        proven=lambda namespace, sid: namespace != DEVICES_NAMESPACE or devices_ns.proven(sid),
    )
    sio.register_namespace(live)
    sio.register_namespace(devices_ns)
    hub.add_listener(live)
    ispindels = [(h.device, name) for name, h in config.hydrometers.items()]
    hub.add_listener(GravityFromStates(store, live.gravity_added, forwarded=ispindels))
    app[GRAVITY_TO_DAEMONS] = GravityToDaemons(hub)
    sio.attach(app)
    if config.redis_url:
        from .scaleout import attach_scaleout

        attach_scaleout(app, config.redis_url)

    for module in (meta, session, devices, history, control, alerts, brews, profiles):
        app.router.add_routes(module.routes)
    hydrometers.setup(app)
    _add_pages(app)

    app.cleanup_ctx.append(_store_ctx)
    if app[ALERTS] is not None:
        app.cleanup_ctx.append(_alerts_ctx)  # after the store: it knows the devices
    app.cleanup_ctx.append(_links_ctx)
    if config.retention_days is not None:
        app.cleanup_ctx.append(_retention_ctx)

    async def shutdown(app: web.Application) -> None:
        await app[GRAVITY_TO_DAEMONS].close()
        await live.close()
        await devices_ns.close()
        await sio.shutdown()

    app.on_shutdown.append(shutdown)
    return app


def _alert_engine(config: WebConfig, hub: DeviceHub) -> AlertEngine | None:
    if not config.alerts.enabled:
        return None
    from .alerts.notifier import AppriseNotifier

    try:
        notifier = AppriseNotifier(config.alerts.targets)
    except ValueError as err:
        raise ConfigError(f"alerts: {err}") from err
    engine = AlertEngine(config.alerts, hub, notifier, known_start_offline=config.redis_url is None)
    hub.add_listener(engine)
    return engine


async def _alerts_ctx(app: web.Application) -> AsyncIterator[None]:
    engine = app[ALERTS]
    assert engine is not None
    await engine.start()
    yield
    await engine.stop()


async def _quiet_accept_errors(app: web.Application) -> None:
    throttle_accept_errors(asyncio.get_running_loop(), _LOGGER)


def _socketio_server(config: WebConfig, origins: OriginPolicy) -> socketio.AsyncServer:
    manager = None
    if config.redis_url:
        # /live broadcasts and dial-out requests then reach every service process.
        manager = socketio.AsyncRedisManager(config.redis_url)
    return socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        # Pages are served by this service: same origin (plus any configured).
        # A callable, because ``[]`` would switch python-engineio's check off.
        cors_allowed_origins=origins.socketio_check,
        max_http_buffer_size=DEVICE_PACKET_BYTES,
        # Its error for every bad packet, traceback and all, once a minute.
        engineio_logger=EngineLog(),
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
    pins = DevicePins(config.data_dir, config.daemons)  # first: it may refuse the start
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
                daemon,
                app[RECORDER],
                link_session,
                pins,
                request_timeout_s=config.request_timeout_s,
            )
        )
    for link in links:
        link.start()
    yield
    for link in links:
        await link.stop()
    for each in sessions:
        await each.close()
