"""A stand-in BeerPi web service for dial-out tests: it can refuse, drop, forge or go away.

A real python-socketio server on 127.0.0.1 with the ``/devices`` namespace that
speaks protocol 2 as the service does (challenge, proof, seal) with the token
it is given; the test sets ``mode`` and the server behaves accordingly for the
next connect. A link counts as accepted once the daemon's proof checks out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import socketio
from aiohttp import web

from beerpi_protocol.auth import ConnectRefused, Responder, Role, Seal, read_connect_auth
from beerpi_protocol.const import SOCKETIO_PATH, Handshake
from tests.support.daemon import free_port

NAMESPACE = "/devices"


class FakeService:
    def __init__(self, token: str) -> None:
        self.port = free_port()
        self.token = token
        # accept | refuse | drop (disconnect after drop_after_s) | forge (send a fake
        # connect_error, record its answer, then disconnect) | silent (take the connect,
        # then never send the challenge)
        self.mode = "accept"
        self.drop_after_s = 1.0
        self.refusals: list[float] = []  # time.monotonic() of each refusal
        self.accepted: list[float] = []
        self.forged_answers: list[Any] = []
        self.events: list[str] = []
        self.lasted: list[float] = []  # seconds each ended connection was open
        self._opened: dict[str, float] = {}
        self.sids: set[str] = set()
        self._responders: dict[str, Responder] = {}
        self._seals: dict[str, Seal] = {}
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.sio = self._fresh()

    @property
    def seals(self) -> dict[str, Seal]:
        """Each accepted connection's seal, by sid: what the test may send on it."""
        return self._seals

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _connect(self, sid: str, environ: object, auth: object = None) -> None:
        if self.mode == "refuse":
            self.refusals.append(time.monotonic())
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        try:
            nonce, device = read_connect_auth(auth, device_id_required=True, peer="daemon")
        except ConnectRefused as err:
            raise socketio.exceptions.ConnectionRefusedError(err.message, err.data()) from None
        responder = Responder(self.token, Role.CONTROLLER, device, nonce)
        self._responders[sid] = responder
        self.sids.add(sid)
        self._opened[sid] = time.monotonic()
        if self.mode != "silent":
            self._spawn(self._challenge(sid, responder.challenge()))

    async def _challenge(self, sid: str, challenge: dict[str, str]) -> None:
        for _ in range(200):  # python-socketio drops an emit before the connect is marked
            if self.sio.manager.is_connected(sid, NAMESPACE):
                break
            await asyncio.sleep(0.01)
        await self.sio.emit(Handshake.CHALLENGE.value, challenge, to=sid, namespace=NAMESPACE)

    async def _proof(self, sid: str, data: object = None) -> dict[str, Any]:
        responder = self._responders.pop(sid, None)
        seal = None if responder is None else responder.finish(data)
        if seal is None:
            self.refusals.append(time.monotonic())
            self._spawn(self.sio.disconnect(sid, namespace=NAMESPACE))
            return {"ok": False, "error": "unauthorized", "message": "wrong proof"}
        self._seals[sid] = seal
        self.accepted.append(time.monotonic())
        if self.mode in ("drop", "forge"):
            self._spawn(self._misbehave(sid, self.mode))
        return {"ok": True}

    async def _disconnect(self, sid: str, reason: object = None) -> None:
        opened = self._opened.pop(sid, None)
        if opened is not None:
            self.lasted.append(time.monotonic() - opened)
        self.sids.discard(sid)
        self._responders.pop(sid, None)
        self._seals.pop(sid, None)

    async def drop_all(self) -> None:
        for sid in list(self.sids):
            await self.sio.disconnect(sid, namespace=NAMESPACE)

    async def _any(self, event: str, sid: str, data: object = None) -> None:
        self.events.append(event)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _misbehave(self, sid: str, mode: str) -> None:
        await asyncio.sleep(0.1)  # let the connection settle
        if mode == "forge":
            # Sealed with the link's key: what the real service (or whoever holds
            # the key) could send. The daemon must read it as a request, no more.
            seal = self._seals[sid]
            seq, envelope = seal.seal("connect_error", {"message": "unauthorized"})
            with contextlib.suppress(Exception):
                answer = await self.sio.call("connect_error", envelope, to=sid, namespace=NAMESPACE)
                self.forged_answers.append(seal.open_answer(seq, "connect_error", answer))
            await asyncio.sleep(0.1)
        else:
            await asyncio.sleep(max(0.0, self.drop_after_s - 0.1))
        await self.sio.disconnect(sid, namespace=NAMESPACE)

    async def start(self) -> None:
        app = web.Application()
        self.sio.attach(app, socketio_path=SOCKETIO_PATH)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Go away (the port closes); ``start`` brings a fresh server back on it."""
        for task in list(self._tasks):
            task.cancel()
        if self.sio.eio.sockets:
            await self.sio.eio.disconnect()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.sio.shutdown()
        self.sio = self._fresh()

    def _fresh(self) -> socketio.AsyncServer:
        sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False)
        sio.on("connect", self._connect, namespace=NAMESPACE)
        sio.on("disconnect", self._disconnect, namespace=NAMESPACE)
        sio.on(Handshake.PROOF.value, self._proof, namespace=NAMESPACE)
        sio.on("*", self._any, namespace=NAMESPACE)
        return sio


@contextlib.asynccontextmanager
async def fake_service(mode: str, token: str) -> AsyncIterator[FakeService]:
    """``token``: the device's token as this service knows it."""
    service = FakeService(token)
    service.mode = mode
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
