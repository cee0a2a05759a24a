"""iSpindel posts and the gravity API, against the real service (SQLite) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from beerpi_protocol.const import PLATO_RANGE, SG_RANGE
from beerpi_protocol.numbers import sg_from_plato
from tests.web.service import (
    API_TOKEN,
    LOGIN,
    RunningService,
    running_service,
    secured_config,
)
from tests.web.test_api import DEVICE, NOW, seed, send, session  # noqa: F401
from web_extras.config import ConfigError, check_secrets, load_config
from web_extras.store import GravityReading, GravitySource

RED_TOKEN = "red-spindel-Vq3xN8pLk2RtY7wZ"
BLUE_TOKEN = "blue-spindel-Hs6dJ1mQo4Ue9cB"
TOKEN = {"Authorization": f"Bearer {API_TOKEN}"}
ISPINDEL = "/api/hydrometers/ispindel"
# What an iSpindel's HTTP service posts (firmware 7), temperature in °F.
POST = {
    "name": "iSpindel01",
    "ID": 8753154,
    "token": RED_TOKEN,
    "angle": 52.41,
    "temperature": 68.0,
    "temp_units": "F",
    "battery": 3.98,
    "gravity": 1.0452,
    "interval": 900,
    "RSSI": -67,
}
# The same post with its token left out (to be given another way, or not at all).
UNTOKENED = {k: v for k, v in POST.items() if k != "token"}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RunningService]:
    config = secured_config(
        tmp_path,
        hydrometers={
            "red": {"device": DEVICE, "token": RED_TOKEN},
            "blue": {"device": DEVICE, "token": BLUE_TOKEN, "gravity_unit": "P"},
        },
    )
    async with running_service(config) as running:
        await seed(running)
        yield running


async def post_raw(
    http: aiohttp.ClientSession,
    service: RunningService,
    data: bytes,
    path: str = ISPINDEL,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    sent = {"Content-Type": "application/json", **(headers or {})}
    async with http.post(service.url + path, data=data, headers=sent) as response:
        return response.status, await response.json()


async def latest(http: aiohttp.ClientSession, service: RunningService) -> list[dict[str, Any]]:
    status, answer = await send(
        http, service, "GET", f"/api/devices/{DEVICE}/gravity", None, headers=TOKEN
    )
    assert status == 200, answer
    return list(answer["hydrometers"])


async def test_an_ispindel_post_shows_as_the_fermenters_gravity(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    # No login: the hydrometer's own token (the iSpindel's Token field) is its credential.
    status, answer = await send(session, service, "POST", ISPINDEL, POST)
    assert status == 200, answer
    assert answer["stored"] is True
    assert "token" not in json.dumps(answer)
    [red] = await latest(session, service)
    assert (red["hydrometer"], red["device"], red["source"]) == ("red", DEVICE, "ispindel")
    assert red["sg"] == 1.0452
    assert red["temperature_c"] == pytest.approx(20.0)  # 68 °F
    assert (red["angle"], red["battery"]) == (52.41, 3.98)
    # Reading it follows the rules of reading history: a login or the API token.
    status, _ = await send(session, service, "GET", f"/api/devices/{DEVICE}/gravity", None)
    assert status == 401


async def test_a_hydrometer_set_to_plato_is_read_in_plato(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    """The blue hydrometer is configured to send degrees Plato: 12 °P is SG 1.0484."""
    body = {**UNTOKENED, "gravity": 12.0, "temperature": 20.0, "temp_units": "C"}
    status, answer = await post_raw(
        session, service, json.dumps(body).encode(), f"{ISPINDEL}/{BLUE_TOKEN}"
    )
    assert status == 200, answer
    [blue] = await latest(session, service)
    assert blue["hydrometer"] == "blue"
    assert blue["sg"] == pytest.approx(1.0484, abs=0.0002)


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        (ISPINDEL, {}, UNTOKENED),
        (ISPINDEL, {}, {**POST, "token": "not-a-hydrometer-token-at-all"}),
        (f"{ISPINDEL}/wrong-token-0123456789abc", {}, POST),
        (ISPINDEL, {"Authorization": f"Bearer {API_TOKEN}"}, {**POST, "token": None}),
    ],
)
async def test_a_post_without_a_hydrometer_token_is_refused(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
    path: str,
    headers: dict[str, str],
    body: dict[str, Any],
) -> None:
    status, answer = await post_raw(session, service, json.dumps(body).encode(), path, headers)
    assert (status, answer["error"]) == (401, "unauthorized")
    assert await latest(session, service) == []


WRONG = "not-a-hydrometer-token-at-all"


@pytest.mark.parametrize(
    ("path", "headers", "body_token", "hydrometer"),
    [
        # Each place alone.
        (f"{ISPINDEL}/{BLUE_TOKEN}", {}, None, "blue"),
        (f"{ISPINDEL}?token={BLUE_TOKEN}", {}, None, "blue"),
        (ISPINDEL, {"Authorization": f"Bearer {BLUE_TOKEN}"}, None, "blue"),
        (ISPINDEL, {}, BLUE_TOKEN, "blue"),
        # The first place that holds a token decides: path, ?token=, Bearer, the post's field.
        # The URL's token wins over a stale one in the post.
        (f"{ISPINDEL}?token={BLUE_TOKEN}", {}, RED_TOKEN, "blue"),
        (f"{ISPINDEL}/{RED_TOKEN}?token={BLUE_TOKEN}", {}, None, "red"),
        (f"{ISPINDEL}/{WRONG}", {}, RED_TOKEN, None),
        (f"{ISPINDEL}?token={BLUE_TOKEN}", {"Authorization": f"Bearer {RED_TOKEN}"}, None, "blue"),
        (f"{ISPINDEL}?token={WRONG}", {"Authorization": f"Bearer {RED_TOKEN}"}, None, None),
        (ISPINDEL, {"Authorization": f"Bearer {BLUE_TOKEN}"}, RED_TOKEN, "blue"),
        (ISPINDEL, {"Authorization": f"Bearer {API_TOKEN}"}, RED_TOKEN, None),
    ],
)
async def test_the_first_place_with_a_token_decides_in_the_documented_order(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
    path: str,
    headers: dict[str, str],
    body_token: str | None,
    hydrometer: str | None,
) -> None:
    """openapi.json: path, ?token=, Authorization: Bearer, or the post's token, in that order."""
    body = UNTOKENED if body_token is None else {**UNTOKENED, "token": body_token}
    status, answer = await post_raw(session, service, json.dumps(body).encode(), path, headers)
    if hydrometer is None:
        assert (status, answer["error"]) == (401, "unauthorized")
        assert await latest(session, service) == []
    else:
        assert status == 200, answer
        assert [h["hydrometer"] for h in await latest(session, service)] == [hydrometer]


