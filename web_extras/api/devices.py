"""Devices and their live state."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from web_extras.keys import AUTH, HUB
from web_extras.publicview import public_device

from .common import device_of

routes = web.RouteTableDef()


def _for_reader(request: web.Request, entry: dict[str, Any]) -> dict[str, Any]:
    auth = request.app[AUTH]
    return entry if auth.sees_details(auth.request_user(request)) else public_device(entry)


@routes.get("/api/devices")
async def list_devices(request: web.Request) -> web.Response:
    return web.json_response(await devices_answer(request))


async def devices_answer(request: web.Request) -> list[dict[str, Any]]:
    """Every device and its live state, as the request's reader may see them."""
    entries = await request.app[HUB].all_json()
    return [_for_reader(request, entry) for entry in entries]


@routes.get("/api/devices/{id}")
async def get_device(request: web.Request) -> web.Response:
    return web.json_response(_for_reader(request, (await device_of(request)).to_json()))
