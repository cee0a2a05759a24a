"""Health and the OpenAPI description."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from web_extras.keys import CONFIG, HUB

routes = web.RouteTableDef()

OPENAPI_FILE = Path(__file__).resolve().parent.parent / "openapi.json"


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    records = request.app[HUB].records()
    return web.json_response(
        {
            "status": "ok",
            "store": "mongodb" if request.app[CONFIG].mongo_url else "sqlite",
            "devices": len(records),
            "online": sum(1 for r in records if r.online),
        }
    )


def load_openapi() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    return document


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(load_openapi())
