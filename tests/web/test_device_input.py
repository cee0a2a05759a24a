"""What a device sends that no BeerPi daemon would: refused or dropped, and nothing else lost.

Each test runs the real web service on 127.0.0.1 with a device on the daemon's
real dial-out client (``tests.security.hostile``) that says what the test
chooses. The rule: bad input gets a clear error, or is dropped with a warning
while the rest is kept; a bad reading never stalls the device's catch-up cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from beerpi_guard.enginelog import LOGGER_NAME, EngineLog
from tests.security.hostile import (
    JPEG,
    MP4,
    answering,
    hostile_device,
    iso,
    media_answerer,
    outbox_answerer,
    strong_token,
)
from tests.web.service import RunningService, running_service, wait_until, web_config
from web_extras.gravity_link import MAX_GRAVITY_PER_MINUTE
from web_extras.keys import MEDIA

DEVICE = "dev1"
TOKEN = strong_token()
INFO = {"id": DEVICE, "name": "Device", "probes": [{"id": "beer", "name": "Beer"}]}


def state(**values: Any) -> dict[str, Any]:
    return {"timestamp": iso(datetime.now(UTC)), "probes": {}, "relays": {}, **values}


@pytest.fixture(params=["sqlite", "mongo"])
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """WebConfig values of each store (MongoDB on the secantus emulator, 3.11 only)."""
    if request.param == "sqlite":
        return {}
    server = request.getfixturevalue("mongo_server")
    return {"mongo_url": server.uri + "?directConnection=true"}


@pytest.fixture
def make_service(tmp_path: Path) -> Any:
    @contextlib.asynccontextmanager
    async def make(**values: Any) -> AsyncIterator[RunningService]:
        config = web_config(tmp_path / "web", device_tokens={DEVICE: TOKEN}, **values)
        async with running_service(config) as service:
            yield service

    return make


async def online(service: RunningService) -> bool:
    record = service.hub.find(DEVICE)
    return bool(record is not None and record.online and record.state is not None)


def strict_json(text: str) -> Any:
    """JSON as a browser's JSON.parse reads it: no Infinity, no NaN."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


async def stored_temperatures(service: RunningService) -> list[float]:
    end = datetime.now(UTC) + timedelta(minutes=1)
    return [r.temperature async for r in service.store.raw(DEVICE, "beer", end - timedelta(1), end)]


