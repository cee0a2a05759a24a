"""socket.io (python-socketio on aiohttp) and the small HTTP API, on one port.

The token is checked when a client connects: a refused client never joins the
``clients`` room, so no event reaches it. Every other event name is routed to
the request handler, which always answers (a handler that raised would leave
the caller waiting for its timeout).

Around that check (see ``beerpi_guard``): a browser page may open the socket
only from an allowed ``Origin`` (no page by default), connections that have
not authenticated are capped and closed after a deadline, failed ``accept()``
calls are logged once a minute, and the daemon will not start with a weak token.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Mapping
from typing import Any

import socketio
from aiohttp import web

from beerpi_guard.logthrottle import throttle_accept_errors
from beerpi_guard.origins import OriginPolicy
from beerpi_guard.preauth import PreAuthGuard
from beerpi_protocol import PROTOCOL_VERSION, ErrorCode, Event
from beerpi_protocol.const import MAX_PAYLOAD_BYTES, SOCKETIO_PATH

from . import __version__
from .config import check_secrets
from .ratelimit import RateLimiter
from .requests import RequestHandler
from .service import Daemon

_LOGGER = logging.getLogger(__name__)

CLIENTS_ROOM = "clients"
DAEMON_KEY = web.AppKey("daemon", Daemon)
TOKEN_KEY = web.AppKey("token", str)
STARTED_KEY = web.AppKey("started", float)
GUARD_KEY = web.AppKey("preauth_guard", PreAuthGuard)
# An idle HTTP connection (one that sends no request) is closed after this long;
# aiohttp's own default for an AppRunner is an hour.
IDLE_TIMEOUT_S = 30.0
# The daemon serves no page: nothing it sends may be framed, run or sniffed.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
}
HSTS = "max-age=31536000"
# Requests that change something; reads are not rate limited.
CONTROL_REQUESTS = frozenset(
    {"set_relay", "set_thermostat", "take_photo", "record_video", "simulate"}
)


def token_matches(expected: str, given: object) -> bool:
    """Constant-time comparison, so response timing leaks nothing about the token."""
    if not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _peer(environ: Mapping[str, Any]) -> str:
    request = environ.get("aiohttp.request")
    remote = getattr(request, "remote", None)
    return str(remote or environ.get("REMOTE_ADDR") or "?")


class DaemonNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(
        self, daemon: Daemon, handler: RequestHandler, token: str, max_clients: int
    ) -> None:
        super().__init__("/")
        self._daemon = daemon
        self._handler = handler
        self._token = token
        self._max_clients = max_clients
        self._clients: set[str] = set()
        self._limits: dict[str, RateLimiter] = {}
        self._hello_tasks: set[asyncio.Task[None]] = set()

    @property
    def client_count(self) -> int:
        return len(self._clients)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        # A client may send an event *named* connect or disconnect; socket.io routes it
        # here too. Only the server's own lifecycle calls come while the sid is not
        # (or no longer) fully connected; a client's event is just an unknown request.
        lifecycle = not self.server.manager.is_connected(args[0], "/")
        if event == "connect" and lifecycle:
            sid, environ = args[0], args[1]
            auth = args[2] if len(args) > 2 else None
            return await self._connect(sid, environ, auth)
        if event == "disconnect" and lifecycle:
            self._clients.discard(args[0])
            self._limits.pop(args[0], None)
            return None
        sid = args[0]
        if sid not in self._clients:  # defensive: only authenticated clients reach here
            return {
                "ok": False,
                "error": ErrorCode.UNAUTHORIZED.value,
                "message": "not authenticated",
            }
        payload = args[1] if len(args) > 1 else None
        if event in CONTROL_REQUESTS and not self._limits[sid].allow(time.monotonic()):
            return {
                "ok": False,
                "error": ErrorCode.RATE_LIMITED.value,
                "message": "too many control requests; slow down",
            }
        return await self._handler.handle(event, payload)

    async def _connect(self, sid: str, environ: Mapping[str, Any], auth: object) -> bool:
        token = auth.get("token") if isinstance(auth, Mapping) else None
        if not token_matches(self._token, token):
            _LOGGER.warning("refused a client from %s: wrong or missing token", _peer(environ))
            raise socketio.exceptions.ConnectionRefusedError(ErrorCode.UNAUTHORIZED.value)
        if len(self._clients) >= self._max_clients:
            _LOGGER.warning(
                "refused a client from %s: %d clients already", _peer(environ), len(self._clients)
            )
            raise socketio.exceptions.ConnectionRefusedError(ErrorCode.BUSY.value)
        self._clients.add(sid)
        rate = self._daemon.config.server.control_rate_per_s
        self._limits[sid] = RateLimiter(rate_per_s=rate, burst=max(5.0, rate * 2))
        await self.enter_room(sid, CLIENTS_ROOM)
        task = asyncio.get_running_loop().create_task(self._hello(sid))
        self._hello_tasks.add(task)
        task.add_done_callback(self._hello_tasks.discard)
        _LOGGER.info("client connected from %s", _peer(environ))
        return True

    async def _hello(self, sid: str) -> None:
        """Send ``device`` then ``state`` once socket.io has confirmed the connection."""
        manager = self.server.manager
        for _ in range(200):
            if manager.is_connected(sid, "/"):
                break
            await asyncio.sleep(0.005)
        else:
            return
        await self.emit(Event.DEVICE.value, self._daemon.device.to_dict(), to=sid)
        await self.emit(Event.STATE.value, self._daemon.state().to_dict(), to=sid)


def _bearer_ok(request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and token_matches(request.app[TOKEN_KEY], token.strip())


@web.middleware
async def _auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/api/") and not _bearer_ok(request):
        return web.json_response(
            {"error": ErrorCode.UNAUTHORIZED.value, "message": "bearer token required"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="beerpi"'},
        )
    response: web.StreamResponse = await handler(request)
    return response


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
    if request.secure:
        response.headers["Strict-Transport-Security"] = HSTS


async def _quiet_accept_errors(app: web.Application) -> None:
    throttle_accept_errors(asyncio.get_running_loop(), _LOGGER)


routes = web.RouteTableDef()


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    daemon = request.app[DAEMON_KEY]
    state = daemon.state()
    return web.json_response(
        {
            "status": "fault" if state.faults else "ok",
            "version": __version__,
            "protocol_version": PROTOCOL_VERSION,
            "uptime_s": round(time.monotonic() - request.app[STARTED_KEY], 1),
            "faults": len(state.faults),
        }
    )


@routes.get("/api/device")
async def device(request: web.Request) -> web.Response:
    return web.json_response(request.app[DAEMON_KEY].device.to_dict())


@routes.get("/api/state")
async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[DAEMON_KEY].state().to_dict())


@routes.get("/api/media/latest/{kind}")
async def latest_media(request: web.Request) -> web.StreamResponse:
    kind = request.match_info["kind"]
    if kind not in ("photo", "video"):
        raise web.HTTPNotFound(text="kind must be photo or video")
    media = request.app[DAEMON_KEY].media.latest(kind)
    if media is None:
        raise web.HTTPNotFound(text=f"no {kind} yet")
    return web.FileResponse(media.path, headers={"Content-Type": media.content_type})


@routes.get("/api/media/{media_id}")
async def media_file(request: web.Request) -> web.StreamResponse:
    media = request.app[DAEMON_KEY].media.get(request.match_info["media_id"])
    if media is None:
        raise web.HTTPNotFound(text="no such photo or video")
    return web.FileResponse(media.path, headers={"Content-Type": media.content_type})


def build_server(
    daemon: Daemon, handler: RequestHandler
) -> tuple[web.Application, socketio.AsyncServer, DaemonNamespace]:
    """The aiohttp app with socket.io attached; the daemon publishes through it."""
    check_secrets(daemon.config)  # every way of starting a daemon comes through here
    config = daemon.config.server
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        max_http_buffer_size=MAX_PAYLOAD_BYTES,
        # A callable: ``[]`` would switch python-engineio's Origin check off.
        cors_allowed_origins=OriginPolicy(config.allowed_origins).socketio_check,
        cors_credentials=False,
        logger=False,
        engineio_logger=False,
    )
    namespace = DaemonNamespace(daemon, handler, config.token, config.max_clients)
    sio.register_namespace(namespace)
    guard = PreAuthGuard(
        sio,
        max_pending=config.max_unauthenticated,
        deadline_s=config.auth_timeout_s,
        logger=_LOGGER,
    )
    app = web.Application(middlewares=[_auth_middleware], client_max_size=MAX_PAYLOAD_BYTES)
    app[DAEMON_KEY] = daemon
    app[TOKEN_KEY] = config.token
    app[STARTED_KEY] = time.monotonic()
    app[GUARD_KEY] = guard
    app.on_response_prepare.append(_security_headers)
    app.on_startup.append(_quiet_accept_errors)
    app.add_routes(routes)
    sio.attach(app, socketio_path=SOCKETIO_PATH)

    async def broadcast(event: str, payload: dict[str, Any]) -> None:
        await sio.emit(event, payload, room=CLIENTS_ROOM)

    remove = daemon.add_publisher(broadcast)

    async def on_shutdown(app: web.Application) -> None:
        remove()
        # Close every client's socket first: aiohttp waits for open websocket
        # handlers, and a connected client would otherwise hold the exit up.
        if sio.eio.sockets:
            await sio.eio.disconnect()
        # Ends engine.io's background (ping) tasks.
        await sio.shutdown()

    app.on_shutdown.append(on_shutdown)
    return app, sio, namespace
