"""``/live``: the socket.io namespace browsers listen on for devices, state, readings, events.

Same rule as the read API: a session cookie or ``auth={"token": api_token}``,
unless reads are public. On connect a browser gets ``devices`` (the list
``GET /api/devices`` answers) and then the pushes as they happen. With Redis,
emits reach the browsers of every service process.

Subscriptions: ``state`` and ``readings`` are the heavy pushes (each device sends
a state about once a second), so a browser may ``emit("watch", {"devices":
[id, ...]})`` to get them only for those devices, or ``{"devices": "all"}`` for
every device. The ack is ``{"ok": true, "devices": [...] | "all"}`` or ``{"ok":
false, "error": "invalid_argument", "message": ...}``. Unknown ids are allowed
(a page may wait for a device to come online); at most ``MAX_WATCHED`` ids. A
browser that never sends ``watch`` gets every device, as before. ``devices``,
``device`` (online/offline) and ``event`` pushes always go to every browser.
Each watched device is a socket.io room ``device:<id>``; "all" is the room
``watch:all``, so with the Redis manager this works across processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import socketio

from .auth import Auth
from .hub import DeviceHub, DeviceRecord
from .store import Event, StoredReading
from .timefmt import iso

_LOGGER = logging.getLogger(__name__)

LIVE_NAMESPACE = "/live"
ALL_ROOM = "watch:all"
DEVICE_ROOM_PREFIX = "device:"
MAX_WATCHED = 50
MAX_DEVICE_ID = 128


def reading_json(reading: StoredReading) -> dict[str, Any]:
    return {
        "probe": reading.probe,
        "timestamp": iso(reading.timestamp),
        "temperature": reading.temperature,
    }


def event_json(event: Event) -> dict[str, Any]:
    return {"timestamp": iso(event.timestamp), "kind": str(event.kind), "data": dict(event.data)}


def device_room(device: str) -> str:
    return DEVICE_ROOM_PREFIX + device


def parse_watch(data: object) -> list[str] | Literal["all"]:
    """The devices a ``watch`` asks for, or "all"; ValueError says what is wrong."""
    if not isinstance(data, dict) or "devices" not in data:
        raise ValueError('watch needs {"devices": [id, ...]} or {"devices": "all"}')
    unknown = sorted(str(key)[:40] for key in data if key != "devices")
    if unknown:
        raise ValueError(f"unknown field(s) in watch: {', '.join(unknown[:5])}")
    devices = data["devices"]
    if devices == "all":
        return "all"
    if not isinstance(devices, list):
        raise ValueError('devices must be a list of device ids or "all"')
    if len(devices) > MAX_WATCHED:
        raise ValueError(f'at most {MAX_WATCHED} devices may be watched (or "all")')
    ids: list[str] = []
    for device in devices:
        if not isinstance(device, str) or not 0 < len(device) <= MAX_DEVICE_ID:
            raise ValueError(f"each device id must be a string of 1 to {MAX_DEVICE_ID} characters")
        if device not in ids:
            ids.append(device)
    return ids


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
        # Until it sends "watch", a browser gets every device's state and readings.
        await self.enter_room(sid, ALL_ROOM)
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

    async def on_watch(self, sid: str, data: object = None) -> dict[str, Any]:
        """Replace what ``sid`` watches; answers the ack (see the module doc)."""
        try:
            wanted = parse_watch(data)
        except ValueError as err:
            return {"ok": False, "error": "invalid_argument", "message": str(err)}
        rooms = {ALL_ROOM} if wanted == "all" else {device_room(d) for d in wanted}
        current = {
            room
            for room in self.rooms(sid)
            if room == ALL_ROOM or room.startswith(DEVICE_ROOM_PREFIX)
        }
        for room in current - rooms:
            await self.leave_room(sid, room)
        for room in rooms - current:
            await self.enter_room(sid, room)
        return {"ok": True, "devices": wanted}

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
            await self.emit(
                "state",
                {"device": record.id, "state": record.state.to_dict()},
                room=[ALL_ROOM, device_room(record.id)],
            )

    async def readings_added(self, device: str, readings: Sequence[StoredReading]) -> None:
        await self.emit(
            "readings",
            {"device": device, "readings": [reading_json(r) for r in readings]},
            room=[ALL_ROOM, device_room(device)],
        )

    async def event_added(self, event: Event) -> None:
        await self.emit("event", {"device": event.device, "event": event_json(event)})

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
