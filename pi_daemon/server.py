"""socket.io (python-socketio on aiohttp) and the small HTTP API, on one port.

A connect starts the protocol 2 handshake (sessions.py): a client that has not
proved the token gets nothing but the challenge, and is never sent a push.
After it, every request is opened and every push and answer sealed with the
link's key. Every other event name is routed to the request handler, which
always answers (a handler that raised would leave the caller waiting for its
timeout). HTTP under /api/ needs a signed URL from ``sign_url``.

Around it (see ``beerpi_guard``): a browser page may open the socket only from
an allowed ``Origin`` (no page by default), connections that have not proved
the token are capped and closed after a deadline, failed ``accept()`` calls are
logged once a minute, and the daemon will not start with a weak token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import socketio
from aiohttp import web

from beerpi_guard.enginelog import DAEMON_LOGGER_NAME, EngineLog
from beerpi_guard.logthrottle import throttle_accept_errors
from beerpi_guard.origins import OriginPolicy
from beerpi_guard.preauth import PreAuthGuard
from beerpi_protocol import PROTOCOL_VERSION, ErrorCode, Event
from beerpi_protocol.auth import ConnectRefused, SealError
from beerpi_protocol.const import MAX_PAYLOAD_BYTES, SOCKETIO_PATH, Handshake, Request
from beerpi_protocol.errors import InvalidArgument
from beerpi_protocol.requests import CONTROL_REQUESTS, SignedUrl, SignUrl, error, ok

from . import __version__
from .config import check_secrets
from .ratelimit import RateLimiter
from .requests import RequestHandler
from .service import Daemon
from .sessions import Sessions
from .signed_urls import UrlSigner

_LOGGER = logging.getLogger(__name__)

DAEMON_KEY = web.AppKey("daemon", Daemon)
SIGNER_KEY = web.AppKey("signer", UrlSigner)
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


def _peer(environ: Mapping[str, Any]) -> str:
    request = environ.get("aiohttp.request")
    remote = getattr(request, "remote", None)
    return str(remote or environ.get("REMOTE_ADDR") or "?")


def _refusal(message: str) -> dict[str, Any]:
    return error(ErrorCode.UNAUTHORIZED, message)


class DaemonNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(
        self,
        daemon: Daemon,
        handler: RequestHandler,
        token: str,
        max_clients: int,
        signer: UrlSigner,
    ) -> None:
        super().__init__("/")
        self._daemon = daemon
        self._handler = handler
        self._max_clients = max_clients
        self._signer = signer
        self.sessions = Sessions(daemon.device.id, token)
        # Authenticated clients that get pushes (once they have had device and state).
        self._clients: set[str] = set()
        # Clients being sent device and state: a push meanwhile must still reach them.
        self._greeting: set[str] = set()
        self._peers: dict[str, str] = {}
        self._limits: dict[str, RateLimiter] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # One sealed push at a time, so each client's pushes leave in sequence order.
        self._push_lock = asyncio.Lock()

    @property
    def client_count(self) -> int:
        return self.sessions.authenticated

    def listening(self) -> bool:
        """Whether a push would reach anyone (the daemon builds no state otherwise)."""
        return bool(self._clients or self._greeting)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        # A client may send an event *named* connect or disconnect; socket.io routes it
        # here too. Only the server's own lifecycle calls come while the sid is not
        # (or no longer) fully connected; a client's event is just an unknown request.
        lifecycle = not self.server.manager.is_connected(args[0], "/")
        if event == "connect" and lifecycle:
            sid, environ = args[0], args[1]
            auth = args[2] if len(args) > 2 else None
            return self._connect(sid, environ, auth)
        if event == "disconnect" and lifecycle:
            self._gone(args[0])
            return None
        sid = args[0]
        payload = args[1] if len(args) > 1 else None
        if self.sessions.is_pending(sid):
            if event == Handshake.PROOF:
                return self._finish(sid, payload)
            return _refusal("not authenticated: send auth_proof first")
        seal = self.sessions.seal(sid)
        if seal is None:  # defensive: a refused client is disconnected
            return _refusal("not authenticated")
        # Opened before any await, so requests are checked in the order they came.
        try:
            seq, payload = seal.open(event, payload)
        except SealError as err:
            _LOGGER.debug("refused a request from %s: %s", self._peers.get(sid, "?"), err)
            return _refusal(f"requests must be sealed with this link's key ({err})")
        # Reads are not rate limited.
        if event in CONTROL_REQUESTS and not self._limits[sid].allow(time.monotonic()):
            answer = error(ErrorCode.RATE_LIMITED, "too many control requests; slow down")
        elif event == Request.SIGN_URL:
            answer = self._sign_url(payload)
        else:
            answer = await self._handler.handle(event, payload)
        return seal.seal_answer(seq, event, answer)

    def _connect(self, sid: str, environ: Mapping[str, Any], auth: object) -> bool:
        peer = _peer(environ)
        try:
            challenge = self.sessions.begin(sid, auth)
        except ConnectRefused as err:
            _LOGGER.warning("refused a client from %s: %s", peer, err.message)
            raise socketio.exceptions.ConnectionRefusedError(err.message, err.data()) from None
        if self.sessions.authenticated >= self._max_clients:
            self.sessions.drop(sid)
            _LOGGER.warning(
                "refused a client from %s: %d clients already", peer, self.sessions.authenticated
            )
            raise socketio.exceptions.ConnectionRefusedError(ErrorCode.BUSY.value)
        self._peers[sid] = peer
        self._spawn(self._send_challenge(sid, challenge))
        return True

    def _finish(self, sid: str, message: object) -> dict[str, Any]:
        peer = self._peers.get(sid, "?")
        if self.sessions.finish(sid, message) is None:
            _LOGGER.warning("refused a client from %s: wrong proof of the token", peer)
            self._spawn(self.disconnect(sid))
            return _refusal("wrong proof")
        if self.sessions.authenticated > self._max_clients:
            self.sessions.drop(sid)
            _LOGGER.warning("refused a client from %s: %d clients already", peer, self._max_clients)
            self._spawn(self.disconnect(sid))
            return error(ErrorCode.BUSY, "too many clients")
        rate = self._daemon.config.server.control_rate_per_s
        self._limits[sid] = RateLimiter.control_allowance(rate)
        self._spawn(self._hello(sid))
        _LOGGER.info("client connected from %s", peer)
        return {"ok": True}

    def _gone(self, sid: str) -> None:
        self.sessions.drop(sid)
        self._clients.discard(sid)
        self._peers.pop(sid, None)
        self._limits.pop(sid, None)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_challenge(self, sid: str, challenge: dict[str, str]) -> None:
        """Sent once socket.io has confirmed the connection (it drops earlier emits)."""
        manager = self.server.manager
        for _ in range(200):
            if manager.is_connected(sid, "/"):
                break
            await asyncio.sleep(0.005)
        else:
            return
        await self.emit(Handshake.CHALLENGE.value, challenge, to=sid)

    async def _hello(self, sid: str) -> None:
        """``device`` then ``state``, then the client gets every push."""
        self._greeting.add(sid)
        try:
            async with self._push_lock:
                for event, payload in (
                    (Event.DEVICE.value, self._daemon.device.to_dict()),
                    (Event.STATE.value, self._daemon.state().to_dict()),
                ):
                    if not await self._push(sid, event, payload):
                        return
                if self.sessions.seal(sid) is not None:  # still connected
                    self._clients.add(sid)
        finally:
            self._greeting.discard(sid)

    async def _push(self, sid: str, event: str, payload: dict[str, Any]) -> bool:
        seal = self.sessions.seal(sid)
        if seal is None:
            return False
        await self.emit(event, seal.seal(event, payload)[1], to=sid)
        return True

    async def broadcast(self, event: str, payload: dict[str, Any]) -> None:
        """Each client gets the push under its own seal (and sequence number)."""
        async with self._push_lock:
            for sid in list(self._clients):
                await self._push(sid, event, payload)

    def _sign_url(self, payload: object) -> dict[str, Any]:
        refusal = error(
            ErrorCode.INVALID_ARGUMENT,
            "path must be a string starting with /api/ (no query), at most 256 characters",
        )
        if not isinstance(payload, Mapping):
            return refusal
        try:
            request = SignUrl.from_dict(payload)
        except InvalidArgument:
            return refusal
        if not self._signer.signable(request.path):
            return refusal
        answer = SignedUrl(url=self._signer.sign(request.path), expires_in_s=self._signer.ttl_s)
        return ok(answer.to_dict())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@web.middleware
async def _auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/api/") and not request.app[SIGNER_KEY].verify(
        request.path, request.query
    ):
        return web.json_response(
            {
                "error": ErrorCode.UNAUTHORIZED.value,
                "message": "a signed URL is required: ask sign_url over an authenticated "
                "socket.io link (protocol 2; bearer tokens are no longer accepted)",
            },
            status=401,
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
        # Each of engineio's errors once a minute: it logs a traceback for every packet
        # its handler fails on, before any proof of the token (500 lines for 500 packets).
        engineio_logger=EngineLog(logging.getLogger(DAEMON_LOGGER_NAME)),
    )
    signer = UrlSigner()
    namespace = DaemonNamespace(daemon, handler, config.token, config.max_clients, signer)
    sio.register_namespace(namespace)
    guard = PreAuthGuard(
        sio,
        max_pending=config.max_unauthenticated,
        deadline_s=config.auth_timeout_s,
        logger=_LOGGER,
        # Connected is not authenticated: the client proves the token after its connect.
        proven=lambda _namespace, sid: namespace.sessions.seal(sid) is not None,
    )
    app = web.Application(middlewares=[_auth_middleware], client_max_size=MAX_PAYLOAD_BYTES)
    app[DAEMON_KEY] = daemon
    app[SIGNER_KEY] = signer
    app[STARTED_KEY] = time.monotonic()
    app[GUARD_KEY] = guard
    app.on_response_prepare.append(_security_headers)
    app.on_startup.append(_quiet_accept_errors)
    app.add_routes(routes)
    sio.attach(app, socketio_path=SOCKETIO_PATH)

    remove = daemon.add_publisher(namespace.broadcast, namespace.listening)

    async def on_shutdown(app: web.Application) -> None:
        remove()
        await namespace.close()
        # Close every client's socket first: aiohttp waits for open websocket
        # handlers, and a connected client would otherwise hold the exit up.
        if sio.eio.sockets:
            await sio.eio.disconnect()
        # Ends engine.io's background (ping) tasks.
        await sio.shutdown()

    app.on_shutdown.append(on_shutdown)
    return app, sio, namespace
