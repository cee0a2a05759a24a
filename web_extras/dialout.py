"""Dial-out acceptance: daemons behind NAT connect to the ``/devices`` namespace.

Each connects with ``auth={"protocol", "nonce", "device_id"}`` and runs the
protocol 2 handshake (``beerpi_protocol.auth``): the service proves it knows the
token configured for that device id, the daemon proves it too, and nothing of
the token crosses the wire. A link exists only after that proof, and is bound
to the proven id: its readings, state and media land only under that id, and
every push must carry the link's seal. Requests go back over the same
connection with ``sio.call(..., to=sid)``, sealed. Handlers of one connection
run as separate tasks in python-socketio, so each connection records its pushes
through one queue, in the order they arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import socketio

from beerpi_protocol.auth import ConnectRefused, Responder, Role, Seal, SealError, read_connect_auth
from beerpi_protocol.client import ack_to_result, fetch_media_chunks
from beerpi_protocol.const import ErrorCode, Event, Handshake
from beerpi_protocol.errors import BeerPiConnectionError, BeerPiError, BeerPiRequestError
from beerpi_protocol.models import DeviceInfo, FaultInfo, MediaInfo, ReadingsPage, State

from .ingest import Recorder

_LOGGER = logging.getLogger(__name__)

DEVICES_NAMESPACE = "/devices"
STOP = object()


def device_room(device: str) -> str:
    return f"device:{device}"


class DialOutLink:
    """One daemon connected to ``/devices``; requests go back through the ack."""

    kind = "dial-out"

    def __init__(
        self, sio: socketio.AsyncServer, sid: str, device: str, seal: Seal, timeout_s: float
    ) -> None:
        self._sio = sio
        self.sid = sid
        # The proven id: everything this link brings is recorded under it, and only it.
        self.device = device
        self.seal = seal
        self._timeout_s = timeout_s
        self._seal_warned = False
        # One request at a time per connection (socket.io's call is not concurrency-safe).
        self._lock = asyncio.Lock()
        self.jobs: asyncio.Queue[Callable[[], Awaitable[Any]]] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None
        self.info: DeviceInfo | None = None

    async def call(self, request: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        async with self._lock:
            seq, envelope = self.seal.seal(request, dict(payload))
            try:
                ack = await self._sio.call(
                    request,
                    envelope,
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
        try:
            answer = self.seal.open_answer(seq, request, ack)
        except SealError as err:
            raise BeerPiConnectionError(
                f"{request}: the answer is not the device's ({err})"
            ) from err
        return ack_to_result(request, answer)

    def open(self, event: Event, data: object) -> Mapping[str, Any] | None:
        """A push's payload if the device sealed it on this link; dropped (None) if not."""
        try:
            payload = self.seal.open(event.value, data)[1]
        except SealError as err:
            # Once per link: a forger must not be able to flood the log.
            log = _LOGGER.debug if self._seal_warned else _LOGGER.warning
            self._seal_warned = True
            log("%s (dial-out): dropped a %s push: %s", self.device, event.value, err)
            return None
        return payload if isinstance(payload, Mapping) else None

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
        self._pending: dict[str, Responder] = {}
        self._links: dict[str, DialOutLink] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def proven(self, sid: str) -> bool:
        """Has the daemon on ``sid`` proved its device token (the pre-auth guard asks)?"""
        return sid in self._links

    async def on_connect(self, sid: str, environ: object, auth: object = None) -> None:
        try:
            nonce, device = read_connect_auth(auth, device_id_required=True, peer="daemon")
        except ConnectRefused as err:
            _LOGGER.warning("dial-out refused: %s", err.message)
            raise socketio.exceptions.ConnectionRefusedError(err.message, err.data()) from None
        # An id nobody configured gets a decoy challenge: refused at the proof, like a
        # wrong token, so the answer does not tell which ids exist.
        responder = Responder(self._tokens.get(device), Role.CONTROLLER, device, nonce)
        self._pending[sid] = responder
        task = asyncio.create_task(self._challenge(sid, responder.challenge()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _challenge(self, sid: str, challenge: dict[str, str]) -> None:
        # python-socketio sends CONNECT before it marks the client connected, and
        # drops an emit that lands in between.
        for _ in range(200):  # bounded: 2 s
            if self.server.manager.is_connected(sid, DEVICES_NAMESPACE):
                break
            await asyncio.sleep(0.01)
        await self.emit(Handshake.CHALLENGE.value, challenge, to=sid)

    async def on_auth_proof(self, sid: str, data: object = None) -> dict[str, Any]:
        responder = self._pending.pop(sid, None)
        seal = None if responder is None else responder.finish(data)
        if responder is None or seal is None:
            _LOGGER.warning("dial-out refused: wrong proof of a device token")
            task = asyncio.create_task(self.disconnect(sid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return {"ok": False, "error": ErrorCode.UNAUTHORIZED.value, "message": "wrong proof"}
        device = responder.transcript.device_id
        link = DialOutLink(self.server, sid, device, seal, self._timeout_s)
        link.worker = asyncio.create_task(link.work(), name=f"beerpi-dialout-{device}")
        self._links[sid] = link
        await self.enter_room(sid, device_room(device))
        link.jobs.put_nowait(lambda: self._link_up(link))
        return {"ok": True}

    async def _link_up(self, link: DialOutLink) -> None:
        await self._recorder.connected(link.device, link, link.info)
        added = await self._recorder.catch_up(link.device, link)
        _LOGGER.info("%s: dialled out to us, %d readings caught up", link.device, added)

    async def on_disconnect(self, sid: str, reason: object = None) -> None:
        self._pending.pop(sid, None)
        link = self._links.pop(sid, None)
        if link is None:
            return

        async def gone() -> object:
            await self._recorder.disconnected(link.device, link)
            return STOP  # ends the worker after the jobs queued before it

        link.jobs.put_nowait(gone)

    def _opened(self, sid: str, event: Event, data: object) -> tuple[DialOutLink, Any] | None:
        """The link and the push's payload; None for an unauthenticated or unsealed push.

        Called first thing in each handler: socket.io starts one task per message in
        arrival order, so the sequence numbers are checked in that order.
        """
        link = self._links.get(sid)
        if link is None or link.worker is None:
            return None
        payload = link.open(event, data)
        return None if payload is None else (link, payload)

    async def on_device(self, sid: str, data: object = None) -> None:
        opened = self._opened(sid, Event.DEVICE, data)
        if opened is None:
            return
        link, payload = opened
        info = DeviceInfo.from_dict(payload)

        async def attach() -> None:
            if info.id != link.device:
                _LOGGER.warning("dial-out: %s announced itself as %s", link.device, info.id)
                await self.disconnect(link.sid)
                return
            link.info = info
            await self._recorder.hub.attach(link.device, link, info)

        link.jobs.put_nowait(attach)

    async def on_state(self, sid: str, data: object = None) -> None:
        opened = self._opened(sid, Event.STATE, data)
        if opened is not None:
            link, payload = opened
            state = State.from_dict(payload)
            link.jobs.put_nowait(lambda: self._recorder.state(link.device, state))

    async def on_readings(self, sid: str, data: object = None) -> None:
        opened = self._opened(sid, Event.READINGS, data)
        if opened is not None:
            link, payload = opened
            page = ReadingsPage.from_dict(payload)
            link.jobs.put_nowait(lambda: self._recorder.pushed(link.device, page, link))

    async def on_fault(self, sid: str, data: object = None) -> None:
        opened = self._opened(sid, Event.FAULT, data)
        if opened is not None:
            link, payload = opened
            fault = FaultInfo.from_dict(payload)
            link.jobs.put_nowait(lambda: self._recorder.fault(link.device, fault))

    async def on_photo(self, sid: str, data: object = None) -> None:
        opened = self._opened(sid, Event.PHOTO, data)
        if opened is not None:
            link, payload = opened
            media = MediaInfo.from_dict(payload)
            link.jobs.put_nowait(lambda: self._recorder.media(link.device, media, announce=True))

    async def close(self) -> None:
        """Stop every connection's worker (service shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for link in list(self._links.values()):
            if link.worker is not None:
                link.worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await link.worker
        self._links.clear()
