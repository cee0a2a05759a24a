"""Commands: photo, video, relays, thermostat, profile (and its pause, resume and skip),
and the seed's ``/camera/<type>``.

Bodies are mapped onto the protocol's request models, whose checks refuse a
malformed one (400 before the daemon is bothered); the daemon checks ranges and
names and its refusals come back as 400/404/409.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from beerpi_protocol.errors import InvalidArgument
from beerpi_protocol.models import MediaInfo
from beerpi_protocol.profiles import check_profile
from beerpi_protocol.requests import (
    PauseProfile,
    RecordVideo,
    RelayAnswer,
    RequestModel,
    ResumeProfile,
    SetRelay,
    SetThermostat,
    SkipStep,
    TakePhoto,
    ThermostatAnswer,
    check_number,
    read_mode,
)
from web_extras.errors import bad_request, not_found
from web_extras.hub import DeviceRecord
from web_extras.keys import HUB, RECORDER
from web_extras.units import to_celsius, unit_of

from .common import device_of, json_object
from .history import media_json

routes = web.RouteTableDef()

T = TypeVar("T")


def _build(make: Callable[[], T]) -> T:
    """A request model from a body; its InvalidArgument (naming the field) is a 400."""
    try:
        return make()
    except InvalidArgument as err:
        raise bad_request(err.message) from None


async def _send(request: web.Request, record: DeviceRecord, model: RequestModel) -> dict[str, Any]:
    return await request.app[HUB].call(record.id, model.NAME, model.to_dict())


async def _camera(
    request: web.Request, record: DeviceRecord, kind: str, body: dict[str, Any]
) -> web.Response:
    model: RequestModel = (
        TakePhoto()
        if kind == "photo"
        else _build(lambda: RecordVideo(seconds=body.get("seconds", 10)))
    )
    answer = await _send(request, record, model)
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
    # The relay is the URL's (a "relay" in the body does not choose another).
    model = _build(lambda: SetRelay.from_dict({**body, "relay": request.match_info["relay"]}))
    answer = RelayAnswer.from_dict(await _send(request, record, model))
    return web.json_response(answer.to_dict())


@routes.post("/api/devices/{id}/thermostat")
async def set_thermostat(request: web.Request) -> web.Response:
    record = await device_of(request)
    body = await json_object(request)
    unit = unit_of(body)
    if "mode" not in body and "target" not in body:
        raise bad_request("give mode and/or target")
    # Given here, null is a mistake (over the protocol it means "leave as it is").
    model = _build(
        lambda: SetThermostat(
            mode=read_mode(body["mode"], optional=False) if "mode" in body else None,
            target=to_celsius(check_number("target", body["target"]), unit)
            if "target" in body
            else None,
        )
    )
    return await _thermostat(request, record, model)


async def _thermostat(
    request: web.Request, record: DeviceRecord, model: RequestModel
) -> web.Response:
    answer = ThermostatAnswer.from_dict(await _send(request, record, model))
    return web.json_response(answer.to_dict())


@routes.put("/api/devices/{id}/profile")
async def set_profile(request: web.Request) -> web.Response:
    record = await device_of(request)
    profile = await json_object(request)
    # The daemon checks the steps; a body without any is refused before it is bothered.
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
    # The shape (name, step count, kinds, durations) by the daemon's own rule, here
    # too: a bad profile is a 400 even while the daemon is away, and never reaches
    # it. The target range is the daemon's configuration: it checks that itself.
    try:
        check_profile(profile, min_c=-math.inf, max_c=math.inf)
    except ValueError as err:
        raise bad_request(str(err)) from None
    return await _thermostat(request, record, _build(lambda: SetThermostat(profile=profile)))


@routes.delete("/api/devices/{id}/profile")
async def clear_profile(request: web.Request) -> web.Response:
    record = await device_of(request)
    return await _thermostat(request, record, SetThermostat(clear_profile=True))


@routes.post("/api/devices/{id}/profile/pause")
async def pause_profile(request: web.Request) -> web.Response:
    record = await device_of(request)
    await json_object(request, optional=True)
    return await _thermostat(request, record, PauseProfile())


@routes.post("/api/devices/{id}/profile/resume")
async def resume_profile(request: web.Request) -> web.Response:
    record = await device_of(request)
    await json_object(request, optional=True)
    return await _thermostat(request, record, ResumeProfile())


@routes.post("/api/devices/{id}/profile/skip")
async def skip_step(request: web.Request) -> web.Response:
    """``{"step": N}`` (optional): skip only if step N still runs (a double click skips one)."""
    record = await device_of(request)
    body = await json_object(request, optional=True)
    return await _thermostat(request, record, _build(lambda: SkipStep.from_dict(body)))
