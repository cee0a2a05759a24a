"""History: downsampled readings, CSV export, events, media."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from web_extras.hub import DeviceRecord
from web_extras.keys import AUTH, HUB, MEDIA, STORE
from web_extras.live import event_json
from web_extras.media import check_id
from web_extras.outages import find_outages
from web_extras.publicview import public_event
from web_extras.security import MEDIA_CSP
from web_extras.store import Bucket, EventKind, MediaInfo
from web_extras.store.base import Grid
from web_extras.timefmt import iso, now
from web_extras.units import celsius_to_fahrenheit, unit_of

from .common import DEFAULT_SPAN, device_of, int_param, time_param, time_range

routes = web.RouteTableDef()

DEFAULT_BUCKETS = 500
MAX_BUCKETS = 5000
# The CSV export defaults to the whole history: it is how people take their data out.
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def series_json(series: list[Bucket], times: dict[datetime, str]) -> list[dict[str, Any]]:
    """The buckets as JSON, formatting each distinct time once.

    ``times`` maps the times formatted so far to their text: a bucket's end is
    the next one's start, and all probes of an answer share one grid, so a
    year of two probes formats about a quarter of its times (formatting was
    most of the answer's time).
    """
    answer = []
    for bucket in series:
        start = times.get(bucket.start)
        if start is None:
            start = times[bucket.start] = iso(bucket.start)
        end = times.get(bucket.end)
        if end is None:
            end = times[bucket.end] = iso(bucket.end)
        answer.append(
            {
                "start": start,
                "end": end,
                "min": bucket.min,
                "mean": bucket.mean,
                "max": bucket.max,
                "count": bucket.count,
            }
        )
    return answer


async def chart_range(request: web.Request, device: str) -> tuple[datetime, datetime]:
    """``start``/``end`` of a trend series; ``start=first`` is the device's first reading.

    "All" on the trend page asks for its readings and its gravity at once with
    it, without asking for the device's span first.
    """
    if request.query.get("start") != "first":
        return time_range(request)
    span = await request.app[STORE].span(device)
    end = time_param(request, "end") or now()
    return (span[0] if span is not None and span[0] < end else end - DEFAULT_SPAN), end


async def probes_of(request: web.Request, device: str) -> list[str]:
    """Probes the device announced and probes with stored readings."""
    record = request.app[HUB].find(device)
    known = {p.id for p in record.info.probes} if record and record.info else set()
    known.update(await request.app[STORE].probes(device))
    return sorted(known)


@routes.get("/api/devices/{id}/readings")
async def readings(request: web.Request) -> web.Response:
    return web.json_response(await readings_answer(request, await device_of(request)))


async def readings_answer(request: web.Request, record: DeviceRecord) -> dict[str, Any]:
    """What ``GET /api/devices/{id}/readings`` answers for ``record`` (the query is
    ``request``'s); the trend page's HTML carries it too (trend_preload.py)."""
    store = request.app[STORE]
    start, end = await chart_range(request, record.id)
    buckets = int_param(request, "buckets", DEFAULT_BUCKETS, 1, MAX_BUCKETS)
    head = {"device": record.id, "start": iso(start), "end": iso(end)}
    probe = request.query.get("probe")
    if probe:
        series = await store.series(record.id, probe, start, end, buckets)
        return {**head, "probe": probe, "buckets": series_json(series, {})}
    every: dict[str, list[Bucket]] = {}
    for name in await probes_of(request, record.id):
        every[name] = await store.series(record.id, name, start, end, buckets)
    # Outages at the chart's resolution: the buckets' width is what it can show.
    grid = Grid.of(start, end, buckets)
    width = timedelta(milliseconds=grid.width_ms)
    links = await store.events(
        record.id, start, end, kinds=[EventKind.CONNECTED, EventKind.DISCONNECTED]
    )
    until = min(end, request.app[HUB].device_time(record.id))
    outages = find_outages(every, width, links, until)
    times: dict[datetime, str] = {}
    return {
        **head,
        "probes": {name: series_json(series, times) for name, series in every.items()},
        "outages": [o.to_json() for o in outages],
    }


@routes.get("/api/devices/{id}/readings/span")
async def readings_span(request: web.Request) -> web.Response:
    """When the device's history starts and ends (the trend page's "All")."""
    record = await device_of(request)
    span = await request.app[STORE].span(record.id)
    first, last = (None, None) if span is None else (iso(span[0]), iso(span[1]))
    return web.json_response({"device": record.id, "first": first, "last": last})


# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_field(text: str) -> str:
    """A text cell: quoted when needed, and never read as a formula (OWASP's advice)."""
    if text.startswith(_FORMULA_START):
        text = "'" + text
    if any(c in text for c in ',"\n\r\t'):
        return '"' + text.replace('"', '""') + '"'
    return text


@routes.get("/api/devices/{id}/readings.csv")
async def readings_csv(request: web.Request) -> web.StreamResponse:
    record = await device_of(request)
    start, end = time_range(request, earliest=_BEGINNING)
    probe = request.query.get("probe")
    probes = [probe] if probe else await probes_of(request, record.id)
    filename = f"{check_id(record.id, 'device')}-readings.csv"
    return await stream_readings_csv(request, record.id, probes, start, end, filename)


async def stream_readings_csv(
    request: web.Request,
    device: str,
    probes: list[str],
    start: datetime,
    end: datetime,
    filename: str,
) -> web.StreamResponse:
    """Raw readings of ``probes`` in ``[start, end)`` as CSV; ``filename`` must be safe.

    In °C unless the query says ``unit=F``; the header names the unit
    (``temperature_c`` or ``temperature_f``), so a file opened later says what
    its numbers are.
    """
    unit = unit_of(request.query)  # before the headers go out: a bad unit is a 400
    convert = celsius_to_fahrenheit if unit == "F" else None
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    await response.prepare(request)
    await response.write(f"device,probe,timestamp,temperature_{unit.lower()}\n".encode())
    store = request.app[STORE]
    device_cell = _csv_field(device)
    for name in probes:
        lines: list[str] = []
        async for reading in store.raw(device, name, start, end):
            value = reading.temperature if convert is None else convert(reading.temperature)
            lines.append(f"{device_cell},{_csv_field(name)},{iso(reading.timestamp)},{value!r}\n")
            if len(lines) >= 1000:  # written in chunks: memory stays flat on a year of data
                await response.write("".join(lines).encode())
                lines.clear()
        if lines:
            await response.write("".join(lines).encode())
    await response.write_eof()
    return response


@routes.get("/api/devices/{id}/events")
async def events(request: web.Request) -> web.Response:
    return web.json_response(await events_answer(request, await device_of(request)))


async def events_answer(request: web.Request, record: DeviceRecord) -> list[dict[str, Any]]:
    """What ``GET /api/devices/{id}/events`` answers for ``record``."""
    start, end = time_range(request)
    found = await request.app[STORE].events(record.id, start, end)
    answer = [event_json(e) for e in found]
    auth = request.app[AUTH]
    if not auth.sees_details(auth.request_user(request)):
        answer = [public_event(e) for e in answer]
    return answer


def media_json(media: MediaInfo) -> dict[str, Any]:
    return {
        "id": media.id,
        "kind": str(media.kind),
        "timestamp": iso(media.timestamp),
        "content_type": media.content_type,
        "size": media.size,
        "url": f"/api/devices/{media.device}/media/{media.id}",
    }


@routes.get("/api/devices/{id}/media")
async def media_list(request: web.Request) -> web.Response:
    return web.json_response(await media_answer(request, await device_of(request)))


async def media_answer(request: web.Request, record: DeviceRecord) -> list[dict[str, Any]]:
    """What ``GET /api/devices/{id}/media`` answers for ``record``."""
    start, end = time_range(request)
    found = await request.app[STORE].media(record.id, start, end)
    return [media_json(m) for m in found]


@routes.get("/api/devices/{id}/media/{media_id}")
async def media_file(request: web.Request) -> web.StreamResponse:
    record = await device_of(request)
    media_id = check_id(request.match_info["media_id"], "media id")
    path, content_type = await request.app[MEDIA].get(record.id, media_id)
    headers = {"Content-Type": content_type, "Content-Security-Policy": MEDIA_CSP}
    if not content_type.startswith("image/"):
        # Videos download; only photos are shown inline.
        headers["Content-Disposition"] = f'attachment; filename="{media_id}.mp4"'
    return web.FileResponse(path, headers=headers)
