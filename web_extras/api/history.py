"""History: downsampled readings, CSV export, events, media."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from web_extras.keys import AUTH, MEDIA, STORE
from web_extras.live import event_json
from web_extras.media import check_id
from web_extras.publicview import public_event
from web_extras.security import MEDIA_CSP
from web_extras.store import Bucket, MediaInfo
from web_extras.timefmt import iso

from .common import device_of, int_param, time_range

routes = web.RouteTableDef()

DEFAULT_BUCKETS = 500
MAX_BUCKETS = 5000
# The CSV export defaults to the whole history: it is how people take their data out.
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_json(bucket: Bucket) -> dict[str, Any]:
    return {
        "start": iso(bucket.start),
        "end": iso(bucket.end),
        "min": bucket.min,
        "mean": bucket.mean,
        "max": bucket.max,
        "count": bucket.count,
    }


async def _probes(request: web.Request, device: str) -> list[str]:
    record = await device_of(request)
    known = {p.id for p in record.info.probes} if record.info else set()
    known.update(await request.app[STORE].probes(device))
    return sorted(known)


@routes.get("/api/devices/{id}/readings")
async def readings(request: web.Request) -> web.Response:
    record = await device_of(request)
    start, end = time_range(request)
    buckets = int_param(request, "buckets", DEFAULT_BUCKETS, 1, MAX_BUCKETS)
    store = request.app[STORE]
    head = {"device": record.id, "start": iso(start), "end": iso(end)}
    probe = request.query.get("probe")
    if probe:
        series = await store.series(record.id, probe, start, end, buckets)
        return web.json_response(
            {**head, "probe": probe, "buckets": [bucket_json(b) for b in series]}
        )
    probes: dict[str, list[dict[str, Any]]] = {}
    for name in await _probes(request, record.id):
        series = await store.series(record.id, name, start, end, buckets)
        probes[name] = [bucket_json(b) for b in series]
    return web.json_response({**head, "probes": probes})


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
    probes = [probe] if probe else await _probes(request, record.id)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{check_id(record.id, "device")}'
            '-readings.csv"',
        }
    )
    await response.prepare(request)
    await response.write(b"device,probe,timestamp,temperature\n")
    store = request.app[STORE]
    device = _csv_field(record.id)
    for name in probes:
        lines: list[str] = []
        async for reading in store.raw(record.id, name, start, end):
            lines.append(
                f"{device},{_csv_field(name)},{iso(reading.timestamp)},{reading.temperature!r}\n"
            )
            if len(lines) >= 1000:  # written in chunks: memory stays flat on a year of data
                await response.write("".join(lines).encode())
                lines.clear()
        if lines:
            await response.write("".join(lines).encode())
    await response.write_eof()
    return response


@routes.get("/api/devices/{id}/events")
async def events(request: web.Request) -> web.Response:
    record = await device_of(request)
    start, end = time_range(request)
    found = await request.app[STORE].events(record.id, start, end)
    answer = [event_json(e) for e in found]
    auth = request.app[AUTH]
    if not auth.sees_details(auth.request_user(request)):
        answer = [public_event(e) for e in answer]
    return web.json_response(answer)


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
    record = await device_of(request)
    start, end = time_range(request)
    found = await request.app[STORE].media(record.id, start, end)
    return web.json_response([media_json(m) for m in found])


@routes.get("/api/devices/{id}/media/{media_id}")
async def media_file(request: web.Request) -> web.StreamResponse:
    record = await device_of(request)
    media_id = check_id(request.match_info["media_id"], "media id")
    path, content_type = await request.app[MEDIA].get(record.id, media_id)
    headers = {"Content-Type": content_type, "Content-Security-Policy": MEDIA_CSP}
    if not content_type.startswith("image/"):
        # Videos download; only photos are shown inline.
        extension = {"video/mp4": "mp4", "video/h264": "h264"}.get(content_type, "avi")
        headers["Content-Disposition"] = f'attachment; filename="{media_id}.{extension}"'
    return web.FileResponse(path, headers=headers)