async def test_a_logged_in_browser_cannot_post_readings(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    status, _ = await send(session, service, "POST", "/api/login", LOGIN)
    assert status == 200
    # The login cookie alone is no hydrometer credential...
    body = json.dumps(UNTOKENED).encode()
    status, answer = await post_raw(session, service, body)
    assert status == 401
    # ...and a page of another site cannot post even with a token.
    evil = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    status, answer = await post_raw(session, service, json.dumps(POST).encode(), headers=evil)
    assert (status, answer["error"]) == (403, "cross_site")
    async with session.post(
        service.url + ISPINDEL, data=json.dumps(POST), headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.status == 415
    assert await latest(session, service) == []


async def test_a_resent_post_counts_once(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    first = await send(session, service, "POST", ISPINDEL, POST)
    again = await send(session, service, "POST", ISPINDEL, POST)
    assert (first[0], first[1]["stored"]) == (200, True)
    assert (again[0], again[1]["stored"]) == (200, False)
    assert again[1]["timestamp"] == first[1]["timestamp"]
    # A new reading (the beer moved on) is stored.
    moved = await send(session, service, "POST", ISPINDEL, {**POST, "gravity": 1.0448})
    assert moved[1]["stored"] is True
    # Up to an hour ahead: the range is half-open, and the reading may share its
    # millisecond with the time this request arrives.
    start = (NOW - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    end = (NOW + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    status, series = await send(
        session,
        service,
        "GET",
        f"/api/devices/{DEVICE}/gravity/series?buckets=1&start={start}&end={end}",
        None,
        headers=TOKEN,
    )
    assert status == 200, series
    [bucket] = series["hydrometers"]["red"]
    assert bucket["count"] == 2
    assert bucket["mean"] == pytest.approx(1.045)


async def test_the_same_numbers_after_half_the_interval_are_a_new_reading(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    """A re-send is the same numbers within half the iSpindel's interval; later, a reading."""
    body = {**POST, "interval": 2}  # wakes every 2 s: a re-send comes within 1 s
    first = await send(session, service, "POST", ISPINDEL, body)
    again = await send(session, service, "POST", ISPINDEL, body)
    assert (first[1]["stored"], again[1]["stored"]) == (True, False)
    await asyncio.sleep(1.2)
    later = await send(session, service, "POST", ISPINDEL, body)
    assert (later[0], later[1]["stored"]) == (200, True)
    assert later[1]["timestamp"] != first[1]["timestamp"]


@pytest.mark.parametrize(
    ("temperature", "unit", "celsius"), [(293.15, "K", 20.0), (20.5, "C", 20.5), (50.0, "F", 10.0)]
)
async def test_temperatures_are_kept_in_celsius(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
    temperature: float,
    unit: str,
    celsius: float,
) -> None:
    body = {**POST, "temperature": temperature, "temp_units": unit}
    status, answer = await send(session, service, "POST", ISPINDEL, body)
    assert status == 200, answer
    [red] = await latest(session, service)
    assert red["temperature_c"] == pytest.approx(celsius)


@pytest.mark.parametrize(
    ("plato", "stored"), [(-2.6, True), (43.9, True), (-3.0, False), (45, False)]
)
async def test_plato_is_taken_over_the_daemons_range_and_refused_in_plato(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
    plato: float,
    stored: bool,
) -> None:
    """The README's °P range is the one a post gets; a refusal says it in °P, not SG."""
    body = {**POST, "gravity": plato, "gravity-unit": "P"}
    status, answer = await send(session, service, "POST", ISPINDEL, body)
    if stored:
        assert status == 200, answer
        assert 0.990 <= answer["sg"] <= 1.200
    else:
        assert (status, answer["message"]) == (
            400,
            f"gravity must be between -2.6 and 43.9 °P, got {plato:g}",
        )
        assert await latest(session, service) == []


NAN = b'{"gravity": NaN, "token": "' + RED_TOKEN.encode() + b'"}'


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"gravity": None}, "gravity"),
        ({"gravity": "1.045"}, "gravity"),
        ({"gravity": True}, "gravity"),
        ({"gravity": 80.0}, "gravity"),  # neither SG nor a possible °P
        ({"gravity": 1.5, "gravity-unit": "G"}, "gravity"),
        ({"gravity-unit": "brix"}, "gravity-unit"),
        ({"temperature": 1e308}, "temperature"),
        ({"temperature": 20, "temp_units": "X"}, "temp_units"),
        ({"temperature": 500, "temp_units": "K"}, "temperature"),
        ({"angle": -3}, "angle"),
        ({"battery": "full"}, "battery"),
        ({"name": "x" * 500}, "name"),
        ({"interval": -1}, "interval"),
    ],
)
async def test_bad_fields_are_named_and_nothing_is_stored(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
    change: dict[str, Any],
    field: str,
) -> None:
    status, answer = await send(session, service, "POST", ISPINDEL, {**POST, **change})
    assert (status, answer["error"]) == (400, "invalid_argument"), answer
    assert field in answer["message"]
    assert await latest(session, service) == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (NAN, 400),
        (b"[1.045]", 400),
        (b'{"gravity": 1.04, "gravity": 1.05}', 400),
        (b"\xff\xfe{}", 400),
        (b"[" * 4000, 400),  # nested deeper than Python parses
        (json.dumps({**POST, "pad": "x" * 5000}).encode(), 413),
    ],
)
async def test_hostile_bodies_get_a_clear_error(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
    raw: bytes,
    status: int,
) -> None:
    got, answer = await post_raw(session, service, raw, f"{ISPINDEL}?token={RED_TOKEN}")
    assert got == status, answer
    assert answer["message"]
    assert await latest(session, service) == []


