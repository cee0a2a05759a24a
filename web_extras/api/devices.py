"""Devices and their live state."""

from __future__ import annotations

from aiohttp import web

from web_extras.keys import HUB

from .common import device_of

routes = web.RouteTableDef()


@routes.get("/api/devices")
async def list_devices(request: web.Request) -> web.Response:
    return web.json_response(await request.app[HUB].all_json())


@routes.get("/api/devices/{id}")
async def get_device(request: web.Request) -> web.Response:
    return web.json_response((await device_of(request)).to_json())
