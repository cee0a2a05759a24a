"""A man in the middle: a WebSocket relay between a client and the real daemon.

It forwards every frame both ways and records them unmasked (``to_daemon``,
``to_client``), so a test sees exactly what a listener on the wire sees. A test
may set ``tamper_to_daemon`` / ``tamper_to_client`` to change or drop frames in
flight, and ``inject`` sends a frame of its own to the daemon on the live link.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import WSMsgType, web

from beerpi_devtools.harness import free_port

Tamper = Callable[[str], str | None]


@dataclass
class Relay:
    target_port: int
    port: int = field(default_factory=free_port)
    to_daemon: list[str] = field(default_factory=list)
    to_client: list[str] = field(default_factory=list)
    # Return the frame to forward (changed or not), or None to drop it.
    tamper_to_daemon: Tamper | None = None
    tamper_to_client: Tamper | None = None
    _runner: web.AppRunner | None = None
    _upstream: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    _clients: list[web.WebSocketResponse] = field(default_factory=list)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/socket.io/", self._websocket)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        for socket_ in [*self._upstream, *self._clients]:
            await socket_.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def inject(self, frame: str) -> None:
        """Send a frame of the relay's own to the daemon on the newest link."""
        self.to_daemon.append(f"(injected) {frame}")
        await self._upstream[-1].send_str(frame)

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        client = web.WebSocketResponse()
        await client.prepare(request)
        self._clients.append(client)
        url = f"ws://127.0.0.1:{self.target_port}{request.path_qs}"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as daemon:
            self._upstream.append(daemon)
            up = asyncio.create_task(self._pump(client, daemon, self.to_daemon, "daemon"))
            down = asyncio.create_task(self._pump(daemon, client, self.to_client, "client"))
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            for task in (up, down):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await client.close()
        return client

    async def _pump(self, source: object, sink: object, log: list[str], to: str) -> None:
        async for message in source:  # type: ignore[attr-defined]
            if message.type != WSMsgType.TEXT:
                return
            frame: str | None = message.data
            log.append(frame or "")
            tamper = self.tamper_to_daemon if to == "daemon" else self.tamper_to_client
            if tamper is not None and frame is not None:
                frame = tamper(frame)
            if frame is not None:
                await sink.send_str(frame)  # type: ignore[attr-defined]