async def test_gravitymon_plato_and_the_series_for_the_trend(
    service: RunningService,
    session: aiohttp.ClientSession,  # noqa: F811
) -> None:
    gravitymon = {**POST, "gravity": 10.0, "gravity-unit": "P", "temp-units": "C"}
    del gravitymon["temp_units"]
    gravitymon["temperature"] = 19.5
    status, answer = await send(session, service, "POST", ISPINDEL, gravitymon)
    assert status == 200, answer
    assert answer["sg"] == pytest.approx(1.0400, abs=0.0002)
    assert answer["temperature_c"] == 19.5
    # A Tilt's readings from a daemon go through the same store call.
    await service.store.add_gravity(
        GravityReading(
            DEVICE,
            "tilt-red",
            NOW - timedelta(hours=h),
            1.050 - h / 1000,
            19.0,
            source=GravitySource.TILT,
        )
        for h in range(1, 5)
    )
    start = (NOW - timedelta(hours=6)).isoformat().replace("+00:00", "Z")
    end = (NOW + timedelta(hours=6)).isoformat().replace("+00:00", "Z")
    status, series = await send(
        session,
        service,
        "GET",
        f"/api/devices/{DEVICE}/gravity/series?start={start}&end={end}&buckets=12&hydrometer=tilt-red",
        None,
        headers=TOKEN,
    )
    assert status == 200, series
    points = series["hydrometers"]["tilt-red"]
    assert [round(p["mean"], 3) for p in points] == [1.046, 1.047, 1.048, 1.049]
    status, _ = await send(
        session, service, "GET", "/api/devices/nowhere/gravity", None, headers=TOKEN
    )
    assert status == 404


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "web.toml"
    path.write_text(text)
    return path