async def test_implausible_temperatures_are_dropped_alone_and_the_cursor_moves_on(
    make_service: Any, backend: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    temperatures = [1e308, 1e308, -1e308, -1e308, 126.0, -56.0] + [18.0 + i / 10 for i in range(6)]
    outbox = [
        {
            "seq": i + 1,
            "probe": "beer",
            "timestamp": iso(now - timedelta(seconds=60 - i)),
            "temperature": t,
        }
        for i, t in enumerate(temperatures)
    ]
    plausible = [t for t in temperatures if -55 <= t <= 125]
    caplog.set_level(logging.WARNING, "web_extras")
    async with (
        make_service(**backend) as service,
        hostile_device(
            service.url, TOKEN, INFO, state(), answering(outbox_answerer(outbox))
        ) as dev,
        aiohttp.ClientSession() as http,
    ):
        await wait_until(lambda: online(service))
        # The daemon pushes as its outbox grows: huge ones first, then honest ones.
        sent = 0
        for upto in (2, 4, 6, 9, 12):
            batch = outbox[sent:upto]
            sent = upto
            page = {"readings": batch, "cursor": str(upto), "more": False, "gap": False}
            await dev.push("readings", page)

        async def all_plausible_stored() -> bool:
            return sorted(await stored_temperatures(service)) == sorted(plausible)

        await wait_until(all_plausible_stored)
        assert await service.store.get_cursor(DEVICE) == str(len(outbox))
        assert "outside the -55..125 °C" in caplog.text
        # Every answer a browser reads is JSON it can parse.
        url = f"{service.url}/api/devices/{DEVICE}/readings?buckets=10"
        async with http.get(url) as response:
            body = strict_json(await response.text())
        assert response.status == 200
        assert sum(b["count"] for b in body["probes"]["beer"]) == len(plausible)
        assert max(b["max"] for b in body["probes"]["beer"]) == max(plausible)
        async with http.get(f"{service.url}/trend?device={DEVICE}&range=24h") as response:
            page = await response.text()
        assert response.status == 200
        embedded = re.search(r'id="first-answers">(.*?)</script>', page, re.S)
        assert embedded is not None
        strict_json(embedded.group(1))


@pytest.mark.parametrize("far", ["9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z"])
async def test_a_device_clock_far_from_ours_is_not_believed_and_every_page_works(
    make_service: Any, far: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "web_extras")
    hydrometer_token = "ispindel-token-0123456789abcdef"
    hydrometers = {"isp1": {"device": DEVICE, "token": hydrometer_token}}
    now = datetime.now(UTC)
    rows = [
        {"seq": 1, "probe": "beer", "timestamp": far, "temperature": 19.0},
        {
            "seq": 2,
            "probe": "beer",
            "timestamp": iso(now - timedelta(minutes=5)),
            "temperature": 18.0,
        },
        {"seq": 3, "probe": "beer", "timestamp": far, "temperature": 19.0},
    ]
    async with (
        make_service(hydrometers=hydrometers) as service,
        aiohttp.ClientSession() as http,
    ):
        async with hostile_device(service.url, TOKEN, INFO, state(timestamp=far)) as dev:
            await wait_until(lambda: online(service))
            await dev.push(
                "readings", {"readings": rows, "cursor": "3", "more": False, "gap": False}
            )
            await wait_until(lambda: service.store.get_cursor(DEVICE))
            assert await service.store.get_cursor(DEVICE) == "3"
            # Only the reading stamped near now is stored (count: in any year).
            assert await service.store.count(device=DEVICE) == 1
            for path in (
                f"/api/devices/{DEVICE}",
                f"/api/devices/{DEVICE}/readings?buckets=10",
                f"/api/devices/{DEVICE}/readings?start=first&buckets=10",
                f"/trend?device={DEVICE}",
                f"/trend?device={DEVICE}&range=all",
            ):
                async with http.get(service.url + path) as response:
                    assert response.status == 200, (path, await response.text())
            ispindel = {"name": "isp1", "token": hydrometer_token, "angle": 40.0, "gravity": 1.04}
            async with http.post(
                f"{service.url}/api/hydrometers/ispindel", json=ispindel
            ) as response:
                assert response.status == 200, await response.text()

        # The link is gone: its disconnect is recorded, at a time near ours.
        async def disconnected() -> list[Any]:
            end = datetime.now(UTC) + timedelta(minutes=1)
            found = await service.store.events(DEVICE, end - timedelta(hours=1), end)
            return [e for e in found if e.kind == "disconnected"]

        [event] = await wait_until(disconnected)
        assert abs(event.timestamp - datetime.now(UTC)) < timedelta(minutes=1)
    assert "ignoring the state's timestamp" in caplog.text
    assert "more than 1000 years from the service's clock" in caplog.text


async def test_hydrometers_in_states_are_capped_per_device(
    make_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "web_extras")

    def made_up(batch: int) -> list[dict[str, Any]]:
        at = iso(datetime.now(UTC))
        return [{"id": f"h{batch}-{i}", "sg": 1.05, "at": at} for i in range(200)]

    async with (
        make_service() as service,
        hostile_device(service.url, TOKEN, INFO, state(hydrometers=made_up(0))) as dev,
        aiohttp.ClientSession() as http,
    ):
        await wait_until(lambda: online(service))
        for batch in range(1, 6):
            await dev.push("state", state(hydrometers=made_up(batch)))

        def last_state_in() -> bool:
            named = service.hub.find(DEVICE).state.hydrometers
            return bool(named) and named[0].id == "h5-0"

        await wait_until(last_state_in)
        await asyncio.sleep(0.3)  # the gravity of the last state is stored meanwhile
        # A BeerPi keeps at most 16 hydrometers: no state lists more, and no more
        # than 16 of the device's are stored however many states name new ones.
        assert len(service.hub.find(DEVICE).state.hydrometers) == 16
        async with http.get(f"{service.url}/api/devices/{DEVICE}/gravity") as response:
            assert len((await response.json())["hydrometers"]) == 16
        assert "not storing hydrometer" in caplog.text
        assert await online(service)


async def test_gravity_from_states_is_held_to_its_allowance(
    make_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A device stamping a new reading of 16 hydrometers into every state it floods
    stores at most MAX_GRAVITY_PER_MINUTE rows a minute, and stays online."""
    caplog.set_level(logging.WARNING, "web_extras")
    start = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)

    def readings(batch: int) -> list[dict[str, Any]]:
        at = iso(start + timedelta(seconds=batch))
        return [{"id": f"h{i}", "sg": 1.05, "at": at} for i in range(16)]

    states = 60  # 960 new readings within a second or two
    async with (
        make_service() as service,
        hostile_device(service.url, TOKEN, INFO, state(hydrometers=readings(0))) as dev,
    ):
        began = time.monotonic()  # the allowance starts with the first state's readings
        await wait_until(lambda: online(service))
        for batch in range(1, states):
            await dev.push("state", state(hydrometers=readings(batch)))

        def last_state_in() -> bool:
            named = service.hub.find(DEVICE).state.hydrometers
            return bool(named) and named[0].at == iso(start + timedelta(seconds=states - 1))

        await wait_until(last_state_in)
        await asyncio.sleep(0.3)  # the gravity of the last state is stored meanwhile
        refilled = (time.monotonic() - began) * MAX_GRAVITY_PER_MINUTE / 60
        end = datetime.now(UTC)
        stored = 0
        for i in range(16):
            buckets = await service.store.gravity_series(DEVICE, f"h{i}", start, end, 1)
            stored += sum(b.count for b in buckets)
        # A minute's allowance, and what refilled while the states came in (a busy
        # machine takes longer: at most that much more).
        assert MAX_GRAVITY_PER_MINUTE <= stored <= MAX_GRAVITY_PER_MINUTE + refilled, stored
        assert stored < 960 / 2
        assert "gravity readings a minute" in caplog.text
        assert await online(service)


def profile(**values: Any) -> dict[str, Any]:
    """A running two-step profile as a daemon reports it, with ``values`` changed."""
    now = datetime.now(UTC)
    return {
        "name": "Ale",
        "steps": [
            {"kind": "hold", "target": 19.0, "hours": 96.0},
            {"kind": "ramp", "target": 21.0, "hours": 24.0},
        ],
        "step": 0,
        "step_time_left_s": 3600.0,
        "total_time_left_s": 3600.0 + 24 * 3600.0,
        "started_at": iso(now - timedelta(hours=95)),
        "finished": False,
        "paused": False,
        "paused_at": None,
        "step_ends_at": iso(now + timedelta(hours=1)),
        "ends_at": iso(now + timedelta(hours=25)),
        **values,
    }


async def shown_profile(service: RunningService, http: aiohttp.ClientSession) -> Any:
    async with http.get(f"{service.url}/api/devices/{DEVICE}") as response:
        assert response.status == 200, await response.text()
        return strict_json(await response.text())["state"]["thermostat"]


async def test_a_profile_no_daemon_runs_is_not_shown_and_its_times_are_bounded(
    make_service: Any,
) -> None:
    """Step index, times left and moments of a state's profile are what a BeerPi could
    say, or bounded; a step no BeerPi runs drops the plan. A true profile is kept."""
    far = "9999-12-31T23:59:59.999Z"
    true = profile()  # once: each call stamps its times anew
    cases: list[tuple[dict[str, Any], Any]] = [
        # (the profile a device states, what the API shows of it)
        (true, true),
        (
            profile(
                step=10**6,
                step_time_left_s=1e308,
                total_time_left_s=-5.0,
                started_at="garbage",
                step_ends_at=far,
                ends_at="0001-01-01T00:00:00.000Z",
            ),
            {
                "step": 1,
                "step_time_left_s": 24 * 365 * 3600.0,
                "total_time_left_s": 0.0,
                "started_at": None,
                "step_ends_at": None,
                "ends_at": None,
            },
        ),
        (profile(step=-3, paused=True, paused_at=far), {"step": 0, "paused_at": None}),
        (profile(steps=[{"kind": "hold", "target": 1e308, "hours": 1.0}]), None),
        (profile(steps=[{"kind": "boil", "target": 19.0, "hours": 1.0}]), None),
        (profile(steps=[{"kind": "hold", "target": 19.0, "hours": 1e9}]), None),
    ]
    async with make_service() as service, aiohttp.ClientSession() as http:
        first = state(thermostat={"mode": "heat_cool", "target": 19.0, "profile": profile()})
        async with hostile_device(service.url, TOKEN, INFO, first) as dev:
            await wait_until(lambda: online(service))
            for stated, expected in cases:
                sent = state(thermostat={"mode": "heat_cool", "target": 1e308, "profile": stated})
                await dev.push("state", sent)

                async def arrived(sent: dict[str, Any] = sent) -> bool:
                    shown = service.hub.find(DEVICE).state
                    return bool(shown is not None and shown.timestamp == sent["timestamp"])

                await wait_until(arrived)
                thermostat = await shown_profile(service, http)
                assert thermostat["target"] is None  # 1e308 °C is no target
                shown = thermostat["profile"]
                if expected is None:
                    assert shown is None, stated
                else:
                    for key, value in expected.items():
                        assert shown[key] == value, (key, stated)
                for path in (f"/trend?device={DEVICE}", f"/?device={DEVICE}"):
                    async with http.get(service.url + path) as response:
                        assert response.status == 200, path
                await asyncio.sleep(0.01)  # a new timestamp for the next state


async def test_pushed_photos_beyond_the_events_allowance_are_not_stored(
    make_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "web_extras")
    per_minute = 30
    async with (
        make_service(max_events_per_minute=per_minute) as service,
        hostile_device(service.url, TOKEN, INFO, state()) as dev,
        aiohttp.ClientSession() as http,
    ):
        await wait_until(lambda: online(service))
        for i in range(300):
            photo = {"id": f"p{i}", "kind": "photo", "content_type": "image/jpeg", "size": 1}
            await dev.push("photo", {**photo, "timestamp": iso(datetime.now(UTC))})
        # Pushes are recorded in order: once a state sent after them is in, so are they.
        await dev.push("state", state(thermostat={"reason": "after the photos"}))
        await wait_until(lambda: service.hub.find(DEVICE).state.thermostat.reason)
        assert "dropping events beyond" in caplog.text
        async with http.get(f"{service.url}/api/devices/{DEVICE}/media") as response:
            media = await response.json()
        end = datetime.now(UTC) + timedelta(minutes=1)
        events = await service.store.events(DEVICE, end - timedelta(hours=1), end)
        photos = [e for e in events if e.kind == "photo"]
        # Each photo listed has its event, and neither beyond a minute's allowance
        # (the connected event counts too; a few more trickle in while the test runs).
        assert len(media) == len(photos)
        assert per_minute // 2 < len(media) <= per_minute + 5


async def test_a_boot_id_that_is_no_id_is_not_kept(
    make_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "web_extras")
    hostile = "\x1b[31m<b>" + "A" * 60_000 + "\n"
    honest = str(uuid.uuid4())  # what /proc/sys/kernel/random/boot_id holds
    async with make_service() as service, aiohttp.ClientSession() as http:
        for boot_id in (hostile, honest):
            info = {**INFO, "boot_id": boot_id}
            async with hostile_device(service.url, TOKEN, info, state()):
                await wait_until(lambda: online(service))
                async with http.get(f"{service.url}/api/devices/{DEVICE}") as response:
                    announced = (await response.json())["device"]
                assert announced["boot_id"] == (honest if boot_id == honest else None)
            await wait_until(lambda: not service.hub.find(DEVICE).online)
        async with http.get(f"{service.url}/api/devices/{DEVICE}/events") as response:
            events = await response.json()
    connected = [e["data"] for e in events if e["kind"] == "connected"]
    assert [(c["boot_id"], c["previous_boot_id"]) for c in connected] == [
        (None, None),
        (honest, None),
    ]
    assert "ignoring its boot id" in caplog.text


async def test_media_requests_leave_nothing_behind_but_fetched_files(make_service: Any) -> None:
    # A device may well have a file whose id ends in a newline.
    files = {"v1": ("image/jpeg", JPEG), "v1\n": ("video/mp4", MP4)}
    async with (
        make_service() as service,
        hostile_device(service.url, TOKEN, INFO, state(), answering(media_answerer(files))),
        aiohttp.ClientSession() as http,
    ):
        await wait_until(lambda: online(service))
        url = f"{service.url}/api/devices/{DEVICE}/media"
        for i in range(50):  # any reader may ask for ids the device does not have
            async with http.get(f"{url}/unknown{i}") as response:
                assert response.status >= 400
        folder = Path(service.app[MEDIA]._root) / DEVICE
        assert not folder.exists() or list(folder.iterdir()) == []
        assert service.app[MEDIA]._locks == {}  # no lock kept per id asked for
        # An id with a newline is refused with an answer, not a dropped connection.
        async with http.get(f"{url}/v1%0A") as response:
            assert response.status == 400
            assert "not a valid id" in (await response.json())["message"]
        async with http.get(f"{url}/v1") as response:
            assert (response.status, await response.read()) == (200, JPEG)
        assert [p.name for p in folder.iterdir()] == ["v1"]
        assert service.app[MEDIA]._locks == {}


async def test_a_flood_of_bad_packets_is_logged_once_a_minute(
    make_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with make_service() as service, aiohttp.ClientSession() as http:
        url = f"ws://127.0.0.1:{service.port}/socket.io/?EIO=4&transport=websocket"
        async with http.ws_connect(url) as ws:
            await ws.receive()  # engineio's open packet
            for _ in range(100):  # no JSON parser takes a number of 5,000 digits
                await ws.send_str('40{"n":' + "9" * 5000 + "}")
            await wait_until(lambda: caplog.records)
            await asyncio.sleep(0.5)  # the rest of them are read meanwhile
    errors = [r for r in caplog.records if r.name.startswith("engineio")]
    assert len(errors) == 1
    assert errors[0].exc_info is not None  # the one line still says what failed
    assert sum(len(r.getMessage()) for r in caplog.records) < 2_000


def test_engine_log_counts_what_it_left_out(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, LOGGER_NAME)
    clock = [0.0]
    log = EngineLog(interval_s=60, clock=lambda: clock[0])
    for second in range(0, 120, 2):
        clock[0] = second
        log.exception("message async handler error")
        log.error("some other error")
    logged = [r.getMessage() for r in caplog.records]
    assert logged == [
        "message async handler error",
        "some other error",
        "message async handler error (29 more like this in the last 60 s)",
        "some other error (29 more like this in the last 60 s)",
    ]


def test_engine_log_keeps_routine_warnings_out(caplog: pytest.LogCaptureFixture) -> None:
    """A push to a client that has just left is no warning a person must read."""
    caplog.set_level(logging.DEBUG, LOGGER_NAME)
    log = EngineLog(interval_s=60)
    log.warning("Cannot send to sid %s", "abc")
    log.warning("Invalid session %s", "abc")
    levels = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert levels == [
        (logging.DEBUG, "Cannot send to sid abc"),
        (logging.WARNING, "Invalid session abc"),
    ]


def _is_clean_text(value: str, limit: int) -> bool:
    """At most ``limit`` long, no control characters, nothing stripped off to nothing."""
    return 0 < len(value) <= limit and not any(ch in value for ch in CONTROL)


CONTROL = "\x00\x07\x1b\r\n\t\x7f\u2028\u200b"
# Names of 5,000 characters with a terminal escape, a line break and a NUL in them.
LONG_NAME = "Fer\x1b[2J\r\nmen\x00t " + "x" * 5000
LONG_MESSAGE = "probe\x07 gone\r\n\u2028forged log line " + "y" * 5000


async def test_names_and_messages_are_cut_and_stripped_of_control_characters(
    make_service: Any,
) -> None:
    """A device's name, its probes' and relays' names and its fault messages reach the
    API (and so the pages, the log and the CSV files) cut to a length and without
    control characters or line separators: 64 for a name, 300 for a message."""
    info = {
        **INFO,
        "name": LONG_NAME,
        "probes": [{"id": "beer", "name": LONG_NAME}],
        "relays": [{"id": "heater", "name": LONG_NAME}],
    }
    fault = {"source": "beer", "code": "crc", "message": LONG_MESSAGE, "active": True}
    async with (
        make_service() as service,
        hostile_device(service.url, TOKEN, info, state(faults=[fault])) as dev,
        aiohttp.ClientSession() as http,
    ):
        await wait_until(lambda: online(service))
        await dev.push("fault", fault)

        async def fault_events() -> list[Any]:
            async with http.get(f"{service.url}/api/devices/{DEVICE}/events") as response:
                events = await response.json()
            return [e for e in events if e["kind"] == "fault_raised"]

        events = await wait_until(fault_events)
        async with http.get(f"{service.url}/api/devices/{DEVICE}") as response:
            record = await response.json()
    device = record["device"]
    names = [device["name"], device["probes"][0]["name"], device["relays"][0]["name"]]
    for name in names:
        assert _is_clean_text(name, 64), name
        assert name.startswith("Fer [2J men t x")  # each run of control characters: a space
    messages = [f["message"] for f in record["state"]["faults"]]
    messages += [e["data"]["message"] for e in events]
    assert len(messages) == 2
    for message in messages:
        assert _is_clean_text(message, 300), message
        assert message.startswith("probe  gone forged log line y")  # "\x07 ": two spaces
