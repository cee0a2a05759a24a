"""The trend page's first data, carried in the page's HTML itself.

A cold open of ``/trend`` used to ask for its readings only after the page's
bundle ran and the session and device list answered: 200 ms and more after the
request. When the service can tell what the page's first draw will ask for (the
device and range in the page's address, or the only device and the range that
fits its history), it answers those requests ahead of time and puts the answers
in the page (``<script type="application/json" id="first-answers">``, with the
URLs they answer), together with the session and the device list. The page
(``js/api.js``) takes an answer from there the first time it asks for exactly
that URL, and ``js/trend.js`` asks for the guessed URLs only if they are what it
would have asked for itself (same device, range and bucket count, an end within
a few seconds of its own); otherwise it asks the service as before, so a wrong
guess costs the service one set of queries and nothing else. With every answer
in the page, the page draws from the moment its scripts have run, without a
round trip to the service (pages.py sends the page in two parts, so that the
browser loads the styles and scripts while the answers are worked out).

An answer the page cannot carry (over ``INLINE_MAX_CHARS``, or one that failed)
is named in a ``<link rel="preload">`` instead: asked while the page loads, and
the page's own request gets the service's answer or error as usual.

Nothing is guessed for a reader who may not read (no login), nor for a zoomed
opening (``?from=``); photos and videos only for a reader who may see them. The
bucket count depends on the chart's width, which the page remembers in a cookie
(``TREND_BUCKETS_COOKIE``); without it, the count of the widest chart (any
window wider than about 1200 px) is guessed. The answers are JSON with every
``<`` written as ``\\u003c``, so that nothing in them (a device's name) can end
the script element or start markup: the page reads them as text.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from web_extras.api.devices import devices_answer
from web_extras.api.history import events_answer, media_answer, readings_answer
from web_extras.api.hydrometers import gravity_series_answer
from web_extras.api.session import session_answer
from web_extras.errors import ApiError
from web_extras.hub import DeviceRecord
from web_extras.keys import AUTH, HUB, STORE

_LOG = logging.getLogger(__name__)

# The trend page's ranges (js/trend.js RANGES); None is "All".
RANGES: dict[str, timedelta | None] = {
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
# js/trend.js FIT_ALL_MS: a shorter history opens on "All", an older one on 30 days.
FIT_ALL = timedelta(days=30)
# The page asks up to a minute past now (js/trend.js currentRange()).
END_PAST_NOW = timedelta(minutes=1)
TREND_BUCKETS_COOKIE = "beerpi_trend_buckets"
# What js/trend.js bucketCount() gives for the widest chart: css/beerpi.css caps
# <main> at 1200 px, so the chart is 1150 px wide in any window wider than that,
# less MARGIN's 60 px (js/trend_chart.js), at 2 px a bucket.
DEFAULT_BUCKETS = 545
# js/trend.js bucketCount()'s floor, and the readings API's ceiling.
MIN_BUCKETS, MAX_BUCKETS = 10, 5000
_EPOCH = "1970-01-01T00:00:00.000Z"
# The most JSON the page carries (a year's 545 buckets of two probes is about
# 140 kB); a longer answer is preloaded instead.
INLINE_MAX_CHARS = 1_000_000
# What the page asks for first when nothing was guessed: asked while it loads.
SESSION_PRELOADS = (
    '  <link rel="preload" href="api/session" as="fetch" crossorigin>\n'
    '  <link rel="preload" href="api/devices" as="fetch" crossorigin>\n'
)

Answer = Callable[[web.Request, DeviceRecord], Awaitable[Any]]
# The first draw's requests by name (first_requests), and what answers each.
ANSWERS: dict[str, Answer] = {
    "readings": readings_answer,
    "events": events_answer,
    "media": media_answer,
    "gravity": gravity_series_answer,
}


def js_iso(time: datetime) -> str:
    """``time`` as JavaScript's ``Date.toISOString()`` writes it (milliseconds, ``Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time.microsecond // 1000:03d}Z"


def bucket_guess(request: web.Request) -> int:
    """The page's remembered bucket count (a cookie: checked, never trusted), else the default."""
    text = request.cookies.get(TREND_BUCKETS_COOKIE, "")
    if text.isascii() and text.isdigit() and len(text) <= 4:
        return min(max(int(text), MIN_BUCKETS), MAX_BUCKETS)
    return DEFAULT_BUCKETS


