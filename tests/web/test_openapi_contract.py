"""web_extras/openapi.json against the real service on 127.0.0.1: what it says a client gets.

Each test walks every operation of the document, so an operation added to the
document (or a route added to the service) is covered without editing the test:
every route is documented and every documented operation answers; the
operations that need a credential refuse without one; a browser page of another
origin, a body that is not JSON and a body over the size cap are refused with a
status the operation lists; the bounds the document states are the ones the
service enforces; the /live events the document lists are the ones it sends.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from beerpi_protocol.models import DeviceInfo, FaultInfo, MediaInfo, State
from tests.web.service import (
    API_TOKEN,
    LOGIN,
    RunningService,
    live_client,
    running_service,
    wait_until,
    web_config,
)
from web_extras import live
from web_extras.app import MAX_BODY_BYTES, create_app
from web_extras.auth import COOKIE
from web_extras.keys import LIVE
from web_extras.store import BrewSession, Event, EventKind, MediaKind, SessionNote, StoredReading
from web_extras.store import MediaInfo as StoredMedia
from web_extras.store.gravity import GravityReading
from web_extras.store.sessions import MAX_NOTES
from web_extras.timefmt import iso

OPENAPI = json.loads(
    (Path(__file__).resolve().parents[2] / "web_extras" / "openapi.json").read_text("utf-8")
)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Served by the service but not API: the pages, their files, the socket.io endpoint.
NOT_API = re.compile(r"^/($|trend$|static$|socket\.io/?$)")
# Authenticated by a hydrometer's own token, never a login (the document's description).
DEVICE_AUTHENTICATED = "/api/hydrometers/ispindel"
DEVICE = "beerpi-contract"
HYDROMETER_TOKEN = "red-spindel-Vq3xN8pLk2RtY7wZ"


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in OPENAPI["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def concrete(path: str) -> str:
    """The path with a plausible value for each parameter ({type}: a valid camera type)."""
    path = path.replace("{type}", "photo").replace("{id}", DEVICE)
    return re.sub(r"\{[a-z_]+\}", "0123456789abcdef", path)


def needs_login(operation: dict[str, Any]) -> bool:
    return operation.get("security", OPENAPI["security"]) != []


def test_every_route_is_documented_and_every_operation_is_routed(tmp_path: Path) -> None:
    app = create_app(web_config(tmp_path))
    routed = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    api = {(m, p) for m, p in routed if not NOT_API.match(p)}
    documented = {(method, path) for method, path, _ in operations()}
    assert api - documented == set(), "routes the OpenAPI document does not describe"
    assert documented - routed == set(), "operations the service does not serve"


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, op in operations() if needs_login(op)],
)
async def test_what_needs_a_login_refuses_without_one(
    secured: RunningService, method: str, path: str
) -> None:
    body = {} if method in UNSAFE else None
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, secured.url + concrete(path), json=body) as answer,
    ):
        assert answer.status == 401, (method, path)
        assert (await answer.json())["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (m, p)
        for m, p, op in operations()
        if not needs_login(op) and not p.startswith(DEVICE_AUTHENTICATED)
    ],
)
async def test_what_is_public_answers_without_a_login(
    secured: RunningService, method: str, path: str
) -> None:
    body = LOGIN if method in UNSAFE else None
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, secured.url + concrete(path), json=body) as answer,
    ):
        assert answer.status == 200, (method, path)


def hostile_requests(method: str, path: str) -> list[tuple[str, dict[str, Any], int, str]]:
    """(what, request keywords, status, error) of requests every change must refuse."""
    url_origin = {"Origin": "http://evil.example", "Content-Type": "application/json"}
    return [
        ("another origin", {"headers": url_origin, "data": b"{}"}, 403, "cross_site"),
        ("text/plain body", {"headers": {"Content-Type": "text/plain"}, "data": b"{}"}, 415, ""),
        (
            "a body over the cap",
            {
                "headers": {"Content-Type": "application/json"},
                "data": b'{"a": "' + b"x" * MAX_BODY_BYTES + b'"}',
            },
            413,
            "",
        ),
    ]


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [(m, p, op) for m, p, op in operations() if m in UNSAFE],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_every_change_refuses_hostile_requests_with_a_documented_status(
    secured: RunningService, method: str, path: str, operation: dict[str, Any]
) -> None:
    token = {"Authorization": f"Bearer {API_TOKEN}"}
    reads_body = "{" not in path and "requestBody" in operation
    async with aiohttp.ClientSession() as http:
        for what, request, status, error in hostile_requests(method, path):
            headers = {**token, **request["headers"]}
            async with http.request(
                method, secured.url + concrete(path), headers=headers, data=request["data"]
            ) as answer:
                body = await answer.json()
                got = answer.status
            # An operation that never reads a body (logout), or that looks the device
            # up first (404 here), answers as it would without one: still documented.
            if status != 413 or reads_body:
                assert got == status, (what, method, path, body)
                if error:
                    assert body["error"] == error
            assert str(got) in operation["responses"], (what, method, path, got, body)
            if got >= 400:
                assert set(body) == {"error", "message"}


async def test_video_length_bounds_are_the_documented_ones(secured: RunningService) -> None:
    """More than 0 s, 600 s at most (beerpi_protocol's RecordVideo), refused even while offline."""
    await secured.store.add_readings([StoredReading(DEVICE, "beer", datetime.now(UTC), 20.0)])
    await secured.hub.load_known()
    token = {"Authorization": f"Bearer {API_TOKEN}"}
    for path in ("/api/devices/{id}/video", "/camera/{type}"):
        schema = OPENAPI["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        seconds = schema["schema"]["properties"]["seconds"]
        assert seconds["maximum"] == 600, path
        url = secured.url + concrete(path).replace("photo", "video")
        async with aiohttp.ClientSession(headers=token) as http:
            for value, status in ((600.5, 400), (0, 400), (600, 503)):
                body = {"seconds": value, "device": DEVICE}
                async with http.post(url, json=body) as answer:
                    assert answer.status == status, (path, value, await answer.text())


def test_the_live_events_the_document_lists_are_the_ones_sent() -> None:
    """Every event name /live emits (live.py) is described in the document's /live part."""
    source = Path(live.__file__).read_text("utf-8")
    sent = set(re.findall(r'(?:emit|_push)\(\s*"([a-z_]+)"', source)) - {"watch"}
    assert {"devices", "device", "state", "readings", "event", "gravity"} <= sent
    described = OPENAPI["info"]["description"].split("Live pushes:", 1)[1]
    missing = {name for name in sent if not re.search(rf"\b{name} [{{(]", described)}
    assert missing == set(), f"/live events the OpenAPI document does not describe: {missing}"


async def test_a_session_full_of_notes_refuses_one_more_with_409(
    secured: RunningService,
) -> None:
    """openapi.json: 409 too_many_notes once a session holds 500 notes; nothing is added."""
    now = datetime.now(UTC)
    await secured.store.add_readings([StoredReading(DEVICE, "beer", now, 20.0)])
    await secured.hub.load_known()
    notes = tuple(SessionNote(now, f"note {i}") for i in range(MAX_NOTES))
    full = BrewSession("00000000000000aa", DEVICE, "Pale Ale", now, notes=notes)
    await secured.store.start_session(full)
    token = {"Authorization": f"Bearer {API_TOKEN}"}
    url = f"{secured.url}/api/sessions/{full.id}"
    async with aiohttp.ClientSession(headers=token) as http:
        async with http.post(url + "/notes", json={"text": "one too many"}) as answer:
            assert answer.status == 409
            assert (await answer.json())["error"] == "too_many_notes"
        async with http.get(url) as answer:
            assert len((await answer.json())["notes"]) == MAX_NOTES


async def test_public_details_shows_photos_faults_and_versions_without_a_login(
    tmp_path: Path,
) -> None:
    """openapi.json: under public_read, photos, videos, fault messages, versions and notes
    need a login unless public_details is set; with it an anonymous reader sees them."""
    now = datetime.now(UTC)
    config = web_config(
        tmp_path / "web", api_token=API_TOKEN, public_read=True, public_details=True
    )
    async with running_service(config) as service, aiohttp.ClientSession() as anonymous:
        fault = FaultInfo(source="beer", code=None, message="read /sys/bus/w1/... failed")
        await service.store.add_event(Event(DEVICE, now, EventKind.FAULT_RAISED, fault.to_dict()))
        photo = StoredMedia(DEVICE, "p1", now, MediaKind.PHOTO, "image/jpeg", 10, "/x")
        await service.store.add_media(photo)
        info = DeviceInfo(id=DEVICE, name="Fermenter", sw_version="0.1.0", protocol_version="1.0")
        await service.hub.attach(DEVICE, _Link(), info)
        await service.hub.set_state(DEVICE, State(faults=(fault,), latest_photo=MediaInfo(id="p1")))
        note = SessionNote(now, "private: recipe secret")
        brew = BrewSession("00000000000000bb", DEVICE, "Pale Ale", now, notes=(note,))
        await service.store.start_session(brew)

        base = f"{service.url}/api/devices/{DEVICE}"
        async with anonymous.get(base) as answer:
            entry = await answer.json()
        assert entry["device"]["sw_version"] == "0.1.0"
        assert entry["state"]["faults"][0]["message"] == fault.message
        assert entry["state"]["latest_photo"]["id"] == "p1"
        async with anonymous.get(f"{base}/media") as answer:
            assert answer.status == 200
            assert [m["id"] for m in await answer.json()] == ["p1"]
        async with anonymous.get(f"{base}/events") as answer:
            assert (await answer.json())[0]["data"]["message"] == fault.message
        async with anonymous.get(f"{service.url}/api/sessions/{brew.id}") as answer:
            assert (await answer.json())["notes"][0]["text"] == note.text
        async with anonymous.post(f"{base}/photo") as answer:
            assert answer.status == 401  # details, not control


class _Link:
    kind = "dial-in"


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in operations() if "{id}" in p])
async def test_every_device_operation_answers_404_unknown_device_for_an_unknown_id(
    secured: RunningService, method: str, path: str
) -> None:
    body = {} if method in UNSAFE else None
    token = {"Authorization": f"Bearer {API_TOKEN}"}
    async with (
        aiohttp.ClientSession(headers=token) as http,
        http.request(method, secured.url + concrete(path), json=body) as answer,
    ):
        assert answer.status == 404, (method, path)
        assert (await answer.json())["error"] == "unknown_device"


