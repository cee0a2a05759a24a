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


# No request of this API nests deeper than a profile's steps (3 levels); anything
# far deeper is an attack on whoever parses it next (the daemon, on Python 3.11).
MAX_JSON_DEPTH = 16


def _too_deep(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``value`` nests lists/objects more than ``limit`` deep (no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        if children and depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


async def json_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    if optional and not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:  # also a number of more than 4300 digits
        raise bad_request("the body must be a JSON object") from None
    except RecursionError:
        raise bad_request("the body is nested too deeply") from None
    if _too_deep(body):
        raise bad_request(f"the body is nested more than {MAX_JSON_DEPTH} levels deep")
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
