"""Request parsing shared by the API modules: ids, bodies, time ranges."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from web_extras.errors import bad_request
from web_extras.hub import DeviceRecord
from web_extras.keys import HUB
from web_extras.timefmt import now, parse_iso

DEFAULT_SPAN = timedelta(hours=24)


async def device_of(request: web.Request) -> DeviceRecord:
    """The device named in the path; 404 when the service never heard of it."""
    return await request.app[HUB].get(request.match_info["id"])


async def json_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    if optional and not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:  # also a number of more than 4300 digits
        raise bad_request("the body must be a JSON object") from None
    except RecursionError:
        raise bad_request("the body is nested too deeply") from None
    if body is None and optional:
        return {}
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body


def time_param(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if text is None or text == "":
        return None
    try:
        return parse_iso(text)
    except ValueError:
        raise bad_request(f"{name} must be an ISO 8601 time, got {text[:60]!r}") from None


def time_range(
    request: web.Request, span: timedelta = DEFAULT_SPAN, *, earliest: datetime | None = None
) -> tuple[datetime, datetime]:
    """``start``/``end`` from the query; by default the last ``span`` (or since ``earliest``)."""
    end = time_param(request, "end") or now()
    try:
        start = time_param(request, "start") or (earliest if earliest is not None else end - span)
    except OverflowError:  # end in year 1: nothing is before it
        raise bad_request("end is too early") from None
    if end <= start:
        raise bad_request("end must be after start")
    return start, end


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"{name} must be an integer, got {text[:60]!r}") from None
    if not low <= value <= high:
        raise bad_request(f"{name} must be between {low} and {high}, got {value}")
    return value
