"""Login, logout and who am I, for the pages."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from web_extras.auth import COOKIE
from web_extras.errors import ApiError, bad_request
from web_extras.keys import AUTH

from .common import json_object

routes = web.RouteTableDef()


@routes.get("/api/session")
async def session(request: web.Request) -> web.Response:
    return web.json_response(session_answer(request))


def session_answer(request: web.Request) -> dict[str, Any]:
    """Who the request's session is, and whether this service needs a login."""
    auth = request.app[AUTH]
    user = auth.request_user(request)
    return {"authenticated": user is not None, "login_required": auth.login_required, "user": user}


@routes.post("/api/login")
async def login(request: web.Request) -> web.Response:
    auth = request.app[AUTH]
    body = await json_object(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise bad_request("username and password must be strings")
    if auth.user is None:
        raise ApiError(400, "login_disabled", "no user is configured; use the API token")
    if len(username) > 256 or len(password) > 1024:
        raise bad_request("user name or password too long")
    if not await auth.check_login(username, password, request.remote):
        raise ApiError(401, "unauthorized", "wrong user name or password")
    response = web.json_response({"authenticated": True, "login_required": True, "user": username})
    response.set_cookie(
        COOKIE,
        auth.make_session(username),
        max_age=int(auth.max_age_s),
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/",
    )
    return response


@routes.post("/api/logout")
async def logout(request: web.Request) -> web.Response:
    """Ends every session of the user (all browsers), not only this cookie."""
    auth = request.app[AUTH]
    user = auth.session_user(request.cookies.get(COOKIE))
    if user is not None:
        await asyncio.to_thread(auth.end_sessions, user)
    response = web.json_response(
        {"authenticated": False, "login_required": auth.login_required, "user": None}
    )
    response.del_cookie(COOKIE, path="/")
    return response
