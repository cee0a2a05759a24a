"""Dial-out acceptance: daemons behind NAT connect to the ``/devices`` namespace.

Each connects with ``auth={"token", "device_id"}``; the token must be the one
configured for that device id. Requests go back over the same connection with
``sio.call(..., to=sid)``. Handlers of one connection run as separate tasks in
python-socketio, so each connection records its pushes through one queue, in
the order they arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import socketio

from beerpi_protocol.client import ack_to_result, fetch_media_chunks
from beerpi_protocol.errors import BeerPiConnectionError, BeerPiError, BeerPiRequestError
from beerpi_protocol.models import DeviceInfo, FaultInfo, MediaInfo, ReadingsPage, State

from .ingest import Recorder

_LOGGER = logging.getLogger(__name__)

DEVICES_NAMESPACE = "/devices"
# Compared against when the device id is unknown, so timing does not tell ids apart.
_NO_TOKEN = "\0" * 32
STOP = object()


def device_room(device: str) -> str:
    return f"device:{device}"


class DialOutLink:
    """One daemon connected to ``/devices``; requests go back through the ack."""

    kind = "dial-out"

    def __init__(self, sio: socketio.AsyncServer, sid: str, device: str, timeout_s: float) -> None:
        self._sio = sio
        self.sid = sid
        self.device = device
        self._timeout_s = timeout_s
        # One request at a time per connection (socket.io's call is not concurrency-safe).
        self._lock = asyncio.Lock()
        self.jobs: asyncio.Queue[Callable[[], Awaitable[Any]]] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None
        self.info: DeviceInfo | None = None

    async def call(self, request: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        async with self._lock:
            try:
                ack = await self._sio.call(
                    request,
                    dict(payload),
                    to=self.sid,
                    namespace=DEVICES_NAMESPACE,
                    timeout=self._timeout_s,
                )
            except socketio.exceptions.TimeoutError as err:
                raise BeerPiConnectionError(
                    f"{request}: no answer within {self._timeout_s} s"
                ) from err
            except socketio.exceptions.SocketIOError as err:
                raise BeerPiConnectionError(f"{request}: {err}") from err
        return ack_to_result(request, ack)

    async def fetch(self, path: str) -> tuple[bytes, str]:
        # No HTTP reaches a Pi behind NAT: the file comes over this link in chunks.
        media_id = path.removeprefix("/api/media/")
        if media_id == path or "/" in media_id:
            raise BeerPiRequestError("not_found", f"{path} is not a media path")
        return await fetch_media_chunks(self.call, media_id)

    async def work(self) -> None:
        while True:
            job = await self.jobs.get()
            try:
                if await job() is STOP:
                    return
            except BeerPiError as err:
                _LOGGER.warning("%s (dial-out): %s", self.device, err)
            except Exception:
                _LOGGER.exception("%s (dial-out): recording a push failed", self.device)


class DevicesNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(
        self,
        recorder: Recorder,
        device_tokens: Mapping[str, str],
        *,
        request_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(DEVICES_NAMESPACE)
        self._recorder = recorder
        self._tokens = dict(device_tokens)
        self._timeout_s = request_timeout_s
        self._links: dict[str, DialOutLink] = {}

    def authorized(self, auth: object) -> str | None:
        """The device id when ``auth`` carries that device's token, else None."""
        if not isinstance(auth, Mapping):
            return None
        device, token = auth.get("device_id"), auth.get("token")
        if not isinstance(device, str) or not isinstance(token, str):
            return None
        expected = self._tokens.get(device)
        good = hmac.compare_digest(
            token.encode(), (expected if expected is not None else _NO_TOKEN).encode()
        )
        return device if good and expected is not None else None

    async def on_connect(self, sid: str, environ: object, auth: object = None) -> None:
        device = self.authorized(auth)
        if device is None:
            _LOGGER.warning("dial-out refused: bad or missing device token")
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        link = DialOutLink(self.server, sid, device, self._timeout_s)
        link.worker = asyncio.create_task(link.work(), name=f"beerpi-dialout-{device}")
        self._links[sid] = link
        await self.enter_room(sid, device_room(device))
        # Not waiting for the daemon's ``device`` event: python-socketio sends
        # CONNECT before it marks the client connected, and drops an event that
        # lands in between. The link works without it; the info follows if it comes.
        link.jobs.put_nowait(lambda: self._link_up(link))

    async def _link_up(self, link: DialOutLink) -> None:
        for _ in range(200):  # bounded: 2 s
            if self.server.manager.is_connected(link.sid, DEVICES_NAMESPACE):
                break
            await asyncio.sleep(0.01)
        await self._recorder.connected(link.device, link, link.info)
        added = await self._recorder.catch_up(link.device, link)
        _LOGGER.info("%s: dialled out to us, %d readings caught up", link.device, added)

    async def on_disconnect(self, sid: str, reason: object = None) -> None:
        link = self._links.pop(sid, None)
        if link is None:
            return

        async def gone() -> object:
            await self._recorder.disconnected(link.device, link)
            return STOP  # ends the worker after the jobs queued before it

        link.jobs.put_nowait(gone)

    def _queue(self, sid: str, job: Callable[[DialOutLink], Awaitable[Any]]) -> None:
        link = self._links.get(sid)
        if link is not None and link.worker is not None:
            link.jobs.put_nowait(lambda: job(link))

    async def on_device(self, sid: str, data: object) -> None:
        if not isinstance(data, Mapping):
            return
        info = DeviceInfo.from_dict(data)

        async def attach(link: DialOutLink) -> None:
            if info.id != link.device:
                _LOGGER.warning("dial-out: %s announced itself as %s", link.device, info.id)
                await self.disconnect(link.sid)
                return
            link.info = info
            await self._recorder.hub.attach(link.device, link, info)

        self._queue(sid, attach)

    async def on_state(self, sid: str, data: object) -> None:
        if isinstance(data, Mapping):
            state = State.from_dict(data)
            self._queue(sid, lambda link: self._recorder.state(link.device, state))

    async def on_readings(self, sid: str, data: object) -> None:
        if isinstance(data, Mapping):
            page = ReadingsPage.from_dict(data)
            self._queue(sid, lambda link: self._recorder.pushed(link.device, page, link))

    async def on_fault(self, sid: str, data: object) -> None:
        if isinstance(data, Mapping):
            fault = FaultInfo.from_dict(data)
            self._queue(sid, lambda link: self._recorder.fault(link.device, fault))

    async def on_photo(self, sid: str, data: object) -> None:
        if isinstance(data, Mapping):
            media = MediaInfo.from_dict(data)
            self._queue(sid, lambda link: self._recorder.media(link.device, media, announce=True))

    async def close(self) -> None:
        """Stop every connection's worker (service shutdown)."""
        for link in list(self._links.values()):
            if link.worker is not None:
                link.worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await link.worker
        self._links.clear()
