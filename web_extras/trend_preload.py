"""The trend page's first data, asked for by the page's HTML itself.

A cold open of ``/trend`` used to ask for its readings only after the page's
bundle ran and the session and device list answered: 200 ms and more after the
request. When the service can tell what the page's first draw will ask for (the
device and range in the page's address, or the only device and the range that
fits its history), it names those requests in ``<link rel="preload">`` tags, so
the browser asks for them while it parses the HTML. ``js/trend.js`` uses them
only if they are what it would have asked for itself (same device, range and
bucket count, an end within a few seconds of its own); otherwise it asks as
before, so a wrong guess costs the service one set of queries and nothing else.

Nothing is guessed for a reader who may not read (no login), nor for a zoomed
opening (``?from=``). The bucket count depends on the chart's width, which the
page remembers in a cookie (``TREND_BUCKETS_COOKIE``); without it, the count
of the widest chart (any window wider than about 1200 px) is guessed.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from aiohttp import web

from web_extras.keys import AUTH, HUB, STORE

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


async def preload_tags(request: web.Request) -> str:
    """The ``<link rel="preload">`` tags for ``first_requests``, one a line, each
    naming the device it guessed (``data-device``) for the page to check."""
    device, requests = await first_requests(request)
    return "".join(
        f'  <link rel="preload" as="fetch" crossorigin href="{html.escape(url)}"'
        f' data-trend="{name}" data-device="{html.escape(device)}">\n'
        for name, url in requests
    )
