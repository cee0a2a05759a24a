"""Brew sessions over the JSON API, against the real service (SQLite) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.web.service import (
    API_TOKEN,
    LOGIN,
    RunningService,
    live_client,
    running_service,
    wait_until,
    web_config,
)
from tests.web.test_api import DEVICE, NOW, secured, send, session  # noqa: F401
from web_extras.store import StoredReading

TOKEN = {"Authorization": f"Bearer {API_TOKEN}"}
PALE = {"device": DEVICE, "name": "Pale Ale", "style": "APA", "yeast": "US-05", "og": 1.052}


async def call(
    http: aiohttp.ClientSession,
    service: RunningService,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    return await send(http, service, method, path, body, headers=headers or TOKEN)


async def start(http: aiohttp.ClientSession, service: RunningService, **fields: Any) -> Any:
    status, answer = await call(http, service, "POST", "/api/sessions", {**PALE, **fields})
    assert status == 201, answer
    return answer


async def test_a_session_from_start_to_end(
    secured: RunningService,  # noqa: F811
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    first = await start(session, secured, start=(NOW - timedelta(hours=2)).isoformat())
    assert first["running"] is True
    assert (first["name"], first["style"], first["og"], first["end"]) == (
        "Pale Ale",
        "APA",
        1.052,
        None,
    )
    # One running session per fermenter: a second one is a clear 409, nothing stored.
    status, answer = await call(session, secured, "POST", "/api/sessions", {**PALE, "name": "X"})
    assert (status, answer["error"]) == (409, "session_running")
    assert first["id"] in answer["message"]
    status, listed = await call(session, secured, "GET", f"/api/sessions?device={DEVICE}")
    assert [s["name"] for s in listed] == ["Pale Ale"]

    sid = first["id"]
    status, noted = await call(
        session, secured, "POST", f"/api/sessions/{sid}/notes", {"text": "Krausen\nup"}
    )
    assert status == 201
    assert [n["text"] for n in noted["notes"]] == ["Krausen\nup"]
    status, edited = await call(
        session, secured, "PATCH", f"/api/sessions/{sid}", {"fg": 1.011, "name": "Pale Ale #1"}
    )
    assert status == 200
    assert (edited["fg"], edited["name"], len(edited["notes"])) == (1.011, "Pale Ale #1", 1)

    status, ended = await call(session, secured, "POST", f"/api/sessions/{sid}/end")
    assert status == 200
    assert ended["running"] is False
    assert ended["end"] is not None
    status, answer = await call(session, secured, "POST", f"/api/sessions/{sid}/end")
    assert (status, answer["error"]) == (409, "session_ended")
    status, answer = await call(session, secured, "PATCH", f"/api/sessions/{sid}", {"end": None})
    assert status == 400
    # The fermenter is free again.
    second = await start(session, secured, name="Stout", og=1.070)
    status, listed = await call(session, secured, "GET", "/api/sessions")
    assert [s["id"] for s in listed] == [second["id"], sid]
    status, got = await call(session, secured, "GET", f"/api/sessions/{sid}")
    assert got == ended | {"end": ended["end"]}


BAD = [
    ({"name": ""}, "name must not be empty"),
    ({"name": "x" * 101}, "longer than 100"),
    ({"name": 5}, "name must be a string"),
    ({"style": "IPA\u0000"}, "control characters"),
    ({"og": "1.050"}, "og must be a number"),
    ({"og": 1.9}, "between"),
    ({"start": "yesterday"}, "ISO 8601"),
    ({"start": "2999-01-01T00:00:00Z"}, "future"),
    ({"start": "2024-01-02T00:00:00Z", "end": "2024-01-01T00:00:00Z"}, "after start"),
    ({"device": "no-such-fermenter"}, "unknown device"),
    ({"device": 7}, "device must be"),
    ({"colour": "amber"}, "unknown field"),
    ({"notes": ["ok", "x" * 2001]}, "longer than 2000"),
]


@pytest.mark.parametrize(("fields", "message"), BAD)
async def test_bad_input_is_a_clear_error_and_stores_nothing(
    secured: RunningService,  # noqa: F811
    session: aiohttp.ClientSession,  # noqa: F811
    fields: dict[str, Any],
    message: str,
) -> None:
    status, answer = await call(session, secured, "POST", "/api/sessions", {**PALE, **fields})
    assert status in (400, 404), answer
    assert message in answer["message"]
    assert await secured.store.sessions() == []


async def test_a_lone_surrogate_is_a_400_not_a_500(
    secured: RunningService,  # noqa: F811
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    # A JSON escape for half a surrogate pair: valid JSON, no UTF-8 for it.
    raw = '{"device": "' + DEVICE + '", "name": "Pale \\ud800 Ale"}'
    async with session.post(
        secured.url + "/api/sessions",
        data=raw,
        headers={**TOKEN, "Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
        assert "control characters" in (await response.json())["message"]
    assert await secured.store.sessions() == []


async def test_bad_edits_and_notes_change_nothing(
    secured: RunningService,  # noqa: F811
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    made = await start(session, secured)
    sid = made["id"]
    for body in ({"name": "\u0007"}, {"og": True}, {"start": "2999-01-01"}, {}, {"notes": []}):
        status, answer = await call(session, secured, "PATCH", f"/api/sessions/{sid}", body)
        assert status == 400, (body, answer)
    for body in ({"text": ""}, {"text": 3}, {"text": "x" * 2001}, {"text": "a", "timestamp": "x"}):
        status, _ = await call(session, secured, "POST", f"/api/sessions/{sid}/notes", body)
        assert status == 400, body
    status, got = await call(session, secured, "GET", f"/api/sessions/{sid}")
    assert got == made
    for path in ("/api/sessions/nope", "/api/sessions/0123456789abcdef"):
        status, answer = await call(session, secured, "GET", path)
        assert (status, answer["error"]) == (404, "unknown_session")


async def test_changes_need_a_credential_and_the_same_origin(
    secured: RunningService,  # noqa: F811
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    made = await start(session, secured)
    sid = made["id"]
    changes = [
        ("POST", "/api/sessions", {**PALE, "device": DEVICE}),
        ("PATCH", f"/api/sessions/{sid}", {"name": "Hijacked"}),
        ("POST", f"/api/sessions/{sid}/end", None),
        ("POST", f"/api/sessions/{sid}/notes", {"text": "hi"}),
    ]
    for method, path, body in changes:
        for header in ({}, {"Authorization": "Bearer wrong-token-xxxx"}):
            status, answer = await send(session, secured, method, path, body, headers=header)
            assert (status, answer["error"]) == (401, "unauthorized"), (method, path)
        # A page of another site, even with the credential: refused before the handler.
        evil = {**TOKEN, "Origin": "http://evil.example"}
        status, answer = await send(session, secured, method, path, body, headers=evil)
        assert (status, answer["error"]) == (403, "cross_site")
        # A browser form's content type is refused even from the same origin.
        async with session.request(
            method,
            secured.url + path,
            data=json.dumps(body or {}),
            headers={**TOKEN, "Sec-Fetch-Site": "same-origin", "Content-Type": "text/plain"},
        ) as response:
            assert response.status == 415
    status, got = await call(session, secured, "GET", f"/api/sessions/{sid}")
    assert got == made
    # Reads follow the read rules: no credential, no sessions.
    status, _ = await send(session, secured, "GET", "/api/sessions", None)
    assert status == 401
    # Logged in with the password (session cookie) works like the token.
    async with session.post(secured.url + "/api/login", json=LOGIN) as response:
        assert response.status == 200
    status, answer = await send(
        session, secured, "POST", f"/api/sessions/{sid}/notes", {"text": "by cookie"}, headers={}
    )
    assert status == 201, answer


async def test_exports_hold_the_sessions_span_only(
    secured: RunningService,  # noqa: F811
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    # The seed holds readings from NOW-60 min to NOW-1 min on beer and fridge.
    made = await start(
        session,
        secured,
        start=(NOW - timedelta(minutes=30)).isoformat(),
        end=(NOW - timedelta(minutes=10)).isoformat(),
    )
    await secured.store.add_readings(
        [StoredReading(DEVICE, "=HYPERLINK(1)", NOW - timedelta(minutes=20), 19.5)]
    )
    async with session.get(
        f"{secured.url}/api/sessions/{made['id']}/readings.csv", headers=TOKEN
    ) as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        assert f"session-{made['id']}" in response.headers["Content-Disposition"]
        text = await response.text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["device", "probe", "timestamp", "temperature_c"]
    # 20 minutes of readings per probe (start included, end not), plus the odd probe.
    assert sorted({r[1] for r in rows[1:]}) == ["'=HYPERLINK(1)", "beer", "fridge"]
    assert sum(r[1] == "beer" for r in rows[1:]) == 20
    assert "\n=HYPERLINK" not in text
    assert ",=HYPERLINK" not in text
    # Asked in °F (what a brewer who reads °F downloads): the header says so.
    async with session.get(
        f"{secured.url}/api/sessions/{made['id']}/readings.csv?unit=F", headers=TOKEN
    ) as response:
        assert response.status == 200
        fahrenheit = list(csv.reader(io.StringIO(await response.text())))
    assert fahrenheit[0] == ["device", "probe", "timestamp", "temperature_f"]
    assert [r[3] for r in fahrenheit[1:] if r[1] == "'=HYPERLINK(1)"] == ["67.1"]
    assert len(fahrenheit) == len(rows)

    async with session.get(
        f"{secured.url}/api/sessions/{made['id']}/export.json", headers=TOKEN
    ) as response:
        assert response.status == 200
        exported = json.loads(await response.text())
    assert exported["session"] == made
    assert len(exported["readings"]["beer"]) == 20
    assert len(exported["readings"]["=HYPERLINK(1)"]) == 1
    first = exported["readings"]["beer"][0]
    assert first["timestamp"] == made["start"]


async def test_public_readers_see_the_beer_not_the_notes(
    tmp_path: Path,
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    config = web_config(tmp_path, api_token=API_TOKEN, public_read=True)
    async with running_service(config) as service:
        await service.store.add_readings([StoredReading(DEVICE, "beer", NOW, 19.0)])
        await service.hub.load_known()
        made = await start(session, service, notes=["private: recipe secret"])
        sid = made["id"]
        for path in ("/api/sessions", f"/api/sessions/{sid}", f"/api/sessions/{sid}/export.json"):
            async with session.get(service.url + path) as response:
                assert response.status == 200, path
                text = await response.text()
            assert "Pale Ale" in text
            assert "recipe secret" not in text, path
        status, answer = await call(session, service, "GET", f"/api/sessions/{sid}")
        assert [n["text"] for n in answer["notes"]] == ["private: recipe secret"]
        # Changing still needs the credential.
        status, _ = await send(session, service, "POST", f"/api/sessions/{sid}/end", None)
        assert status == 401


async def test_every_change_is_pushed_to_open_pages_public_ones_without_notes(
    tmp_path: Path,
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    """Another browser sees a start, an edit, a note and the end at once, over /live."""
    config = web_config(tmp_path, api_token=API_TOKEN, public_read=True)
    async with running_service(config) as service:
        await service.store.add_readings([StoredReading(DEVICE, "beer", NOW, 19.0)])
        await service.hub.load_known()
        async with (
            live_client(service.url, auth={"token": API_TOKEN}) as (_, brewer),
            live_client(service.url) as (_, public),
        ):

            def pushed(received: list[tuple[str, Any]]) -> list[dict[str, Any]]:
                return [data["session"] for event, data in received if event == "session"]

            made = await start(session, service)
            sid = made["id"]
            await call(session, service, "PATCH", f"/api/sessions/{sid}", {"name": "Citra Pale"})
            await call(session, service, "POST", f"/api/sessions/{sid}/notes", {"text": "secret"})
            await call(session, service, "POST", f"/api/sessions/{sid}/end")
            await wait_until(lambda: len(pushed(brewer)) == 4 and len(pushed(public)) == 4)
            full = pushed(brewer)
            assert [s["name"] for s in full] == [
                "Pale Ale",
                "Citra Pale",
                "Citra Pale",
                "Citra Pale",
            ]
            assert [s["running"] for s in full] == [True, True, True, False]
            assert [n["text"] for n in full[2]["notes"]] == ["secret"]
            # What was pushed is what the API answers for that reader.
            status, answer = await call(session, service, "GET", f"/api/sessions/{sid}")
            assert full[-1] == answer
            assert [s["notes"] for s in pushed(public)] == [[], [], [], []]
            assert [s["name"] for s in pushed(public)] == [s["name"] for s in full]
            # A refused change pushes nothing.
            before = len(pushed(brewer))
            status, _ = await call(session, service, "PATCH", f"/api/sessions/{sid}", {"og": 9})
            assert status == 400
            await asyncio.sleep(0.3)
            assert len(pushed(brewer)) == before
