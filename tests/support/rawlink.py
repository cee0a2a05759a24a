"""A bare python-socketio client that has run the protocol 2 handshake.

It sends any event name with any payload (sealed with the link's key, as a real
client does), so tests can fuzz the daemon's request handling behind the
handshake; pushes it receives are opened and kept in ``pushes``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from beerpi_protocol.auth import Initiator, Role, Seal, SealError
from beerpi_protocol.const import SOCKETIO_PATH, Handshake


class RawLink:
    def __init__(self, sio: socketio.AsyncClient, seal: Seal, device_id: str) -> None:
        self.sio = sio
        self.seal = seal
        self.device_id = device_id
        self.pushes: list[tuple[str, Any]] = []

    async def call(self, event: str, data: Any = None, timeout_s: float = 5.0) -> Any:
        seq, envelope = self.seal.seal(event, data)
        ack = await self.sio.call(event, envelope, timeout=timeout_s)
        return self.seal.open_answer(seq, event, ack)

    def on(self, event: str, handler: Any) -> None:
        self.sio.on(event, handler)

    async def shutdown(self) -> None:
        await self.sio.shutdown()


async def raw_link(
    url: str, token: str, *, device_id: str | None = None, timeout_s: float = 5.0
) -> RawLink:
    """Connect and authenticate; raises what ``Initiator.respond`` raises on a bad daemon."""
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, request_timeout=timeout_s)
    challenge: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    link: list[RawLink] = []

    def on_challenge(data: Any = None) -> None:
        if not challenge.done():
            challenge.set_result(data)

    def on_push(event: str, data: Any = None) -> None:
        if link:
            try:
                link[0].pushes.append((event, link[0].seal.open(event, data)[1]))
            except SealError:
                link[0].pushes.append((event, SealError))

    sio.on(Handshake.CHALLENGE.value, on_challenge)
    sio.on("*", on_push)
    initiator = Initiator(token, Role.CONTROLLER, device_id)
    try:
        await sio.connect(
            url,
            auth=initiator.connect_auth(),
            transports=["websocket"],
            socketio_path=SOCKETIO_PATH,
            wait_timeout=timeout_s,
        )
        proof, seal, proven = initiator.respond(await asyncio.wait_for(challenge, timeout_s))
        link.append(RawLink(sio, seal, proven))
        ack = await sio.call(Handshake.PROOF.value, proof, timeout=timeout_s)
        if ack != {"ok": True}:
            raise socketio.exceptions.ConnectionError(f"proof refused: {ack!r}")
    except BaseException:
        await sio.shutdown()
        raise
    return link[0]