async def test_a_probe_without_readings_is_no_buckets_not_404(secured: RunningService) -> None:
    await secured.store.add_readings([StoredReading(DEVICE, "beer", datetime.now(UTC), 20.0)])
    await secured.hub.load_known()
    token = {"Authorization": f"Bearer {API_TOKEN}"}
    url = f"{secured.url}/api/devices/{DEVICE}/readings?probe=fridge"
    async with aiohttp.ClientSession(headers=token) as http, http.get(url) as answer:
        assert answer.status == 200
        assert (await answer.json())["buckets"] == []


# A valid body per operation with bounds; each bound of its schema is then broken once.
SESSION_ID, PROFILE_ID = "00000000000000cc", "00000000000000dd"
STEPS = [{"kind": "hold", "target": 18, "days": 1}]
VALID_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/devices/{id}/video"): {"seconds": 5},
    ("POST", "/camera/{type}"): {"take": "video", "device": DEVICE, "seconds": 5},
    ("POST", "/api/devices/{id}/thermostat"): {"mode": "heat", "target": 20, "unit": "C"},
    ("PUT", "/api/devices/{id}/profile"): {"steps": STEPS, "unit": "C"},
    ("POST", "/api/devices/{id}/profile/skip"): {"step": 0},
    ("POST", "/api/sessions"): {"device": DEVICE, "name": "Pale Ale", "notes": ["pitched"]},
    ("PATCH", "/api/sessions/{session_id}"): {"name": "Pale Ale"},
    ("POST", "/api/sessions/{session_id}/end"): {},
    ("POST", "/api/sessions/{session_id}/notes"): {"text": "pitched"},
    ("POST", "/api/profiles"): {"name": "Lager", "steps": STEPS, "unit": "C"},
    ("PUT", "/api/profiles/{profile_id}"): {"name": "Lager", "steps": STEPS, "unit": "C"},
    ("PATCH", "/api/profiles/{profile_id}"): {"name": "Lager", "steps": STEPS, "unit": "C"},
    ("POST", "/api/hydrometers/ispindel/{token}"): {"gravity": 1.05, "temp_units": "C"},
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _beyond(schema: dict[str, Any], valid: Any) -> list[tuple[str, Any]]:
    """Values just past each bound ``schema`` states (``valid``: one that is inside)."""
    out: list[tuple[str, Any]] = []
    if "maxLength" in schema:
        out.append((f"maxLength {schema['maxLength']}", "x" * (schema["maxLength"] + 1)))
    if schema.get("minLength", 0) > 0:
        out.append(("minLength", ""))
    step = 1 if schema.get("type") == "integer" else 0.001
    if "maximum" in schema:
        out.append((f"maximum {schema['maximum']}", schema["maximum"] + step))
    if "minimum" in schema:
        low = schema["minimum"] if schema.get("exclusiveMinimum") else schema["minimum"] - step
        out.append((f"minimum {schema['minimum']}", low))
    if "enum" in schema:
        out.append(("enum", "not-one-of-them"))
    if schema.get("format") == "date-time":
        out.append(("date-time", "yesterday"))
    if "maxItems" in schema:
        out.append((f"maxItems {schema['maxItems']}", [valid[0]] * (schema["maxItems"] + 1)))
    if schema.get("minItems", 0) > 0:
        out.append(("minItems", []))
    return out


