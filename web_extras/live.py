"""``/live``: the socket.io namespace browsers listen on for devices, state, readings, events.

Same rule as the read API: a session cookie or ``auth={"token": api_token}``,
unless reads are public. On connect a browser gets ``devices`` (the list
``GET /api/devices`` answers) and then every push as it happens. With Redis,
emits reach the browsers of every service process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import socketio

from .auth import Auth
from .hub import DeviceHub, DeviceRecord
from .store import Event, StoredReading
from .timefmt import iso

_LOGGER = logging.getLogger(__name__)

LIVE_NAMESPACE = "/live"


def reading_json(reading: StoredReading) -> dict[str, Any]:
    return {
        "probe": reading.probe,
        "timestamp": iso(reading.timestamp),
        "temperature": reading.temperature,
    }


def event_json(event: Event) -> dict[str, Any]:
    return {"timestamp": iso(event.timestamp), "kind": str(event.kind), "data": dict(event.data)}


class LiveNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(self, hub: DeviceHub, auth: Auth) -> None:
        super().__init__(LIVE_NAMESPACE)
        self._hub = hub
        self._auth = auth
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_connect(
        self, sid: str, environ: Mapping[str, object], auth: object = None
    ) -> None:
        if not self._auth.may_read(self._auth.environ_user(environ, auth)):
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        # The snapshot must follow socket.io's CONNECT packet, sent after this returns.
        task = asyncio.create_task(self._welcome(sid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _welcome(self, sid: str) -> None:
        for _ in range(200):  # bounded: 2 s
            if self.server.manager.is_connected(sid, LIVE_NAMESPACE):
                break
            await asyncio.sleep(0.01)
        else:
            return
        await self.emit("devices", await self._hub.all_json(), to=sid)

    # -- HubListener ---------------------------------------------------------

    async def device_changed(self, record: DeviceRecord) -> None:
        await self.emit(
            "device",
            {
                "device": record.id,
                "online": record.online,
                "info": None if record.info is None else record.info.to_dict(),
            },
        )

    async def state_changed(self, record: DeviceRecord) -> None:
        if record.state is not None:
            await self.emit("state", {"device": record.id, "state": record.state.to_dict()})

    async def readings_added(self, device: str, readings: Sequence[StoredReading]) -> None:
        await self.emit(
            "readings", {"device": device, "readings": [reading_json(r) for r in readings]}
        )

    async def event_added(self, event: Event) -> None:
        await self.emit("event", {"device": event.device, "event": event_json(event)})

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
