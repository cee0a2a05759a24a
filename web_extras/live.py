"""``/live``: the socket.io namespace browsers listen on for devices, state, readings, events.

Same rule as the read API: a session cookie or ``auth={"token": api_token}``,
unless reads are public. On connect a browser gets ``devices`` (the list
``GET /api/devices`` answers) and then the pushes as they happen. With Redis,
emits reach the browsers of every service process.

Subscriptions: ``state``, ``readings`` and ``event`` go only to the browsers
watching that device. A browser may ``emit("watch", {"devices": [id, ...]})``
to get them only for those devices, or ``{"devices": "all"}`` for every device.
The ack is ``{"ok": true, "devices": [...] | "all"}`` or ``{"ok": false,
"error": "invalid_argument", "message": ...}``. Unknown ids are allowed (a page
may wait for a device to come online); at most ``MAX_WATCHED`` ids. A browser
that never sends ``watch`` watches every device. ``devices`` and ``device``
(online/offline) pushes go to every browser. Each watched device is a
socket.io room ``device:<id>``; "all" is the room ``watch:all``, so with the
Redis manager this works across processes.

A ``state`` is a snapshot that replaces the one before, so it is sent latest-wins:
while a device's state is still being sent (a loaded service, many watchers),
newer states of that device are not queued behind it; when the send is done the
newest one goes out, the ones in between are skipped. ``readings`` and ``event``
are never skipped.

``gravity`` (``{"device": id, "readings": [...]}``, each reading as ``GET
/api/devices/{id}/gravity`` lists them) goes to the watchers of the device as
soon as the service stores a hydrometer's reading: an iSpindel's post or a
daemon's Tilt reading from its state. Never skipped.

``session`` (a brew session started, edited, noted or ended: ``{"session": ...}``
as ``GET /api/sessions/{id}`` answers it) goes to every browser, like ``device``:
the pages show which beer is in which fermenter. Public readers get it without
the notes.

``profile`` (a saved profile created, renamed or replaced: ``{"profile": ...}``
as ``GET /api/profiles/{id}`` answers it; deleted: ``{"deleted": id}``) goes to
every browser too, so every open editor lists the same saved profiles.

Under ``public_read`` a browser without a login is a public reader: it is kept
in rooms of its own (``public:`` before each name) and gets the pushes without
photos, fault messages and versions (``publicview``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import socketio

from beerpi_protocol.models import State

from .auth import Auth
from .hub import DeviceHub, DeviceRecord
from .publicview import public_device, public_event, public_info, public_state
from .store import Event, GravityReading, StoredReading
from .timefmt import iso

_LOGGER = logging.getLogger(__name__)

LIVE_NAMESPACE = "/live"
ALL_ROOM = "watch:all"
DEVICE_ROOM_PREFIX = "device:"
PUBLIC = "public:"
# Every full reader and every public reader, for the pushes that reach them all.
FULL_READERS = "readers:full"
PUBLIC_READERS = PUBLIC + "readers"
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


def gravity_json(reading: GravityReading) -> dict[str, Any]:
    """A gravity reading as the API and the ``gravity`` push give it."""
    return {
        "device": reading.device,
        "hydrometer": reading.hydrometer,
        "timestamp": iso(reading.timestamp),
        "sg": reading.sg,
        "temperature_c": reading.temperature_c,
        "angle": reading.angle,
        "battery": reading.battery,
        "source": reading.source.value,
    }


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
    def __init__(self, hub: DeviceHub, auth: Auth, *, max_browsers: int = 2000) -> None:
        super().__init__(LIVE_NAMESPACE)
        self._hub = hub
        self._auth = auth
        self._max_browsers = max_browsers
        # Browsers connected to this process, True for public readers.
        self._browsers: dict[str, bool] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Per device whose state is being sent: the newest state to send (latest-wins).
        self._newest_state: dict[str, State] = {}

    @property
    def _split(self) -> bool:
        """True when some browsers may be public readers (they get their own pushes)."""
        auth = self._auth
        return auth.login_required and auth.public_read and not auth.public_details

    async def on_connect(
        self, sid: str, environ: Mapping[str, object], auth: object = None
    ) -> None:
        user = self._auth.environ_user(environ, auth)
        if not self._auth.may_read(user):
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        if len(self._browsers) >= self._max_browsers:
            _LOGGER.warning("refused a browser: %d are connected already", len(self._browsers))
            raise socketio.exceptions.ConnectionRefusedError("busy")
        public = not self._auth.sees_details(user)
        self._browsers[sid] = public
        prefix = PUBLIC if public else ""
        await self.enter_room(sid, PUBLIC_READERS if public else FULL_READERS)
        # Until it sends "watch", a browser gets every device's state and readings.
        await self.enter_room(sid, prefix + ALL_ROOM)
        # The snapshot must follow socket.io's CONNECT packet, sent after this returns.
        task = asyncio.create_task(self._welcome(sid, public))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def on_disconnect(self, sid: str, reason: object = None) -> None:
        self._browsers.pop(sid, None)

    async def _welcome(self, sid: str, public: bool) -> None:
        for _ in range(200):  # bounded: 2 s
            if self.server.manager.is_connected(sid, LIVE_NAMESPACE):
                break
            await asyncio.sleep(0.01)
        else:
            return
        devices = await self._hub.all_json()
        if public:
            devices = [public_device(entry) for entry in devices]
        await self.emit("devices", devices, to=sid)

    async def on_watch(self, sid: str, data: object = None) -> dict[str, Any]:
        """Replace what ``sid`` watches; answers the ack (see the module doc)."""
        try:
            wanted = parse_watch(data)
        except ValueError as err:
            return {"ok": False, "error": "invalid_argument", "message": str(err)}
        prefix = PUBLIC if self._browsers.get(sid, True) else ""
        rooms = {ALL_ROOM} if wanted == "all" else {device_room(d) for d in wanted}
        rooms = {prefix + room for room in rooms}
        current = {
            room
            for room in self.rooms(sid)
            if room.removeprefix(PUBLIC) == ALL_ROOM
            or room.removeprefix(PUBLIC).startswith(DEVICE_ROOM_PREFIX)
        }
        for room in current - rooms:
            await self.leave_room(sid, room)
        for room in rooms - current:
            await self.enter_room(sid, room)
        return {"ok": True, "devices": wanted}

    async def _push(
        self, event: str, device: str, full: dict[str, Any], public: dict[str, Any] | None
    ) -> None:
        """``full`` to the logged-in watchers of ``device``, ``public`` to public ones."""
        await self.emit(event, full, room=[ALL_ROOM, device_room(device)])
        if self._split and public is not None:
            rooms = [PUBLIC + ALL_ROOM, PUBLIC + device_room(device)]
            await self.emit(event, public, room=rooms)

    # -- HubListener ---------------------------------------------------------

    async def device_changed(self, record: DeviceRecord) -> None:
        info = None if record.info is None else record.info.to_dict()
        payload = {"device": record.id, "online": record.online, "info": info}
        if not self._split:
            await self.emit("device", payload)
            return
        await self.emit("device", payload, room=FULL_READERS)
        await self.emit("device", {**payload, "info": public_info(info)}, room=PUBLIC_READERS)

    async def session_changed(self, session: dict[str, Any]) -> None:
        """Another browser's edit shows at once on every page (see the module doc)."""
        if not self._split:
            await self.emit("session", {"session": session})
            return
        await self.emit("session", {"session": session}, room=FULL_READERS)
        await self.emit("session", {"session": {**session, "notes": []}}, room=PUBLIC_READERS)

    async def profile_changed(self, payload: dict[str, Any]) -> None:
        """A saved profile changed (``{"profile": ...}`` or ``{"deleted": id}``)."""
        if not self._split:
            await self.emit("profile", payload)
            return
        await self.emit("profile", payload, room=[FULL_READERS, PUBLIC_READERS])

    async def state_changed(self, record: DeviceRecord) -> None:
        if record.state is None:
            return
        device, sending = record.id, record.id in self._newest_state
        self._newest_state[device] = record.state
        if sending:
            return  # the send under way sends this one next (or a newer one)
        try:
            while True:
                newest = self._newest_state[device]
                state = newest.to_dict()
                await self._push(
                    "state",
                    device,
                    {"device": device, "state": state},
                    {"device": device, "state": public_state(state)},
                )
                if self._newest_state[device] is newest:
                    break
        finally:
            del self._newest_state[device]

    async def readings_added(self, device: str, readings: Sequence[StoredReading]) -> None:
        payload = {"device": device, "readings": [reading_json(r) for r in readings]}
        await self._push("readings", device, payload, payload)

    async def gravity_added(self, readings: Sequence[GravityReading]) -> None:
        """Gravity just stored (an iSpindel post, a daemon's Tilt), to its fermenter's watchers."""
        by_device: dict[str, list[dict[str, Any]]] = {}
        for reading in readings:
            by_device.setdefault(reading.device, []).append(gravity_json(reading))
        for device, items in by_device.items():
            payload = {"device": device, "readings": items}
            await self._push("gravity", device, payload, payload)

    async def event_added(self, event: Event) -> None:
        data = event_json(event)
        await self._push(
            "event",
            event.device,
            {"device": event.device, "event": data},
            {"device": event.device, "event": public_event(data)},
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
