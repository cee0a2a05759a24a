"""Commands: photo, video, relays, thermostat, profile, and the seed's ``/camera/<type>``.

Bodies are checked here for shape (400 before the daemon is bothered); the daemon
checks ranges and names and its refusals come back as 400/404/409.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from beerpi_protocol.const import Request
from beerpi_protocol.models import MediaInfo
from web_extras.errors import bad_request, not_found
from web_extras.hub import DeviceRecord
from web_extras.keys import HUB, RECORDER
from web_extras.units import to_celsius, unit_of

from .common import device_of, json_object
from .history import media_json

routes = web.RouteTableDef()

MODES = ("off", "heat", "cool", "heat_cool")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


async def _camera(
    request: web.Request, record: DeviceRecord, kind: str, body: dict[str, Any]
) -> web.Response:
    hub = request.app[HUB]
    if kind == "photo":
        answer = await hub.call(record.id, Request.TAKE_PHOTO.value)
    else:
        seconds = body.get("seconds", 10)
        if not _number(seconds) or seconds <= 0:
            raise bad_request("seconds must be a positive number")
        answer = await hub.call(record.id, Request.RECORD_VIDEO.value, {"seconds": seconds})
    ready = kind == "photo" or answer.get("ready") is True
    stored = await request.app[RECORDER].media(
        record.id, MediaInfo.from_dict(answer), announce=False, record=ready
    )
    if stored is None:
        raise bad_request("the daemon answered with unreadable media")
    result = media_json(stored)
    if kind == "video":
        result["ready"] = ready
    return web.json_response(result)


@routes.post("/api/devices/{id}/photo")
async def take_photo(request: web.Request) -> web.Response:
    record = await device_of(request)
    return await _camera(request, record, "photo", {})


@routes.post("/api/devices/{id}/video")
async def record_video(request: web.Request) -> web.Response:
    record = await device_of(request)
    body = await json_object(request, optional=True)
    return await _camera(request, record, "video", body)


@routes.post("/camera/{type}")
async def seed_camera(request: web.Request) -> web.Response:
    """The seed's endpoint: ``{"take": type, "device": id, "seconds": n}``, all optional."""
    kind = request.match_info["type"]
    if kind not in ("photo", "video"):
        raise not_found(f"camera type must be photo or video, got {kind!r}")
    body = await json_object(request, optional=True)
    hub = request.app[HUB]
    device = body.get("device")
    if device is None:
        records = hub.records()
        online = [r for r in records if r.online]
        if not records:
            raise not_found("no device is known yet", "unknown_device")
        record = (online or records)[0]
    elif isinstance(device, str):
        record = await hub.get(device)
    else:
        raise bad_request("device must be a device id")
    return await _camera(request, record, kind, body)


@routes.post("/api/devices/{id}/relays/{relay}")
async def set_relay(request: web.Request) -> web.Response:
    record = await device_of(request)
    body = await json_object(request)
    on = body.get("on")
    if not isinstance(on, bool):
        raise bad_request('"on" must be true or false')
    relay = request.match_info["relay"]
    answer = await request.app[HUB].call(
        record.id, Request.SET_RELAY.value, {"relay": relay, "on": on}
    )
    return web.json_response({"relay": answer.get("relay", relay), "on": answer.get("on", on)})


@routes.post("/api/devices/{id}/thermostat")
async def set_thermostat(request: web.Request) -> web.Response:
    record = await device_of(request)
    body = await json_object(request)
    unit = unit_of(body)
    payload: dict[str, Any] = {}
    if "mode" in body:
        if body["mode"] not in MODES:
            raise bad_request(f"mode must be one of {', '.join(MODES)}")
        payload["mode"] = body["mode"]
    if "target" in body:
        if not _number(body["target"]):
            raise bad_request(f"target must be a number (°{unit})")
        payload["target"] = to_celsius(body["target"], unit)
    if not payload:
        raise bad_request("give mode and/or target")
    answer = await request.app[HUB].call(record.id, Request.SET_THERMOSTAT.value, payload)
    return web.json_response({"thermostat": answer.get("thermostat")})


@routes.put("/api/devices/{id}/profile")
async def set_profile(request: web.Request) -> web.Response:
    record = await device_of(request)
    profile = await json_object(request)
    if not isinstance(profile.get("steps"), list):
        raise bad_request("a profile needs a list of steps")
    # Step targets may be entered in °F; the daemon gets (and keeps) °C.
    unit = unit_of(profile)
    profile = {key: value for key, value in profile.items() if key != "unit"}
    profile["steps"] = [
        {**step, "target": to_celsius(step["target"], unit)}
        if isinstance(step, dict) and "target" in step
        else step
        for step in profile["steps"]
    ]
    answer = await request.app[HUB].call(
        record.id, Request.SET_THERMOSTAT.value, {"profile": profile}
    )
    return web.json_response({"thermostat": answer.get("thermostat")})


@routes.delete("/api/devices/{id}/profile")
async def clear_profile(request: web.Request) -> web.Response:
    record = await device_of(request)
    answer = await request.app[HUB].call(record.id, Request.SET_THERMOSTAT.value, {"profile": None})
    return web.json_response({"thermostat": answer.get("thermostat")})
