"""An impostor BeerPi daemon on loopback that records every byte a client sends it.

It speaks just enough engine.io v4 / socket.io v5 over WebSocket (the transport
every BeerPi client asks for) to look like a daemon: it accepts any connect,
then announces a device id of its choosing, both ways a fake would try it (a
protocol 2 challenge with a made-up proof, and protocol 1's ``device`` and
``state`` straight away). Everything the client sends, every HTTP request
(with headers and body) and every WebSocket message, is kept verbatim in
``captured`` so a test can assert what did *not* leave the client.

Only aiohttp: it runs in the main environment and inside Home Assistant's harness.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from beerpi_devtools.harness import free_port

OPEN = (
    '0{"sid":"impostor","upgrades":[],"pingInterval":25000,"pingTimeout":20000,'
    '"maxPayload":1000000}'
)


@dataclass
class Impostor:
    device_id: str
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    # Every request line with headers and body, and every WebSocket text frame, verbatim.
    captured: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def socketio_packets(self) -> list[str]:
        """The socket.io packets the clients sent (engine.io type 4 frames, prefix dropped)."""
        return [m[len("ws> 4") :] for m in self.captured if m.startswith("ws> 4")]

    def connect_auths(self) -> list[Any]:
        """The ``auth`` object of every socket.io CONNECT the clients sent."""
        auths = []
        for packet in self.socketio_packets():
            if packet.startswith("0"):
                body = packet[1:]
                if body.startswith("/"):
                    body = body.partition(",")[2]
                auths.append(json.loads(body) if body else None)
        return auths

    def sent_anything_but_connect(self) -> bool:
        """True if a client sent an event, an ack, or anything else after its connect."""
        return any(not p.startswith(("0", "1")) for p in self.socketio_packets())

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
        self.captured.append(
            f"http> {request.method} {request.path_qs}\n{headers}\n\n"
            + body.decode("utf-8", "replace")
        )
        if request.path.startswith("/socket.io") and request.query.get("transport") == "websocket":
            return await self._websocket(request)
        return web.json_response({"status": "ok", "protocol_version": "2.0"})

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(OPEN)
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                self.captured.append(f"ws> <{message.type.name}>")
                continue
            text = message.data
            self.captured.append(f"ws> {text}")
            if text == "2":  # ping
                await ws.send_str("3")
            elif text.startswith("40"):
                namespace = text[2:].partition(",")[0] if text[2:].startswith("/") else ""
                prefix = f"{namespace}," if namespace else ""
                await ws.send_str(f'40{prefix}{{"sid":"impostor-{secrets.token_hex(4)}"}}')
                for event, data in self._claims():
                    await ws.send_str(f"42{prefix}{json.dumps([event, data])}")
        return ws

    def _claims(self) -> list[tuple[str, dict[str, Any]]]:
        """What a fake daemon says to pass for ``device_id``, in either protocol."""
        challenge = {
            "device_id": self.device_id,
            "nonce": secrets.token_hex(32),
            "proof": secrets.token_hex(32),
        }
        device = {
            "id": self.device_id,
            "name": "BeerPi",
            # What a protocol 1 client expects to hear (a protocol 2 one never gets here).
            "protocol_version": "1.0",
            "probes": [{"id": "beer", "name": "Beer"}],
            "relays": [{"id": "heater", "name": "Heater"}],
        }
        state = {"timestamp": "2026-11-25T18:00:00.000Z", "probes": {}, "relays": {}}
        return [("auth_challenge", challenge), ("device", device), ("state", state)]