def bound_cases() -> list[tuple[str, str, str, dict[str, Any]]]:
    cases = []
    for (method, path), valid in VALID_BODIES.items():
        content = OPENAPI["paths"][path][method.lower()]["requestBody"]["content"]
        schema = _resolve(content["application/json"]["schema"])
        if schema.get("additionalProperties") is False:
            cases.append((method, path, "unknown field", {**valid, "zz_unknown": 1}))
        for name, prop in schema["properties"].items():
            prop = _resolve(prop)
            inside = valid.get(name, [STEPS[0]] if prop.get("type") == "array" else None)
            for what, value in _beyond(prop, inside):
                cases.append((method, path, f"{name}: {what}", {**valid, name: value}))
            item = _resolve(prop.get("items", {}))
            for key, sub in item.get("properties", {}).items():
                base = dict(STEPS[0])
                for what, value in _beyond(_resolve(sub), base.get(key)):
                    cases.append(
                        (
                            method,
                            path,
                            f"{name}[].{key}: {what}",
                            {**valid, name: [{**base, key: value}]},
                        )
                    )
    return cases


@pytest.mark.parametrize(
    ("method", "path", "what", "body"),
    bound_cases(),
    ids=[f"{m} {p} {w}" for m, p, w, _ in bound_cases()],
)
async def test_every_bound_the_document_states_is_refused_with_400(
    tmp_path: Path, method: str, path: str, what: str, body: dict[str, Any]
) -> None:
    hydrometers = {"red": {"device": DEVICE, "token": HYDROMETER_TOKEN}}
    config = web_config(tmp_path / "web", api_token=API_TOKEN, hydrometers=hydrometers)
    async with running_service(config) as service:
        now = datetime.now(UTC)
        await service.store.add_readings([StoredReading(DEVICE, "beer", now, 20.0)])
        await service.hub.load_known()
        await service.store.start_session(BrewSession(SESSION_ID, DEVICE, "Pale Ale", now))
        token = {"Authorization": f"Bearer {API_TOKEN}"}
        url = service.url + concrete(path).replace("photo", "video")
        url = url.replace("0123456789abcdef/notes", f"{SESSION_ID}/notes")
        url = url.replace("/api/sessions/0123456789abcdef", f"/api/sessions/{SESSION_ID}")
        async with aiohttp.ClientSession(headers=token) as http:
            async with http.post(
                f"{service.url}/api/profiles", json={"name": "Ale", "steps": STEPS}
            ) as made:
                profile_id = (await made.json())["id"]
            url = url.replace("/api/profiles/0123456789abcdef", f"/api/profiles/{profile_id}")
            url = url.replace("/ispindel/0123456789abcdef", f"/ispindel/{HYDROMETER_TOKEN}")
            async with http.request(method, url, json=body) as answer:
                got = await answer.json()
                assert answer.status == 400, (what, answer.status, got)
                assert got["error"] == "invalid_argument"


