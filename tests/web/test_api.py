"""API errors and auth against the real service (SQLite) on 127.0.0.1, no daemon linked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.web.service import (
    API_TOKEN,
    LOGIN,
    PASSWORD,
    USER,
    RunningService,
    running_service,
    web_config,
)
from web_extras.auth import COOKIE, hash_password, verify_password
from web_extras.store import Event, EventKind, MediaInfo, MediaKind, StoredReading

DEVICE = "beerpi-test"
NOW = datetime.now(UTC).replace(microsecond=0)

# Every control endpoint: (method, path, body).
CONTROL = [
    ("POST", f"/api/devices/{DEVICE}/photo", None),
    ("POST", f"/api/devices/{DEVICE}/video", {"seconds": 2}),
    ("POST", f"/api/devices/{DEVICE}/relays/heater", {"on": True}),
    ("POST", f"/api/devices/{DEVICE}/thermostat", {"mode": "heat", "target": 20}),
    (
        "PUT",
        f"/api/devices/{DEVICE}/profile",
        {"steps": [{"kind": "hold", "target": 18, "days": 1}]},
    ),
    ("DELETE", f"/api/devices/{DEVICE}/profile", None),
    ("POST", f"/api/devices/{DEVICE}/profile/pause", None),
    ("POST", f"/api/devices/{DEVICE}/profile/resume", None),
    ("POST", f"/api/devices/{DEVICE}/profile/skip", {"step": 0}),
    ("POST", "/camera/photo", {"take": "photo", "device": DEVICE}),
    ("POST", "/camera/video", {"take": "video", "device": DEVICE, "seconds": 2}),
    ("POST", "/api/logout", None),
]
READS = [
    "/api/devices",
    f"/api/devices/{DEVICE}",
    f"/api/devices/{DEVICE}/readings",
    f"/api/devices/{DEVICE}/readings.csv",
    f"/api/devices/{DEVICE}/readings/span",
    f"/api/devices/{DEVICE}/events",
    f"/api/devices/{DEVICE}/media",
]


async def seed(service: RunningService) -> None:
    store = service.store
    await store.add_readings(
        StoredReading(DEVICE, probe, NOW - timedelta(minutes=m), 20.0 + m / 10)
        for probe in ("beer", "fridge")
        for m in range(1, 61)
    )
    await store.add_event(Event(DEVICE, NOW - timedelta(minutes=5), EventKind.RELAY, {"on": True}))
    await store.add_media(
        MediaInfo(
            DEVICE, "photo-1", NOW - timedelta(minutes=3), MediaKind.PHOTO, "image/jpeg", 10, "/x"
        )
    )
    await service.hub.load_known()


@pytest.fixture
async def secured(secured: RunningService) -> RunningService:
    """tests/web/conftest.py's secured service, with a device's hour of data (seed)."""
    await seed(secured)
    return secured


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield http


async def send(
    http: aiohttp.ClientSession,
    service: RunningService,
    method: str,
    path: str,
    body: Any,
    **kw: Any,
) -> tuple[int, Any]:
    async with http.request(method, service.url + path, json=body, **kw) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


@pytest.mark.parametrize(("method", "path", "body"), CONTROL)
@pytest.mark.parametrize("header", [None, "Bearer wrong-token-xxxx", "Basic YnJld2VyOng="])
async def test_control_needs_a_credential(
    secured: RunningService,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    body: Any,
    header: str | None,
) -> None:
    headers = {} if header is None else {"Authorization": header}
    status, answer = await send(session, secured, method, path, body, headers=headers)
    assert status == 401
    assert answer["error"] == "unauthorized"
    assert answer["message"]


@pytest.mark.parametrize(("method", "path", "body"), CONTROL[:-1])
async def test_control_with_token_reaches_the_hub(
    secured: RunningService, session: aiohttp.ClientSession, method: str, path: str, body: Any
) -> None:
    """Authorized, valid, but no daemon is linked: 503 device_offline."""
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    status, answer = await send(session, secured, method, path, body, headers=headers)
    assert (status, answer["error"]) == (503, "device_offline")
    assert DEVICE in answer["message"]


async def test_forged_session_cookie_is_refused(
    secured: RunningService, session: aiohttp.ClientSession
) -> None:
    cookie = secured.app[__import__("web_extras.keys").keys.AUTH].make_session(USER)
    tampered = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
    status, _ = await send(
        session, secured, "GET", "/api/devices", None, cookies={COOKIE: tampered}
    )
    assert status == 401
    status, _ = await send(session, secured, "GET", "/api/devices", None, cookies={COOKIE: cookie})
    assert status == 200


@pytest.mark.parametrize("path", READS)
async def test_reads_need_login_unless_public(
    secured: RunningService, session: aiohttp.ClientSession, path: str
) -> None:
    status, answer = await send(session, secured, "GET", path, None)
    assert status == 401
    assert answer["error"] == "unauthorized"
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    status, _ = await send(session, secured, "GET", path, None, headers=headers)
    assert status == 200


async def test_public_read(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    """Readings and state are public; photos and videos still need a login (issue 14)."""
    config = web_config(tmp_path, api_token=API_TOKEN, public_read=True)
    async with running_service(config) as service:
        await seed(service)
        for path in READS:
            status, _ = await send(session, service, "GET", path, None)
            assert status == (401 if path.endswith("/media") else 200), path
        status, _ = await send(session, service, "POST", f"/api/devices/{DEVICE}/photo", None)
        assert status == 401


async def test_login_logout_session(
    secured: RunningService, session: aiohttp.ClientSession
) -> None:
    status, answer = await send(session, secured, "GET", "/api/session", None)
    assert (status, answer) == (200, {"authenticated": False, "login_required": True, "user": None})
    for body in (
        {"username": USER, "password": "wrong"},
        {"username": "x", "password": PASSWORD},
    ):
        status, answer = await send(session, secured, "POST", "/api/login", body)
        assert (status, answer["error"]) == (401, "unauthorized")
    status, answer = await send(session, secured, "POST", "/api/login", {"username": 1})
    assert (status, answer["error"]) == (400, "invalid_argument")
    async with session.post(secured.url + "/api/login", json=LOGIN) as response:
        assert response.status == 200
        set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie
    status, answer = await send(session, secured, "GET", "/api/session", None)
    assert answer == {"authenticated": True, "login_required": True, "user": USER}
    status, _ = await send(session, secured, "GET", "/api/devices", None)
    assert status == 200
    # A session is as good as the token for control.
    status, answer = await send(
        session, secured, "POST", f"/api/devices/{DEVICE}/relays/heater", {"on": False}
    )
    assert (status, answer["error"]) == (503, "device_offline")
    status, _ = await send(session, secured, "POST", "/api/logout", None)
    assert status == 200
    status, _ = await send(session, secured, "GET", "/api/devices", None)
    assert status == 401


BAD_BODIES = [
    ("POST", f"/api/devices/{DEVICE}/relays/heater", {"on": "yes"}),
    ("POST", f"/api/devices/{DEVICE}/relays/heater", {}),
    ("POST", f"/api/devices/{DEVICE}/relays/heater", [True]),
    ("POST", f"/api/devices/{DEVICE}/thermostat", {}),
    ("POST", f"/api/devices/{DEVICE}/thermostat", {"mode": "warm"}),
    ("POST", f"/api/devices/{DEVICE}/thermostat", {"target": "20"}),
    ("POST", f"/api/devices/{DEVICE}/thermostat", {"target": 68, "unit": "K"}),
    ("PUT", f"/api/devices/{DEVICE}/profile", {"unit": "kelvin", "steps": []}),
    ("POST", f"/api/devices/{DEVICE}/video", {"seconds": -1}),
    ("PUT", f"/api/devices/{DEVICE}/profile", {"name": "no steps"}),
    ("POST", f"/api/devices/{DEVICE}/profile/skip", {"step": -1}),
    ("POST", f"/api/devices/{DEVICE}/profile/skip", {"step": "2"}),
    ("POST", f"/api/devices/{DEVICE}/profile/pause", [1]),
    ("POST", "/camera/video", {"device": 5}),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_BODIES)
async def test_bad_input_is_400(
    secured: RunningService, session: aiohttp.ClientSession, method: str, path: str, body: Any
) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    status, answer = await send(session, secured, method, path, body, headers=headers)
    assert status == 400, answer
    assert answer["error"] == "invalid_argument"
    assert answer["message"]


async def test_not_json_is_400(secured: RunningService, session: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    async with session.post(
        secured.url + f"/api/devices/{DEVICE}/relays/heater", data=b"{nope", headers=headers
    ) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "invalid_argument"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/devices/nobody", None),
        ("GET", "/api/devices/nobody/readings", None),
        ("GET", "/api/devices/nobody/readings.csv", None),
        ("GET", "/api/devices/nobody/events", None),
        ("GET", "/api/devices/nobody/media", None),
        ("GET", "/api/devices/nobody/media/photo-1", None),
        ("POST", "/api/devices/nobody/photo", None),
        ("POST", "/api/devices/nobody/relays/heater", {"on": True}),
        ("PUT", "/api/devices/nobody/profile", {"steps": []}),
        ("DELETE", "/api/devices/nobody/profile", None),
        ("POST", "/api/devices/nobody/profile/pause", None),
        ("POST", "/api/devices/nobody/profile/skip", None),
        ("POST", "/camera/photo", {"device": "nobody"}),
        ("POST", "/camera/flash", None),
        ("GET", "/api/no/such/route", None),
    ],
)
async def test_unknown_is_404(
    secured: RunningService, session: aiohttp.ClientSession, method: str, path: str, body: Any
) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    status, answer = await send(session, secured, method, path, body, headers=headers)
    assert status == 404, answer
    assert set(answer) == {"error", "message"}


@pytest.mark.parametrize(
    "query",
    [
        "buckets=0",
        "buckets=5001",
        "buckets=ten",
        "start=yesterday",
        "start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z",
    ],
)
async def test_bad_range_is_400(
    secured: RunningService, session: aiohttp.ClientSession, query: str
) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    status, answer = await send(
        session, secured, "GET", f"/api/devices/{DEVICE}/readings?{query}", None, headers=headers
    )
    assert (status, answer["error"]) == (400, "invalid_argument")


async def test_csv_export_names_its_unit_and_gives_fahrenheit_when_asked(
    secured: RunningService, session: aiohttp.ClientSession
) -> None:
    """A spreadsheet opened weeks later must say what its numbers are: the header
    names the unit, °C by default (as stored) and °F when the brewer asks."""
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    # A probe reads in 1/16 °C: each such step is exactly 0.1125 °F.
    at = NOW - timedelta(minutes=90)
    await secured.store.add_readings(
        [
            StoredReading(DEVICE, "probe16", at, 20.0625),
            StoredReading(DEVICE, "probe16", at + timedelta(minutes=1), -1.5),
        ]
    )
    path = f"/api/devices/{DEVICE}/readings.csv?probe=probe16"

    def rows(text: str) -> list[list[str]]:
        return [line.split(",") for line in text.strip().splitlines()]

    for query in ("", "&unit=C"):
        status, text = await send(session, secured, "GET", path + query, None, headers=headers)
        assert status == 200, text
        header, *values = rows(text)
        assert header == ["device", "probe", "timestamp", "temperature_c"]
        assert [v[3] for v in values] == ["20.0625", "-1.5"]
    status, text = await send(session, secured, "GET", path + "&unit=F", None, headers=headers)
    assert status == 200, text
    header, *values = rows(text)
    assert header == ["device", "probe", "timestamp", "temperature_f"]
    assert [v[3] for v in values] == ["68.1125", "29.3"]
    status, answer = await send(session, secured, "GET", path + "&unit=K", None, headers=headers)
    assert (status, answer["error"]) == (400, "invalid_argument")
    assert '"C" or "F"' in answer["message"]


# Long on purpose: one user story told end to end (the steps depend on each other); splitting it
# would hide the story.
async def test_history_reads(secured: RunningService, session: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    start = (NOW - timedelta(hours=2)).isoformat()
    end = NOW.isoformat()
    _, one = await send(
        session,
        secured,
        "GET",
        f"/api/devices/{DEVICE}/readings?probe=beer&buckets=6&start={start}&end={end}".replace(
            "+", "%2B"
        ),
        None,
        headers=headers,
    )
    assert set(one) == {"device", "probe", "start", "end", "buckets"}
    assert sum(b["count"] for b in one["buckets"]) == 60
    assert set(one["buckets"][0]) == {"start", "end", "min", "mean", "max", "count"}
    _, every = await send(
        session, secured, "GET", f"/api/devices/{DEVICE}/readings", None, headers=headers
    )
    assert set(every["probes"]) == {"beer", "fridge"}
    assert "probe" not in every
    status, csv = await send(
        session,
        secured,
        "GET",
        f"/api/devices/{DEVICE}/readings.csv?probe=beer",
        None,
        headers=headers,
    )
    lines = csv.strip().splitlines()
    assert lines[0] == "device,probe,timestamp,temperature_c"
    assert len(lines) == 61
    assert lines[1].startswith(f"{DEVICE},beer,")
    _, events = await send(
        session, secured, "GET", f"/api/devices/{DEVICE}/events", None, headers=headers
    )
    assert events == [
        {
            "timestamp": (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "kind": "relay",
            "data": {"on": True},
        }
    ]
    _, media = await send(
        session, secured, "GET", f"/api/devices/{DEVICE}/media", None, headers=headers
    )
    assert media[0]["url"] == f"/api/devices/{DEVICE}/media/photo-1"
    assert set(media[0]) == {"id", "kind", "timestamp", "content_type", "size", "url"}
    # Not cached and the device is offline.
    status, answer = await send(session, secured, "GET", media[0]["url"], None, headers=headers)
    assert (status, answer["error"]) == (503, "device_offline")
    status, answer = await send(
        session, secured, "GET", f"/api/devices/{DEVICE}/media/..%2Fsecret", None, headers=headers
    )
    assert status in (400, 404)
    _, devices = await send(session, secured, "GET", "/api/devices", None, headers=headers)
    assert devices == [
        {
            "id": DEVICE,
            "name": DEVICE,
            "model": "",
            "online": False,
            "last_seen": None,
            "device": None,
            "state": None,
        }
    ]


async def test_health_and_openapi_are_public(
    secured: RunningService, session: aiohttp.ClientSession
) -> None:
    status, health = await send(session, secured, "GET", "/health", None)
    assert status == 200
    assert health["status"] == "ok"
    status, spec = await send(session, secured, "GET", "/api/openapi.json", None)
    assert status == 200
    assert spec["openapi"].startswith("3.")
    routes = {
        (method, info.resource.canonical)
        for info in secured.app.router.routes()
        if info.resource is not None
        and info.resource.canonical.startswith(("/api/", "/camera/", "/health"))
        for method in [info.method]
        if method != "HEAD"
    }
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert routes == documented


def test_password_hash_round_trip() -> None:
    encoded = hash_password("hops")
    assert encoded.startswith("scrypt$")
    assert "hops" not in encoded
    assert verify_password("hops", encoded)
    assert not verify_password("malt", encoded)
    assert not verify_password("hops", "plain")