def test_hydrometer_tokens_may_live_in_a_file_of_their_own(tmp_path: Path) -> None:
    tokens = tmp_path / "hydrometers.toml"
    tokens.write_text(f'red = "{RED_TOKEN}"\n')
    tokens.chmod(0o600)
    config = load_config(
        write_config(
            tmp_path,
            f'hydrometer_tokens_file = "{tokens}"\n[hydrometers.red]\ndevice = "fv1"\n',
        )
    )
    assert config.hydrometers["red"].token == RED_TOKEN
    check_secrets(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[hydrometers.red]\ndevice = "fv1"\n', "needs a token"),
        (
            f'[hydrometers.red]\ndevice = "fv1"\ntoken = "{RED_TOKEN}"\n'
            f'[hydrometers.blue]\ndevice = "fv2"\ntoken = "{RED_TOKEN}"\n',
            "of its own",
        ),
        ('[hydrometers."bad id"]\ndevice = "fv1"\ntoken = "x"\n', "hydrometer id"),
        ('[hydrometers.red]\ndevice = "fv1"\ntoken = "x"\ngravity_unit = "brix"\n', "gravity_unit"),
        ('[hydrometers.red]\ndevice = "fv1"\ntokn = "x"\n', "tokn"),
    ],
)
def test_bad_hydrometer_config_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, text))


def test_a_weak_hydrometer_token_stops_the_start(tmp_path: Path) -> None:
    config = load_config(
        write_config(tmp_path, '[hydrometers.red]\ndevice = "fv1"\ntoken = "spindel"\n')
    )
    with pytest.raises(ConfigError, match="hydrometer red"):
        check_secrets(config)


def test_plato_conversion_matches_the_pages() -> None:
    assert sg_from_plato(0.0) == 1.0
    assert math.isclose(sg_from_plato(12.0), 1.0484, abs_tol=2e-4)


def test_the_plato_range_is_the_sg_range_rounded_inwards() -> None:
    low, high = PLATO_RANGE
    assert SG_RANGE[0] <= sg_from_plato(low)
    assert sg_from_plato(high) <= SG_RANGE[1]
    assert sg_from_plato(low - 0.1) < SG_RANGE[0]
    assert sg_from_plato(high + 0.1) > SG_RANGE[1]