def query_enums() -> list[tuple[str, str, str, list[Any]]]:
    """(method, path, parameter, allowed values) of every query parameter with an enum."""
    return [
        (method, path, parameter["name"], parameter["schema"]["enum"])
        for method, path, operation in operations()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and "enum" in parameter.get("schema", {})
    ]


@pytest.mark.parametrize(
    ("method", "path", "name", "allowed"),
    query_enums(),
    ids=[f"{m} {p} {n}" for m, p, n, _ in query_enums()],
)
async def test_every_query_enum_the_document_states_is_the_one_enforced(
    secured: RunningService, method: str, path: str, name: str, allowed: list[Any]
) -> None:
    now = datetime.now(UTC)
    await secured.store.add_readings([StoredReading(DEVICE, "beer", now, 20.0)])
    await secured.hub.load_known()
    await secured.store.start_session(BrewSession("0123456789abcdef", DEVICE, "Pale Ale", now))
    token = {"Authorization": f"Bearer {API_TOKEN}"}
    url = secured.url + concrete(path)
    async with aiohttp.ClientSession(headers=token) as http:
        for value in allowed:
            async with http.request(method, url, params={name: value}) as answer:
                assert answer.status == 200, (name, value, await answer.text())
        async with http.request(method, url, params={name: "not-one-of-them"}) as answer:
            assert answer.status == 400, (name, answer.status)
            assert str(answer.status) in OPENAPI["paths"][path][method.lower()]["responses"]
            assert (await answer.json())["error"] == "invalid_argument"


