"""Hydrometers: iSpindel posts in, latest gravity and gravity series out.

``POST /api/hydrometers/ispindel`` is device-authenticated, like the dial-out
link: the auth middleware lets it through without a login, and this handler
admits it only with a configured hydrometer's token (in the path, ``?token=``,
``Authorization: Bearer`` or the post's own ``token`` field). A login cookie is
never enough, so another site cannot make a logged-in browser post readings;
the cross-site middleware refuses browser requests from other origins too.
Tokens are compared in constant time and never logged or echoed.

The reads (latest, series) follow the rules of reading history.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Any

from aiohttp import web

from web_extras.config import Hydrometer
from web_extras.errors import ApiError
from web_extras.hub import DeviceRecord
from web_extras.ispindel import MAX_BODY_BYTES, IspindelPost, parse_body, parse_post
from web_extras.keys import CONFIG, GRAVITY_TO_DAEMONS, HUB, LIVE, STORE
from web_extras.live import gravity_json
from web_extras.store import GravityReading, GravitySource
from web_extras.timefmt import iso

from .common import device_of, int_param
from .history import DEFAULT_BUCKETS, MAX_BUCKETS, chart_range, series_json

_LOGGER = logging.getLogger(__name__)
routes = web.RouteTableDef()

ISPINDEL_PATH = "/api/hydrometers/ispindel"
# The same numbers again within this share of the post interval (or RESEND_S
# when the post names none) is the device re-sending one reading.
RESEND_SHARE = 0.5
RESEND_S = 60.0
# One lock per hydrometer (made at start-up, on the app's loop).
HYDROMETER_LOCKS: web.AppKey[dict[str, asyncio.Lock]] = web.AppKey("hydrometer_locks")


def setup(app: web.Application) -> None:
    app[HYDROMETER_LOCKS] = {name: asyncio.Lock() for name in app[CONFIG].hydrometers}
    app.router.add_routes(routes)


def _digest(token: str) -> bytes:
    # Equal-length digests: compare_digest then leaks neither content nor length.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def find_hydrometer(hydrometers: dict[str, Hydrometer], token: str) -> str | None:
    """The hydrometer whose token this is; every entry is compared, match or not."""
    given = _digest(token)
    found = None
    for hydrometer, entry in hydrometers.items():
        if hmac.compare_digest(given, _digest(entry.token)) and found is None:
            found = hydrometer
    return found


def _presented_token(request: web.Request, post_token: str | None) -> str | None:
    path_token = request.match_info.get("token")
    if path_token:
        return path_token
    if "token" in request.query:
        return request.query["token"]
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip()
    return post_token


async def _read_capped(request: web.Request) -> bytes:
    """The body, refusing more than MAX_BODY_BYTES whatever Content-Length claims."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"a hydrometer post is at most {MAX_BODY_BYTES} bytes")
    data = bytearray()
    while True:
        chunk = await request.content.read(MAX_BODY_BYTES + 1 - len(data))
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", f"a hydrometer post is at most {MAX_BODY_BYTES} bytes")


def _same_reading(stored: GravityReading, post: IspindelPost) -> bool:
    return (stored.sg, stored.temperature_c, stored.angle, stored.battery) == (
        post.sg,
        post.temperature_c,
        post.angle,
        post.battery,
    )


@routes.post(ISPINDEL_PATH)
@routes.post(ISPINDEL_PATH + "/{token}")
async def ispindel(request: web.Request) -> web.Response:
    hydrometers = request.app[CONFIG].hydrometers
    body = parse_body(await _read_capped(request))
    post_token = body.get("token") if isinstance(body.get("token"), str) else None
    token = _presented_token(request, post_token)
    if not token:
        raise ApiError(
            401,
            "unauthorized",
            "send the hydrometer's token: in the iSpindel's Token field, ?token=, "
            "or an Authorization: Bearer header",
        )
    hydrometer = find_hydrometer(hydrometers, token)
    if hydrometer is None:
        _LOGGER.info("iSpindel post from %s with an unknown token refused", request.remote)
        raise ApiError(401, "unauthorized", "no hydrometer has this token")
    entry = hydrometers[hydrometer]
    post = parse_post(body, entry.gravity_unit)
    store, device = request.app[STORE], entry.device
    # A re-send racing its original cannot both be stored.
    async with request.app[HYDROMETER_LOCKS][hydrometer]:
        at = request.app[HUB].device_time(device)
        last = (await store.latest_gravity(device)).get(hydrometer)
        window = RESEND_S if post.interval_s is None else post.interval_s * RESEND_SHARE
        resent = (
            last is not None
            and last.source is GravitySource.ISPINDEL
            and timedelta(0) <= at - last.timestamp < timedelta(seconds=window)
            and _same_reading(last, post)
        )
        reading = GravityReading(
            device,
            hydrometer,
            at,
            post.sg,
            post.temperature_c,
            post.angle,
            post.battery,
            GravitySource.ISPINDEL,
        )
        stored = False if resent else await store.add_gravity([reading]) == 1
    if stored:
        # Open pages show it at once; the poll is only their fallback.
        await request.app[LIVE].gravity_added([reading])
        # The Pi's profile steps may end on this gravity (in the background: the
        # iSpindel goes back to sleep as soon as it is answered).
        request.app[GRAVITY_TO_DAEMONS].forward(reading)
    answer = gravity_json(last if resent and last is not None else reading)
    return web.json_response({**answer, "stored": stored})


@routes.get("/api/devices/{id}/gravity")
async def latest_gravity(request: web.Request) -> web.Response:
    """The newest reading of each hydrometer in the fermenter."""
    record = await device_of(request)
    latest = await request.app[STORE].latest_gravity(record.id)
    return web.json_response(
        {"device": record.id, "hydrometers": [gravity_json(r) for r in latest.values()]}
    )


@routes.get("/api/devices/{id}/gravity/series")
async def gravity_series(request: web.Request) -> web.Response:
    """SG min/mean/max per bucket of each hydrometer (or ``?hydrometer=``) over a range."""
    return web.json_response(await gravity_series_answer(request, await device_of(request)))


async def gravity_series_answer(request: web.Request, record: DeviceRecord) -> dict[str, Any]:
    """What ``GET /api/devices/{id}/gravity/series`` answers for ``record``."""
    start, end = await chart_range(request, record.id)
    buckets = int_param(request, "buckets", DEFAULT_BUCKETS, 1, MAX_BUCKETS)
    store = request.app[STORE]
    wanted = request.query.get("hydrometer")
    names = [wanted] if wanted else sorted(await store.latest_gravity(record.id))
    times: dict[Any, str] = {}
    series = {
        name: series_json(await store.gravity_series(record.id, name, start, end, buckets), times)
        for name in names
    }
    return {"device": record.id, "start": iso(start), "end": iso(end), "hydrometers": series}
