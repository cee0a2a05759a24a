"""Brew sessions over the JSON API: start, edit, end, notes, export.

Writes need a login like control (the auth and cross-site middlewares guard
every POST/PATCH under /api/). Every field a user types is checked here and
again by ``BrewSession``: a bad one is a 400 that names it, and nothing is
stored. Times default to the fermenter's clock (a simulated daemon runs fast),
so a session's span matches its readings.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from web_extras.errors import ApiError, bad_request, not_found
from web_extras.keys import AUTH, HUB, LIVE, STORE
from web_extras.store import BrewSession, SessionNote, SessionOpen
from web_extras.store.sessions import SESSION_ID
from web_extras.timefmt import iso, parse_iso

from .common import json_object
from .history import probes_of, stream_readings_csv

routes = web.RouteTableDef()

# A session may be entered a little ahead (brew day tomorrow), not years ahead.
MAX_AHEAD = timedelta(days=1)
_EDITABLE = ("name", "style", "yeast", "og", "fg", "start", "end")
_NEW = ("device", "notes", *_EDITABLE)


def session_json(session: BrewSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "device": session.device,
        "name": session.name,
        "style": session.style,
        "yeast": session.yeast,
        "og": session.og,
        "fg": session.fg,
        "start": iso(session.start),
        "end": None if session.end is None else iso(session.end),
        "running": session.running,
        "notes": [{"timestamp": iso(n.timestamp), "text": n.text} for n in session.notes],
    }


def _for_reader(request: web.Request, session: BrewSession) -> dict[str, Any]:
    """A public reader (``public_read`` without a login) sees the beer, not the notes."""
    auth = request.app[AUTH]
    answer = session_json(session)
    if not auth.sees_details(auth.request_user(request)):
        answer["notes"] = []
    return answer


def _time(body: dict[str, Any], key: str, device_now: datetime) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise bad_request(f"{key} must be an ISO 8601 time")
    try:
        when = parse_iso(value)
    except ValueError:
        raise bad_request(f"{key} must be an ISO 8601 time, got {value[:40]!r}") from None
    if when > device_now + MAX_AHEAD:
        raise bad_request(f"{key} is more than a day in the future")
    return when


def _unknown_keys(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    extra = sorted(k for k in body if k not in allowed)
    if extra:
        raise bad_request(f"unknown field {extra[0][:40]!r}; allowed: {', '.join(allowed)}")


def _build(**fields: Any) -> BrewSession:
    try:
        return BrewSession(**fields)
    except ValueError as err:
        raise bad_request(str(err)) from None


async def _session_of(request: web.Request) -> BrewSession:
    sid = request.match_info["session_id"]
    found = None
    if SESSION_ID.fullmatch(sid):
        found = await request.app[STORE].get_session(sid)
    if found is None:
        raise not_found(f"no brew session {sid[:40]!r}", "unknown_session")
    return found


def _open_conflict(err: SessionOpen) -> ApiError:
    return ApiError(409, "session_running", str(err))


@routes.get("/api/sessions")
async def list_sessions(request: web.Request) -> web.Response:
    device = request.query.get("device") or None
    found = await request.app[STORE].sessions(device)
    return web.json_response([_for_reader(request, s) for s in found])


@routes.post("/api/sessions")
async def start_session(request: web.Request) -> web.Response:
    body = await json_object(request)
    _unknown_keys(body, _NEW)
    device = body.get("device")
    if not isinstance(device, str) or not device:
        raise bad_request("device must be a fermenter's id")
    record = await request.app[HUB].get(device[:200])
    device_now = request.app[HUB].device_time(record.id)
    notes = body.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise bad_request("notes must be a list of strings")
    try:
        note_list = tuple(SessionNote(device_now, text) for text in notes)
    except ValueError as err:
        raise bad_request(str(err)) from None
    session = _build(
        id=secrets.token_hex(8),
        device=record.id,
        name=body.get("name"),
        start=_time(body, "start", device_now) or device_now,
        end=_time(body, "end", device_now),
        style=body.get("style", ""),
        yeast=body.get("yeast", ""),
        og=body.get("og"),
        fg=body.get("fg"),
        notes=note_list,
    )
    try:
        await request.app[STORE].start_session(session)
    except SessionOpen as err:
        raise _open_conflict(err) from None
    return await _changed(request, session, status=201)


@routes.get("/api/sessions/{session_id}")
async def get_session(request: web.Request) -> web.Response:
    return web.json_response(_for_reader(request, await _session_of(request)))


@routes.patch("/api/sessions/{session_id}")
async def edit_session(request: web.Request) -> web.Response:
    stored = await _session_of(request)
    body = await json_object(request)
    _unknown_keys(body, _EDITABLE)
    if not body:
        raise bad_request(f"give at least one of {', '.join(_EDITABLE)}")
    if "end" in body and body["end"] is None and stored.end is not None:
        raise bad_request("an ended session stays ended; start a new one instead")
    device_now = request.app[HUB].device_time(stored.device)
    fields: dict[str, Any] = {
        "id": stored.id,
        "device": stored.device,
        "name": body.get("name", stored.name),
        "style": body.get("style", stored.style),
        "yeast": body.get("yeast", stored.yeast),
        "og": body.get("og", stored.og),
        "fg": body.get("fg", stored.fg),
        "start": _time(body, "start", device_now) or stored.start,
        "end": _time(body, "end", device_now) or stored.end,
    }
    return await _save(request, _build(**fields))


async def _save(request: web.Request, session: BrewSession) -> web.Response:
    try:
        saved = await request.app[STORE].update_session(session)
    except ValueError as err:
        raise bad_request(str(err)) from None
    if saved is None:
        raise not_found(f"no brew session {session.id!r}", "unknown_session")
    return await _changed(request, saved)


async def _changed(request: web.Request, session: BrewSession, status: int = 200) -> web.Response:
    """The answer to the writer, and the same session pushed to every open page."""
    answer = session_json(session)
    await request.app[LIVE].session_changed(answer)
    return web.json_response(answer, status=status)


@routes.post("/api/sessions/{session_id}/end")
async def end_session(request: web.Request) -> web.Response:
    stored = await _session_of(request)
    body = await json_object(request, optional=True)
    _unknown_keys(body, ("end",))
    if stored.end is not None:
        raise ApiError(409, "session_ended", f"session {stored.id} ended at {iso(stored.end)}")
    device_now = request.app[HUB].device_time(stored.device)
    end = _time(body, "end", device_now) or device_now
    fields = {f: getattr(stored, f) for f in ("id", "device", "name", "style", "yeast", "og")}
    return await _save(request, _build(**fields, fg=stored.fg, start=stored.start, end=end))


@routes.post("/api/sessions/{session_id}/notes")
async def add_note(request: web.Request) -> web.Response:
    stored = await _session_of(request)
    body = await json_object(request)
    _unknown_keys(body, ("text", "timestamp"))
    device_now = request.app[HUB].device_time(stored.device)
    if not isinstance(body.get("text"), str):
        raise bad_request("text must be a string")
    try:
        note = SessionNote(_time(body, "timestamp", device_now) or device_now, body["text"])
    except ValueError as err:
        raise bad_request(str(err)) from None
    try:
        saved = await request.app[STORE].add_session_note(stored.id, note)
    except ValueError as err:
        raise ApiError(409, "too_many_notes", str(err)) from None
    if saved is None:
        raise not_found(f"no brew session {stored.id!r}", "unknown_session")
    return await _changed(request, saved, status=201)


def _span(request: web.Request, session: BrewSession) -> tuple[datetime, datetime]:
    """The session's readings: from its start to its end, or to now while it runs."""
    if session.end is not None:
        return session.start, session.end
    now = request.app[HUB].device_time(session.device)
    return session.start, max(now, session.start + timedelta(milliseconds=1))


