"""Saved fermentation profiles over the JSON API: list, save, rename/replace, delete.

Reading follows the read rules; writes need a login like control (the auth and
cross-site middlewares guard every POST/PUT/PATCH/DELETE under /api/). A body is
checked with the daemon's own step rules (``beerpi_protocol.profiles``) before
anything is stored, so a saved profile is always one a daemon will start; a bad
one is a 400 that names the field, and nothing changes. Targets may be sent in
°F (``"unit": "F"``); they are kept, and answered, in °C.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from web_extras.errors import ApiError, bad_request, not_found
from web_extras.keys import LIVE, STORE
from web_extras.store import ProfileNameTaken, SavedProfile, TooManyProfiles
from web_extras.store.profiles import PROFILE_ID, check_steps
from web_extras.timefmt import iso, now
from web_extras.units import to_celsius, unit_of

from .common import json_object

routes = web.RouteTableDef()
_FIELDS = ("name", "steps", "unit")


def profile_json(profile: SavedProfile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "name": profile.name,
        "steps": [s.to_dict() for s in profile.steps],
        "updated": iso(profile.updated),
    }


def _unknown_keys(body: dict[str, Any]) -> None:
    extra = sorted(k for k in body if k not in _FIELDS)
    if extra:
        raise bad_request(f"unknown field {extra[0][:40]!r}; allowed: {', '.join(_FIELDS)}")


def _in_celsius(steps: object, unit: str) -> object:
    if not isinstance(steps, list):
        return steps  # check_steps names the mistake
    return [
        {**step, "target": to_celsius(step["target"], unit)}
        if isinstance(step, dict) and "target" in step
        else step
        for step in steps
    ]


def _build(profile_id: str, name: object, steps: object, unit: str) -> SavedProfile:
    try:
        clean, checked = check_steps(name, _in_celsius(steps, unit))
        return SavedProfile(profile_id, clean, checked, now())
    except ValueError as err:
        raise bad_request(str(err)) from None


async def _stored(request: web.Request) -> SavedProfile:
    pid = request.match_info["profile_id"]
    found = await request.app[STORE].get_profile(pid) if PROFILE_ID.fullmatch(pid) else None
    if found is None:
        raise not_found(f"no saved profile {pid[:40]!r}", "unknown_profile")
    return found


def _name_taken(err: ProfileNameTaken) -> ApiError:
    return ApiError(409, "profile_name_taken", str(err))


async def _changed(request: web.Request, profile: SavedProfile, status: int) -> web.Response:
    """The answer to the writer, and the same profile pushed to every open page."""
    answer = profile_json(profile)
    await request.app[LIVE].profile_changed({"profile": answer})
    return web.json_response(answer, status=status)


@routes.get("/api/profiles")
async def list_profiles(request: web.Request) -> web.Response:
    found = await request.app[STORE].saved_profiles()
    return web.json_response([profile_json(p) for p in found])


@routes.post("/api/profiles")
async def save_profile(request: web.Request) -> web.Response:
    body = await json_object(request)
    _unknown_keys(body)
    profile = _build(secrets.token_hex(8), body.get("name"), body.get("steps"), unit_of(body))
    try:
        await request.app[STORE].save_profile(profile)
    except ProfileNameTaken as err:
        raise _name_taken(err) from None
    except TooManyProfiles as err:
        raise ApiError(409, "too_many_profiles", str(err)) from None
    return await _changed(request, profile, 201)


@routes.get("/api/profiles/{profile_id}")
async def get_profile(request: web.Request) -> web.Response:
    return web.json_response(profile_json(await _stored(request)))


async def _replace(request: web.Request, *, partial: bool) -> web.Response:
    stored = await _stored(request)
    body = await json_object(request)
    _unknown_keys(body)
    if partial and "name" not in body and "steps" not in body:
        raise bad_request("give name and/or steps")
    if not partial and ("name" not in body or "steps" not in body):
        raise bad_request("a replacement needs name and steps (PATCH changes one of them)")
    unit = unit_of(body)
    steps: object = body["steps"] if "steps" in body else [s.to_dict() for s in stored.steps]
    if "steps" not in body:
        unit = "C"  # the stored steps are in °C whatever unit the body names
    profile = _build(stored.id, body.get("name", stored.name), steps, unit)
    try:
        saved = await request.app[STORE].replace_profile(profile)
    except ProfileNameTaken as err:
        raise _name_taken(err) from None
    if saved is None:  # deleted meanwhile
        raise not_found(f"no saved profile {stored.id!r}", "unknown_profile")
    return await _changed(request, saved, 200)


@routes.put("/api/profiles/{profile_id}")
async def replace_profile(request: web.Request) -> web.Response:
    return await _replace(request, partial=False)


@routes.patch("/api/profiles/{profile_id}")
async def edit_profile(request: web.Request) -> web.Response:
    return await _replace(request, partial=True)


@routes.delete("/api/profiles/{profile_id}")
async def delete_profile(request: web.Request) -> web.Response:
    pid = request.match_info["profile_id"]
    if not PROFILE_ID.fullmatch(pid) or not await request.app[STORE].delete_profile(pid):
        raise not_found(f"no saved profile {pid[:40]!r}", "unknown_profile")
    await request.app[LIVE].profile_changed({"deleted": pid})
    return web.Response(status=204)
