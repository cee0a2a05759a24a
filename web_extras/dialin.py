"""Dial-in: the service is a socket.io client of one daemon (``--daemon ws://HOST:PORT``).

``ReconnectLogic`` keeps the link up; after every (re)connect the recorder
catches up from the stored cursor, so a restart or a network cut loses nothing.
The link accepts only the device its entry pins (pins.py), proven in the
protocol 2 handshake before anything is sent; another one is refused for good
(``BeerPiWrongDeviceError`` stops the reconnect logic) and nothing it says is
recorded.
Pushes arrive through the client's synchronous listeners and are handed to
one queue per link, so they are recorded in the order the daemon sent them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.errors import BeerPiError
from beerpi_protocol.models import FaultInfo, MediaInfo, ReadingsPage, State
from beerpi_protocol.reconnect import ReconnectLogic

from .config import DaemonLink
from .ingest import Recorder
from .pins import DevicePins

_LOGGER = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


class DialInLink:
    kind = "dial-in"

    def __init__(
        self,
        config: DaemonLink,
        recorder: Recorder,
        session: aiohttp.ClientSession,
        pins: DevicePins,
        *,
        request_timeout_s: float = 10.0,
        min_delay_s: float = 1.0,
    ) -> None:
        self.config = config
        self._recorder = recorder
        self._pins = pins
        self.client = BeerPiClient(
            config.host,
            config.port,
            config.token,
            device_id=pins.expected(config),
            session=session,
            use_ssl=config.tls,
            request_timeout=request_timeout_s,
        )
        self._reconnect = ReconnectLogic(
            self.client,
            on_connected=self._connected,
            on_disconnected=self._disconnected,
            min_delay_s=min_delay_s,
            max_delay_s=30.0,
            name=config.url,
        )
        self._device: str | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.client.add_state_listener(lambda s: self._queue(self._on_state, s))
        self.client.add_readings_listener(lambda p: self._queue(self._on_readings, p))
        self.client.add_fault_listener(lambda f: self._queue(self._on_fault, f))
        self.client.add_media_listener(lambda m: self._queue(self._on_media, m))

    # -- DeviceLink ----------------------------------------------------------

    async def call(self, request: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        return await self.client.call(request, payload)

    async def fetch(self, path: str) -> tuple[bytes, str]:
        return await self.client.fetch(path)

    # -- life cycle ----------------------------------------------------------

    def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name=f"beerpi-web-{self.config.url}")
        self._reconnect.start()

    async def stop(self) -> None:
        await self._reconnect.stop()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _connected(self) -> None:
        device = self.client.device
        assert device is not None
        # The id was proven in the handshake; pin it to this entry (first time only).
        if not self._pins.learn(self.config, device.id):
            self._device = None
            self._stopping = asyncio.get_running_loop().create_task(self._reconnect.stop())
            return
        self._device = device.id
        # The catch-up runs on the worker, ahead of any push queued after it.
        self._jobs.put_nowait(lambda: self._attach_and_catch_up())

    async def _attach_and_catch_up(self) -> None:
        device = self.client.device
        if device is None:
            return
        await self._recorder.connected(device.id, self, device)
        if self.client.state is not None:
            await self._recorder.state(device.id, self.client.state)
        added = await self._recorder.catch_up(device.id, self)
        _LOGGER.info("%s (%s): linked, %d readings caught up", device.id, self.config.url, added)

    async def _disconnected(self) -> None:
        if self._device is not None:
            device = self._device
            self._jobs.put_nowait(lambda: self._recorder.disconnected(device, self))

    # -- pushes --------------------------------------------------------------

    def _queue(self, handler: Callable[[Any], Awaitable[Any]], value: Any) -> None:
        self._jobs.put_nowait(lambda: handler(value))

    async def _work(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await job()
            except BeerPiError as err:
                # The link dropped mid-way; the next connect catches up again.
                _LOGGER.warning("%s: %s", self.config.url, err)
            except Exception:
                _LOGGER.exception("%s: recording a push failed", self.config.url)

    async def _on_state(self, state: State) -> None:
        if self._device is not None:
            await self._recorder.state(self._device, state)

    async def _on_readings(self, page: ReadingsPage) -> None:
        if self._device is not None:
            await self._recorder.pushed(self._device, page, self)

    async def _on_fault(self, fault: FaultInfo) -> None:
        if self._device is not None:
            await self._recorder.fault(self._device, fault)

    async def _on_media(self, media: MediaInfo) -> None:
        if self._device is not None:
            await self._recorder.media(self._device, media, announce=True)