async def test_live_takes_the_login_cookie_and_not_a_forged_or_logged_out_one(
    secured: RunningService,
) -> None:
    """openapi.json: /live has the reads' auth: a session cookie, or auth={"token": ...}."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        login = LOGIN
        async with http.post(f"{secured.url}/api/login", json=login) as answer:
            assert answer.status == 200
        cookie = next(c.value for c in jar if c.key == COOKIE)
        async with live_client(secured.url, headers={"Cookie": f"{COOKIE}={cookie}"}) as (
            _,
            received,
        ):
            await wait_until(lambda: received)
            assert received[0] == ("devices", [])
        forged = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
        async with http.post(f"{secured.url}/api/logout", json={}) as answer:
            assert answer.status == 200
        for value in (forged, cookie):
            with pytest.raises(socketio.exceptions.ConnectionError):
                async with live_client(secured.url, headers={"Cookie": f"{COOKIE}={value}"}):
                    pass


ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_live_pushes_have_the_documented_shapes(tmp_path: Path) -> None:
    """openapi.json: device {device, online, info}, state {device, state}, readings {device,
    readings: [{probe, timestamp, temperature}]}, event {device, event: {timestamp, kind,
    data}}, gravity {device, readings}; times ISO 8601 UTC with milliseconds."""
    async with running_service(web_config(tmp_path / "web", api_token=API_TOKEN)) as service:
        async with live_client(service.url, auth={"token": API_TOKEN}) as (_, got):
            await wait_until(lambda: got)
            now = datetime.now(UTC)
            info = DeviceInfo(
                id=DEVICE, name="Fermenter", sw_version="0.1.0", protocol_version="1.0"
            )
            await service.hub.attach(DEVICE, _Link(), info)
            await service.hub.set_state(DEVICE, State())
            ns = service.app[LIVE]
            await ns.readings_added(DEVICE, [StoredReading(DEVICE, "beer", now, 19.5)])
            await ns.event_added(Event(DEVICE, now, EventKind.RELAY, {"on": True}))
            await ns.gravity_added([GravityReading(DEVICE, "red", now, 1.05)])
            names = ("device", "state", "readings", "event", "gravity")
            await wait_until(lambda: {e for e, _ in got} >= set(names))
        first = {name: next(d for e, d in got if e == name) for name in names}
        assert set(first["device"]) == {"device", "online", "info"}
        assert first["device"]["online"] is True
        assert set(first["state"]) == {"device", "state"}
        assert first["readings"] == {
            "device": DEVICE,
            "readings": [{"probe": "beer", "timestamp": iso(now), "temperature": 19.5}],
        }
        assert ISO_MS.match(first["readings"]["readings"][0]["timestamp"])
        assert first["event"]["device"] == DEVICE
        assert set(first["event"]["event"]) == {"timestamp", "kind", "data"}
        assert ISO_MS.match(first["event"]["event"]["timestamp"])
        assert set(first["gravity"]) == {"device", "readings"}
        assert first["gravity"]["readings"][0]["sg"] == 1.05


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, _ in operations() if not p.startswith(DEVICE_AUTHENTICATED)],
)
async def test_with_no_user_and_no_token_everything_is_open(
    tmp_path: Path, method: str, path: str
) -> None:
    """openapi.json: with no user and no API token configured everything is open."""
    async with running_service(web_config(tmp_path / "web")) as service:
        body = {} if method in UNSAFE else None
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, service.url + concrete(path), json=body) as answer,
        ):
            assert answer.status != 401, (method, path, await answer.text())


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, op in operations() if needs_login(op)]
)
async def test_public_read_opens_reads_but_not_photos_videos_or_changes(
    tmp_path: Path, method: str, path: str
) -> None:
    """openapi.json: public_read opens the reads; photos and videos (media) and every
    POST/PUT/PATCH/DELETE still need a login."""
    config = web_config(tmp_path / "web", api_token=API_TOKEN, public_read=True)
    async with running_service(config) as service:
        body = {} if method in UNSAFE else None
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, service.url + concrete(path), json=body) as answer,
        ):
            closed = method in UNSAFE or "/media" in path
            assert (answer.status == 401) is closed, (method, path, answer.status)


async def test_a_public_reader_on_live_gets_events_without_fault_messages(tmp_path: Path) -> None:
    """openapi.json: under public_read, /live pushes reach a reader without a login
    without fault messages; a logged-in reader gets them whole."""
    config = web_config(tmp_path / "web", api_token=API_TOKEN, public_read=True)
    async with (
        running_service(config) as service,
        live_client(service.url) as (_, public),
        live_client(service.url, auth={"token": API_TOKEN}) as (_, full),
    ):
        await wait_until(lambda: public and full)
        fault = FaultInfo(source="beer", code=None, message="read /sys/bus/w1/... failed")
        event = Event(DEVICE, datetime.now(UTC), EventKind.FAULT_RAISED, fault.to_dict())
        await service.app[LIVE].event_added(event)
        await wait_until(lambda: all(any(e == "event" for e, _ in got) for got in (public, full)))
        [anonymous] = [d for e, d in public if e == "event"]
        [brewer] = [d for e, d in full if e == "event"]
        assert "message" not in anonymous["event"]["data"]
        assert anonymous["event"]["data"]["source"] == "beer"
        assert brewer["event"]["data"]["message"] == fault.message
