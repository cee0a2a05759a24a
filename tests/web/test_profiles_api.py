"""Saved profiles over the JSON API, against the real service (SQLite) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.web.service import (
    API_TOKEN,
    RunningService,
    live_client,
    running_service,
    wait_until,
    web_config,
)
from tests.web.test_api import secured, send, session  # noqa: F401
from web_extras.store.profiles import MAX_SAVED_PROFILES

TOKEN = {"Authorization": f"Bearer {API_TOKEN}"}
ALE = {
    "name": "House ale",
    "steps": [
        {"kind": "hold", "target": 19, "days": 4},
        {"kind": "ramp", "target": 21, "hours": 24},
        {"kind": "hold", "target": 21, "hours": 72, "until_sg": 1.012},
    ],
}


async def call(
    http: aiohttp.ClientSession, service: RunningService, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    return await send(http, service, method, path, body, headers=TOKEN)


async def test_save_list_rename_replace_delete(
    secured: RunningService,  # noqa: F811
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    status, made = await call(session, secured, "POST", "/api/profiles", ALE)
    assert status == 201, made
    pid = made["id"]
    # Days become hours; the gravity end is kept.
    assert made["steps"] == [
        {"kind": "hold", "target": 19.0, "hours": 96.0},
        {"kind": "ramp", "target": 21.0, "hours": 24.0},
        {"kind": "hold", "target": 21.0, "hours": 72.0, "until_sg": 1.012},
    ]
    status, listed = await call(session, secured, "GET", "/api/profiles")
    assert (status, listed) == (200, [made])

    status, renamed = await call(session, secured, "PATCH", f"/api/profiles/{pid}", {"name": "Ale"})
    assert (status, renamed["name"], renamed["steps"]) == (200, "Ale", made["steps"])
    # Replaced in °F: kept (and answered) in °C.
    body = {"name": "Ale (F)", "unit": "F", "steps": [{"kind": "hold", "target": 64.4, "hours": 5}]}
    status, replaced = await call(session, secured, "PUT", f"/api/profiles/{pid}", body)
    assert status == 200, replaced
    assert replaced["steps"] == [{"kind": "hold", "target": 18.0, "hours": 5.0}]
    status, got = await call(session, secured, "GET", f"/api/profiles/{pid}")
    assert got == replaced

    status, _ = await call(session, secured, "DELETE", f"/api/profiles/{pid}")
    assert status == 204
    for method in ("GET", "DELETE", "PATCH"):
        status, answer = await call(session, secured, method, f"/api/profiles/{pid}", {"name": "x"})
        assert (status, answer["error"]) == (404, "unknown_profile"), method
    status, listed = await call(session, secured, "GET", "/api/profiles")
    assert listed == []


async def test_bad_profiles_get_the_daemons_error_and_nothing_is_stored(
    secured: RunningService,  # noqa: F811
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    status, made = await call(session, secured, "POST", "/api/profiles", ALE)
    pid = made["id"]
    step = {"kind": "hold", "target": 19, "hours": 1}
    bad: list[tuple[Any, str]] = [
        ({"name": "x", "steps": [{"kind": "ramp", "target": 19, "hours": 1}]}, "cannot be a ramp"),
        # A daemon's default range, -2 to 35 °C, as the README says.
        ({"name": "x", "steps": [{**step, "target": 36}]}, "target must be between -2 and 35 °C"),
        ({"name": "x", "steps": [{**step, "target": -2.5}]}, "steps[0].target must be between"),
        ({"name": "x", "unit": "F", "steps": [{**step, "target": 120}]}, "target must be between"),
        ({"name": "x", "steps": [{**step, "hours": 0}]}, "must be a positive number"),
        ({"name": "x", "steps": [{**step, "until_sg": 2.0}]}, "until_sg must be between"),
        ({"name": "x", "steps": [{**step, "colour": "red"}]}, "unknown fields: colour"),
        ({"name": "x", "steps": [step] * 51}, "at most 50"),
        ({"name": "x", "steps": []}, "must not be empty"),
        ({"name": "x", "steps": "hold 19"}, "steps must be a list"),
        ({"name": "", "steps": [step]}, "name must not be empty"),
        ({"name": "x" * 65, "steps": [step]}, "longer than 64"),
        ({"name": "a\u0000b", "steps": [step]}, "control characters"),
        ({"name": "x", "steps": [step], "unit": "K"}, "unit must be"),
        ({"name": "x", "steps": [step], "owner": "me"}, "unknown field 'owner'"),
        ([1, 2], "JSON object"),
    ]
    for body, message in bad:
        for method, path in (("POST", "/api/profiles"), ("PUT", f"/api/profiles/{pid}")):
            status, answer = await call(session, secured, method, path, body)
            assert status == 400, (body, answer)
            assert message in answer["message"], (message, answer)
    status, answer = await call(session, secured, "PATCH", f"/api/profiles/{pid}", {})
    assert status == 400
    status, listed = await call(session, secured, "GET", "/api/profiles")
    assert listed == [made]


async def test_names_are_unique_and_the_count_is_capped(
    secured: RunningService,  # noqa: F811
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    status, _ = await call(session, secured, "POST", "/api/profiles", ALE)
    assert status == 201
    status, answer = await call(session, secured, "POST", "/api/profiles", ALE)
    assert (status, answer["error"]) == (409, "profile_name_taken")
    status, other = await call(session, secured, "POST", "/api/profiles", {**ALE, "name": "B"})
    status, answer = await call(
        session, secured, "PATCH", f"/api/profiles/{other['id']}", {"name": "House ale"}
    )
    assert (status, answer["error"]) == (409, "profile_name_taken")
    assert MAX_SAVED_PROFILES == 200  # the README's number
    step = [{"kind": "hold", "target": 10, "hours": 1}]
    for i in range(MAX_SAVED_PROFILES - 2):
        status, _ = await call(
            session, secured, "POST", "/api/profiles", {"name": f"p{i}", "steps": step}
        )
        assert status == 201
    status, answer = await call(
        session, secured, "POST", "/api/profiles", {"name": "z", "steps": step}
    )
    assert (status, answer["error"]) == (409, "too_many_profiles")
    status, listed = await call(session, secured, "GET", "/api/profiles")
    assert len(listed) == MAX_SAVED_PROFILES


async def test_changes_need_a_credential_and_the_same_origin(
    secured: RunningService,  # noqa: F811
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    status, made = await call(session, secured, "POST", "/api/profiles", ALE)
    pid = made["id"]
    changes = [
        ("POST", "/api/profiles", {**ALE, "name": "Other"}),
        ("PUT", f"/api/profiles/{pid}", {**ALE, "name": "Hijacked"}),
        ("PATCH", f"/api/profiles/{pid}", {"name": "Hijacked"}),
        ("DELETE", f"/api/profiles/{pid}", None),
    ]
    for method, path, body in changes:
        for header in ({}, {"Authorization": "Bearer wrong-token-xxxx"}):
            status, answer = await send(session, secured, method, path, body, headers=header)
            assert (status, answer["error"]) == (401, "unauthorized"), (method, path)
        evil = {**TOKEN, "Origin": "http://evil.example"}
        status, answer = await send(session, secured, method, path, body, headers=evil)
        assert (status, answer["error"]) == (403, "cross_site"), (method, path)
        async with session.request(
            method,
            secured.url + path,
            data=json.dumps(body or {}),
            headers={**TOKEN, "Sec-Fetch-Site": "same-origin", "Content-Type": "text/plain"},
        ) as response:
            assert response.status == 415, (method, path)
    status, listed = await call(session, secured, "GET", "/api/profiles")
    assert listed == [made]
    status, _ = await send(session, secured, "GET", "/api/profiles", None)
    assert status == 401  # reads follow the read rules


async def test_every_change_is_pushed_to_open_pages(
    tmp_path: Path,
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    config = web_config(tmp_path, api_token=API_TOKEN, public_read=True)
    async with (
        running_service(config) as service,
        live_client(service.url, auth={"token": API_TOKEN}) as (_, brewer),
        live_client(service.url) as (_, public),
    ):

        def pushed(received: list[tuple[str, Any]]) -> list[dict[str, Any]]:
            return [data for event, data in received if event == "profile"]

        status, made = await call(session, service, "POST", "/api/profiles", ALE)
        pid = made["id"]
        status, renamed = await call(
            session, service, "PATCH", f"/api/profiles/{pid}", {"name": "Ale"}
        )
        await call(session, service, "DELETE", f"/api/profiles/{pid}")
        await wait_until(lambda: len(pushed(brewer)) == 3 and len(pushed(public)) == 3)
        assert pushed(brewer) == [{"profile": made}, {"profile": renamed}, {"deleted": pid}]
        assert pushed(public) == pushed(brewer)
        # A refused change pushes nothing.
        status, _ = await call(session, service, "POST", "/api/profiles", {"name": "x"})
        assert status == 400
        await asyncio.sleep(0.3)
        assert len(pushed(brewer)) == 3
