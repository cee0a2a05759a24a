"""Dial-out: the daemon connects to a BeerPi web service (the Pi behind NAT case).

Over that one connection the daemon pushes the same events as to its own
clients and answers the same requests, sent by the service with an
acknowledgement. It reconnects with capped backoff, and gives up when the
service refuses its token (retrying a bad token only fills logs).
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
from .requests import RequestHandler
from .service import Daemon

_LOGGER = logging.getLogger(__name__)

DEVICES_NAMESPACE = "/devices"


class _DialOutNamespace(socketio.AsyncClientNamespace):  # type: ignore[misc]
    def __init__(self, link: DialOut) -> None:
        super().__init__(DEVICES_NAMESPACE)
        self._link = link

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event == "connect":
            await self._link.hello()
            return None
        if event == "connect_error":
            self._link.refused(args[0] if args else None)
            return None
        if event == "disconnect":
            _LOGGER.warning("dial-out: lost the link to %s", self._link.url)
            return None
        return await self._link.handler.handle(event, args[0] if args else None)


class DialOut:
    def __init__(self, daemon: Daemon, handler: RequestHandler, config: DialOutSection) -> None:
        if config.server is None:
            raise ValueError("dial-out needs a server URL")
        self.daemon = daemon
        self.handler = handler
        self.url = config.server
        self._token = config.token
        self._tls_verify = config.tls_verify
        self._sio: Any = None
        self._refused = False

    def refused(self, data: object) -> None:
        message = data.get("message") if isinstance(data, dict) else data
        if message == "unauthorized":
            self._refused = True

    async def hello(self) -> None:
        _LOGGER.info("dial-out: connected to %s", self.url)
        await self._emit(Event.DEVICE.value, self.daemon.device.to_dict())
        await self._emit(Event.STATE.value, self.daemon.state().to_dict())

    async def _emit(self, event: str, payload: dict[str, Any]) -> None:
        sio = self._sio
        if sio is not None and sio.connected:
            with contextlib.suppress(socketio.exceptions.SocketIOError):
                await sio.emit(event, payload, namespace=DEVICES_NAMESPACE)

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
                        auth={"token": self._token, "device_id": self.daemon.device.id},
                        namespaces=[DEVICES_NAMESPACE],
                        transports=["websocket"],
                        socketio_path=SOCKETIO_PATH,
                        wait_timeout=10,
                    )
                except socketio.exceptions.ConnectionError as err:
                    await sio.shutdown()
                    if self._refused:
                        _LOGGER.error(
                            "dial-out: %s refused this device's token; giving up", self.url
                        )
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
                self._sio = None
                delay = min(60.0, 2.0 ** min(failures, 6)) * random.uniform(0.5, 1.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        finally:
            remove()
            if self._sio is not None:
                await self._sio.shutdown()