async def fitting_range(request: web.Request, device: str, now: datetime) -> str:
    """js/trend.js fittingRange(): all of a short history, else the last 30 days."""
    span = await request.app[STORE].span(device)
    if span is None:
        return "24h"
    first, last = span
    if now - first <= FIT_ALL:
        return "all"
    return "30d" if now - last < FIT_ALL else "all"


async def first_requests(request: web.Request) -> tuple[str, list[tuple[str, str]]]:
    """The device and (name, URL relative to the page) of what the trend page will
    first ask for; no URLs when unsure."""
    if any(key not in request.app for key in (AUTH, HUB, STORE)):
        return "", []  # the pages served without the API (tests/browser/test_served.py)
    auth = request.app[AUTH]
    user = auth.request_user(request)
    query = request.query
    if not auth.may_read(user) or "from" in query:
        return "", []
    hub = request.app[HUB]
    asked = query.get("device")
    if asked is not None:
        record = hub.find(asked)
    else:
        records = hub.records()
        record = records[0] if len(records) == 1 else None
    if record is None:
        return "", []
    device_now = hub.device_time(record.id)
    range_ = query.get("range", "")
    if range_ not in RANGES:
        range_ = await fitting_range(request, record.id, device_now)
    end = device_now + END_PAST_NOW
    span = RANGES[range_]
    start = None if span is None else end - span
    ends = {"end": js_iso(end)}
    series = urlencode({"start": "first" if start is None else js_iso(start), **ends})
    series += f"&buckets={bucket_guess(request)}"
    window = urlencode({"start": _EPOCH if start is None else js_iso(start), **ends})
    base = f"api/devices/{quote(record.id, safe='')}"
    wanted = [
        ("readings", f"{base}/readings?{series}"),
        ("events", f"{base}/events?{window}"),
        ("gravity", f"{base}/gravity/series?{series}"),
    ]
    if auth.sees_details(user):  # else the page's own request gets the 401 it handles
        wanted.insert(2, ("media", f"{base}/media?{window}"))
    return record.id, wanted


def preload_link(url: str) -> str:
    return f'  <link rel="preload" as="fetch" crossorigin href="{html.escape(url)}">\n'


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element: no ``<`` at all."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


async def _json_of(what: str, answer: Awaitable[Any]) -> str | None:
    """The JSON text of ``answer`` for the page; None if it fails (the page's own
    request then gets the error, with its message)."""
    try:
        return script_json(await answer)
    except ApiError:
        return None
    except Exception:  # nor may a failing store keep the page from loading
        _LOG.exception("the trend page's %s could not be answered ahead", what)
        return None


async def _session(request: web.Request) -> dict[str, Any]:
    return session_answer(request)


async def first_data(request: web.Request, device: str, wanted: list[tuple[str, str]]) -> str:
    """The page's ``<script type="application/json" id="first-answers">``: the device
    and the URLs guessed (``first_requests``) and as many of their answers as fit,
    with the session and the device list; a preload link for each answer left out.
    Without the session or the device list nothing is carried: the page then asks
    for everything itself (those two preloaded)."""
    if not wanted:
        return ""
    record = request.app[HUB].find(device)
    if record is None:
        return SESSION_PRELOADS
    session = await _json_of("session", _session(request))
    devices = await _json_of("device list", devices_answer(request))
    if session is None or devices is None:
        return SESSION_PRELOADS
    answers = [f"{script_json('api/session')}:{session}", f"{script_json('api/devices')}:{devices}"]
    size = sum(map(len, answers))
    left_out = []
    for name, url in wanted:
        asked = request.clone(rel_url="/" + url)  # the same query, read as the API reads it
        text = await _json_of(name, ANSWERS[name](asked, record))
        entry = f"{script_json(url)}:{text}"
        if text is None or size + len(entry) > INLINE_MAX_CHARS:
            left_out.append(url)
            continue
        size += len(entry)
        answers.append(entry)
    guess = script_json({"device": device, "urls": dict(wanted)})
    block = (
        '  <script type="application/json" id="first-answers">'
        f'{{"guess":{guess},"answers":{{{",".join(answers)}}}}}</script>\n'
    )
    return block + "".join(preload_link(url) for url in left_out)