@routes.get("/api/sessions/{session_id}/readings.csv")
async def session_csv(request: web.Request) -> web.StreamResponse:
    session = await _session_of(request)
    start, end = _span(request, session)
    probes = await probes_of(request, session.device)
    filename = f"session-{session.id}-readings.csv"
    return await stream_readings_csv(request, session.device, probes, start, end, filename)


@routes.get("/api/sessions/{session_id}/export.json")
async def session_export(request: web.Request) -> web.StreamResponse:
    """The session and its raw readings, streamed: memory stays flat on a long batch."""
    session = await _session_of(request)
    start, end = _span(request, session)
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="session-{session.id}.json"',
        }
    )
    await response.prepare(request)
    head = json.dumps(_for_reader(request, session))
    await response.write(f'{{"session": {head}, "readings": {{'.encode())
    store = request.app[STORE]
    for index, probe in enumerate(await probes_of(request, session.device)):
        head = ", " if index else ""
        await response.write(f"{head}{json.dumps(probe)}: [".encode())
        rows: list[str] = []
        sep = ""
        async for reading in store.raw(session.device, probe, start, end):
            row = {"timestamp": iso(reading.timestamp), "temperature": reading.temperature}
            rows.append(json.dumps(row))
            if len(rows) >= 1000:
                await response.write((sep + ", ".join(rows)).encode())
                rows.clear()
                sep = ", "
        await response.write(((sep if rows else "") + ", ".join(rows) + "]").encode())
    await response.write(b"}}")
    await response.write_eof()
    return response
