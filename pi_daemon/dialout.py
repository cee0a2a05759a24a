"""Dial-out: the daemon connects to a BeerPi web service (the Pi behind NAT case).

Over that one connection the daemon pushes the same events as to its own
clients and answers the same requests, sent by the service with an
acknowledgement. It reconnects with capped backoff, and gives up when the
service refuses its proof or cannot prove it knows this device's token
(retrying a bad token only fills logs).

The link is authenticated with the protocol 2 handshake (dialout_auth.py): the
daemon is the initiator and never sends its token; after it, requests are
opened and pushes and answers sealed with the link's key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

import socketio

from beerpi_protocol import Event
from beerpi_protocol.const import SOCKETIO_PATH

from .config import DialOutSection
from .dialout_auth import DialOutAuth
from .requests import RequestHandler
from .service import Daemon

_LOGGER = logging.getLogger(__name__)

DEVICES_NAMESPACE = "/devices"


class _DialOutNamespace(socketio.AsyncClientNamespace):  # type: ignore[misc]
    def __init__(self, link: DialOut) -> None:
        super().__init__(DEVICES_NAMESPACE)
        self._link = link

    async def trigger_event(self, event: str, *args: Any) -> Any:
        link = self._link
        if event == "connect":
            return None  # the service's challenge comes next
        if event == "connect_error":
            link.auth.refused(args[0] if args else None)
            return None
        if event == "disconnect":
            _LOGGER.warning("dial-out: lost the link to %s", link.url)
            return None
        payload = args[0] if args else None
        if await link.auth.on_event(event, payload, self):
            await link.hello()
            return None
        return await link.auth.answer(event, payload, link.handler.handle)


class DialOut:
    def __init__(self, daemon: Daemon, handler: RequestHandler, config: DialOutSection) -> None:
        if config.server is None:
            raise ValueError("dial-out needs a server URL")
        self.daemon = daemon
        self.handler = handler
        self.url = config.server
        self.auth = DialOutAuth(config.token, daemon.device.id, self.url)
        self._tls_verify = config.tls_verify
        self._sio: Any = None

    async def hello(self) -> None:
        _LOGGER.info("dial-out: connected to %s", self.url)
        await self._emit(Event.DEVICE.value, self.daemon.device.to_dict())
        await self._emit(Event.STATE.value, self.daemon.state().to_dict())

    async def _emit(self, event: str, payload: dict[str, Any]) -> None:
        sio = self._sio
        if sio is not None and sio.connected:
            with contextlib.suppress(socketio.exceptions.SocketIOError):
                await self.auth.emit_sealed(sio, event, payload, DEVICES_NAMESPACE)

    async def run(self, stop: asyncio.Event) -> None:
        remove = self.daemon.add_publisher(self._emit)
        failures = 0
        try:
            while not stop.is_set():
                sio = socketio.AsyncClient(
                    reconnection=False, handle_sigint=False, ssl_verify=self._tls_verify
                )
                sio.register_namespace(_DialOutNamespace(self))
                self._sio = sio
                try:
                    await sio.connect(
                        self.url,
                        auth=self.auth.start(),
                        namespaces=[DEVICES_NAMESPACE],
                        transports=["websocket"],
                        socketio_path=SOCKETIO_PATH,
                        wait_timeout=10,
                    )
                except socketio.exceptions.ConnectionError as err:
                    await sio.shutdown()
                    if self.auth.given_up:
                        return
                    failures += 1
                    log = _LOGGER.warning if failures == 1 else _LOGGER.debug
                    log("dial-out: cannot reach %s (%s); retrying", self.url, err)
                else:
                    failures = 0
                    waiter = asyncio.create_task(sio.wait())
                    stopper = asyncio.create_task(stop.wait())
                    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    stopper.cancel()
                    await sio.shutdown()
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter
                    if self.auth.given_up:
                        return
                self._sio = None
                delay = min(60.0, 2.0 ** min(failures, 6)) * random.uniform(0.5, 1.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        finally:
            remove()
            if self._sio is not None:
                await self._sio.shutdown()
