"""Dial-out: the daemon connects to a BeerPi web service (the Pi behind NAT case).

Over that one connection the daemon pushes the same events as to its own
clients and answers the same requests, sent by the service with an
acknowledgement. Whatever happens to the link (refused, unreachable,
dropped) it retries with a capped backoff and raises at most a ``link``
fault (``pi_daemon.safety.link``): nothing remote stops local control.

The link is authenticated with the protocol 2 handshake (dialout_auth.py): the
daemon is the initiator and never sends its token; after it, requests are
opened and pushes and answers sealed with the link's key.

The link's state comes only from its real lifecycle: whether ``connect``
succeeded, whether the namespace was refused by the server's CONNECT_ERROR
packet, how the handshake ended, and when the connection ended. An ordinary
event that a server sends, even one named ``connect_error`` or ``disconnect``,
is just a request (and, unsealed, refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import socketio

from beerpi_protocol import ErrorCode, Event, FaultCode
from beerpi_protocol.const import MAX_PAYLOAD_BYTES, SOCKETIO_PATH
from beerpi_protocol.requests import CONTROL_REQUESTS, error

from .config import CONTROL_RATE_PER_S, DialOutSection
from .dialout_auth import DialOutAuth, refusal_reason
from .ratelimit import RateLimiter
from .requests import RequestHandler
from .safety.link import LinkHealth
from .service import Daemon

_LOGGER = logging.getLogger(__name__)

DEVICES_NAMESPACE = "/devices"
# socket.io's own lifecycle names: never a request from the service.
_LIFECYCLE = frozenset({"connect", "disconnect", "__disconnect_final"})
# The service's challenge must come this soon after the connect.
HANDSHAKE_TIMEOUT_S = 15.0


class _DialOutNamespace(socketio.AsyncClientNamespace):  # type: ignore[misc]
    def __init__(self, link: DialOut) -> None:
        super().__init__(DEVICES_NAMESPACE)
        self._link = link
        self.refusal: str | None = None

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event in _LIFECYCLE:
            return None  # the link follows connect() and wait(), not these
        if event == "connect_error" and DEVICES_NAMESPACE not in self.client.namespaces:
            # Only the reason: whether we were refused is the client's own
            # record (failed_namespaces), which no server event can write.
            self.refusal = refusal_reason(args[0] if args else None)
            return None
        link = self._link
        payload = args[0] if args else None
        if link.auth.is_challenge(event):
            await link.auth.on_challenge(payload, self)
            return None
        return await link.auth.answer(event, payload, link.handle)


class DialOut:
    def __init__(
        self,
        daemon: Daemon,
        handler: RequestHandler,
        config: DialOutSection,
        *,
        control_rate_per_s: float = CONTROL_RATE_PER_S,
    ) -> None:
        if config.server is None:
            raise ValueError("dial-out needs a server URL")
        self.daemon = daemon
        self.handler = handler
        self.url = config.server
        self.auth = DialOutAuth(config.token, daemon.device.id, self.url)
        self._tls_verify = config.tls_verify
        self._sio: Any = None
        self.health = LinkHealth(self.url, self._set_fault, retry_max_s=config.retry_max_s)
        # The same allowance as each client of the daemon's own port (server.py).
        self._control_rate_per_s = control_rate_per_s
        self._limit = RateLimiter.control_allowance(control_rate_per_s)

    async def handle(self, event: str, payload: object) -> dict[str, Any]:
        """A request the service sent (opened): control requests are rate limited."""
        if event in CONTROL_REQUESTS and not self._limit.allow(time.monotonic()):
            return error(ErrorCode.RATE_LIMITED, "too many control requests; slow down")
        return await self.handler.handle(event, payload)

    async def _set_fault(self, message: str | None) -> None:
        await self.daemon.set_extra_fault("dialout", FaultCode.LINK, message)

    async def hello(self) -> None:
        _LOGGER.info("dial-out: connected to %s", self.url)
        await self._emit(Event.DEVICE.value, self.daemon.device.to_dict())
        await self._emit(Event.STATE.value, self.daemon.state().to_dict())

    def listening(self) -> bool:
        """Connected to the service (which gets device and state on each connect)."""
        sio = self._sio
        return sio is not None and bool(sio.connected)

    async def _emit(self, event: str, payload: dict[str, Any]) -> None:
        sio = self._sio
        if sio is not None and sio.connected:
            with contextlib.suppress(socketio.exceptions.SocketIOError):
                await self.auth.emit_sealed(sio, event, payload, DEVICES_NAMESPACE)

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, serve, reconnect, until ``stop``; never ends by itself."""
        remove = self.daemon.add_publisher(self._emit, self.listening)
        try:
            while not stop.is_set():
                await self._session(stop)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.health.next_delay_s())
        finally:
            remove()

    async def _session(self, stop: asyncio.Event) -> None:
        """One connection, from connect to its end."""
        sio = socketio.AsyncClient(
            reconnection=False,
            handle_sigint=False,
            ssl_verify=self._tls_verify,
            # The same cap as on the daemon's own port (aiohttp's default is 4 MiB): a
            # larger message from the service, or from whoever answers at its address
            # before any proof, ends the connection unread.
            websocket_extra_options={"max_msg_size": MAX_PAYLOAD_BYTES},
        )
        namespace = _DialOutNamespace(self)
        sio.register_namespace(namespace)
        # Per connection, as on the daemon's own server.
        self._limit = RateLimiter.control_allowance(self._control_rate_per_s)
        self._sio = sio
        waiting: asyncio.Task[Any] | None = None
        try:
            try:
                await sio.connect(
                    self.url,
                    auth=self.auth.start(),
                    namespaces=[DEVICES_NAMESPACE],
                    transports=["websocket"],
                    socketio_path=SOCKETIO_PATH,
                    wait_timeout=10,
                )
            except (socketio.exceptions.ConnectionError, OSError, ValueError) as err:
                if DEVICES_NAMESPACE in sio.failed_namespaces:
                    await self.health.refused(namespace.refusal or "no reason given")
                else:
                    await self.health.unreachable(str(err) or type(err).__name__)
                return
            # Shielded: sio.wait() awaits engine.io's own read-loop task, and cancelling a
            # task cancels what it awaits. Cancelled below while still connected (the
            # handshake's time is up, or a stop), it took the read loop with it; the
            # shutdown then raised that CancelledError, which ended the dial-out for good.
            waiting = asyncio.create_task(sio.wait())
            ended = asyncio.shield(waiting)
            ended.add_done_callback(lambda _task: self.auth.ended())
            stopping = asyncio.create_task(stop.wait())
            try:
                handshake = asyncio.create_task(self.auth.outcome(HANDSHAKE_TIMEOUT_S))
                await asyncio.wait({handshake, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not handshake.done():
                    handshake.cancel()
                    return  # stopping
                outcome = handshake.result()
                if outcome.refused is not None:
                    await self.health.refused(outcome.refused)
                    return
                if outcome.lost is not None:
                    await self.health.unreachable(outcome.lost)
                    return
                await self.health.connected()
                await self.hello()
                up_since = time.monotonic()
                await asyncio.wait({ended, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (ended, stopping):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if not stop.is_set():
                await self.health.dropped(time.monotonic() - up_since)
        finally:
            self._sio = None
            await sio.shutdown()
            # After a failed connect engine.io keeps its HTTP session open: a retry
            # every minute for weeks would leak one each time. This closes it.
            await sio.eio.disconnect()
            if waiting is not None:
                # The read loop it waited on has ended with the shutdown: what is left
                # is socket.io's one-second pause after it, not to be left pending.
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiting
