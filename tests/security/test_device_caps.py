"""Class 1 (continued): what one device may send is capped, with a clear error, and its link kept.

A device holding its own token used to be able to stream an unbounded media
file (the service trusted the size it stated), send unbounded readings,
thousands of made-up probe ids, and events that reached browsers watching
other devices. The real service runs in-process here (SQLite), the hostile
device on the daemon's real dial-out client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.web.service import RunningService, live_client, running_service, wait_until, web_config

from .hostile import (
    JPEG,
    answering,
    hostile_device,
    iso,
    media_answerer,
    outbox_answerer,
    readings,
    strong_token,
)

DEVICE = "greedy"
TOKEN = strong_token()
BYSTANDER_TOKEN = strong_token()
INFO = {"id": DEVICE, "name": "Greedy", "probes": [{"id": "beer", "name": "Beer"}]}


def state() -> dict[str, Any]:
    return {"timestamp": iso(datetime.now(UTC)), "probes": {}, "relays": {}}


@pytest.fixture
def make_service(tmp_path: Path) -> Any:
    @contextlib.asynccontextmanager
    async def make(**limits: Any) -> AsyncIterator[RunningService]:
        tokens = {DEVICE: TOKEN, "bystander": BYSTANDER_TOKEN}
        config = web_config(tmp_path / "web", device_tokens=tokens, **limits)
        async with running_service(config) as service:
            yield service

    return make


async def online(service: RunningService, device: str = DEVICE) -> bool:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{service.url}/api/devices/{device}") as response,
    ):
        return response.status == 200 and (await response.json())["online"] is True


async def test_media_size_is_counted_while_streaming_not_taken_from_the_device(
    make_service: Any,
) -> None:
    cap = 256 * 1024
    files = {"huge": ("image/jpeg", JPEG + b"\0" * (4 * cap)), "small": ("image/jpeg", JPEG)}
    async with (
        make_service(max_media_bytes=cap) as service,
        hostile_device(service.url, TOKEN, INFO, state(), answering(media_answerer(files))) as dev,
        aiohttp.ClientSession() as http,
    ):
        await wait_until(lambda: online(service))
        url = f"{service.url}/api/devices/{DEVICE}/media"
        async with http.get(f"{url}/huge") as response:
            body = await response.json()
        assert (response.status, body["error"]) == (502, "media_too_large")
        assert str(cap) in body["message"]
        # It stopped asking once past the cap, although the device said "10 bytes".
        assert dev.handler.requests.count("get_media") <= cap // (32 * 1024) + 2
        # The link is kept: the next (honest) file comes through.
        async with http.get(f"{url}/small") as response:
            assert (response.status, await response.read()) == (200, JPEG)
        assert await online(service)


async def stored_readings(service: RunningService) -> int:
    end = datetime.now(UTC) + timedelta(minutes=1)
    return len([r async for r in service.store.raw(DEVICE, "beer", end - timedelta(days=2), end)])


async def test_readings_come_in_bounded_batches_and_a_long_catch_up_finishes(
    make_service: Any,
) -> None:
    # An honest daemon back after a long outage: 1,200 readings wait in its outbox.
    outbox = readings(["beer"], 1200, step_s=60)["readings"]
    limits: list[Any] = []  # what each readings_since asked for

    async def page_size(event: str, payload: Any) -> None:
        if event == "readings_since":
            limits.append(payload.get("limit"))

    async with (
        make_service() as service,
        hostile_device(
            service.url, TOKEN, INFO, state(), answering(page_size, outbox_answerer(outbox))
        ) as dev,
    ):
        await wait_until(lambda: online(service))

        async def all_stored() -> bool:
            return await stored_readings(service) == len(outbox)

        # Every page fits in one socket.io packet: the link stays and nothing is lost.
        await wait_until(all_stored, timeout_s=30)
        # In pages of 500 (README, Links): 1,200 readings are three of them.
        assert limits[:3] == [500, 500, 500]
        assert dev.connected
        assert await online(service)
        # A push bigger than a batch is not taken as it is: fetched in pages instead.
        asked = dev.handler.requests.count("readings_since")
        await dev.push("readings", readings(["beer"], 700, first_seq=1201, step_s=1))
        await wait_until(lambda: dev.handler.requests.count("readings_since") > asked)
        assert await stored_readings(service) == len(outbox)


async def test_readings_per_minute_are_capped_and_the_link_kept(make_service: Any) -> None:
    per_minute = 600
    async with (
        make_service(max_readings_per_minute=per_minute) as service,
        hostile_device(service.url, TOKEN, INFO, state()) as dev,
    ):
        await wait_until(lambda: online(service))
        seq = 1
        for _ in range(40):  # 10,000 readings, each batch right after the one before
            await dev.push("readings", readings(["beer"], 250, first_seq=seq, step_s=1))
            seq += 250
        await asyncio.sleep(2)
        # At most a minute's allowance, plus what trickled in while the test ran.
        assert 0 < await stored_readings(service) <= per_minute + 100
        assert await online(service)


async def test_readings_over_the_allowance_wait_in_the_outbox_and_come_in_later(
    make_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The README: the excess is logged once a minute, the link stays, and an honest
    daemon's outbox keeps what waits. 1,300 readings wait; the allowance (1,200 a
    minute, refilled 20 a second) takes two pages of 500, the third waits; the next
    push, a few seconds later, brings it in whole, and nothing is lost."""
    caplog.set_level(logging.WARNING, "web_extras")
    outbox = readings(["beer"], 1300, step_s=60)["readings"]
    async with (
        make_service(max_readings_per_minute=1200) as service,
        hostile_device(service.url, TOKEN, INFO, state(), outbox_answerer(outbox)) as dev,
    ):
        await wait_until(lambda: online(service))
        await wait_until(lambda: "catching up later" in caplog.text)
        assert await stored_readings(service) == 1000
        assert await online(service)
        await asyncio.sleep(5.5)  # 110 more allowed by now: the 300 waiting fit

        # The daemon records its next reading and pushes it, as it does every minute.
        newest = readings(["beer"], 1, first_seq=1301)
        outbox.extend(newest["readings"])
        await dev.push("readings", newest)

        async def all_stored() -> bool:
            return await stored_readings(service) == len(outbox)

        await wait_until(all_stored)
        assert dev.connected
    refused = [r for r in caplog.records if "catching up later" in r.getMessage()]
    assert len(refused) == 1  # once a minute, not once a page


async def test_probes_per_device_are_capped(make_service: Any) -> None:
    async with (
        make_service() as service,
        hostile_device(service.url, TOKEN, INFO, state()) as dev,
    ):
        await wait_until(lambda: online(service))
        made_up = [f"probe-{i}" for i in range(100)]
        await dev.push("readings", readings(made_up, 1))
        await dev.push(
            "state",
            {**state(), "probes": {p: {"temperature": 20.0} for p in made_up}},
        )
        await wait_until(lambda: service.hub.find(DEVICE).state.probes)
        await asyncio.sleep(0.5)
        # The default allowance: 32 probes (what a daemon's config may have).
        assert len(await service.store.probes(DEVICE)) == 32
        assert len(service.hub.find(DEVICE).state.probes) == 32
        assert await online(service)


async def test_events_per_minute_are_capped(make_service: Any) -> None:
    async with (
        make_service() as service,
        hostile_device(service.url, TOKEN, INFO, state()) as dev,
    ):
        await wait_until(lambda: online(service))
        for i in range(500):
            await dev.push("fault", {"source": "beer", "code": "crc", "message": f"flood {i}"})
        await asyncio.sleep(1)
        now = datetime.now(UTC)
        events = await service.store.events(DEVICE, now - timedelta(hours=1), now)
        # The default allowance: 120 a minute (the connect event counts too).
        assert 110 <= len(events) <= 125
        assert await online(service)


async def test_events_reach_only_browsers_watching_that_device(make_service: Any) -> None:
    other = {**INFO, "id": "bystander", "name": "Bystander"}
    async with (
        make_service() as service,
        hostile_device(service.url, TOKEN, INFO, state()) as greedy,
        hostile_device(service.url, BYSTANDER_TOKEN, other, state()) as bystander,
        live_client(service.url) as (watcher, got),
    ):
        await wait_until(lambda: got)
        ack = await watcher.call("watch", {"devices": ["bystander"]}, namespace="/live")
        assert ack["ok"] is True
        await greedy.push("fault", {"source": "beer", "code": "crc", "message": "not yours"})
        await bystander.push("fault", {"source": "beer", "code": "crc", "message": "yours"})

        def events_of(device: str) -> list[Any]:
            return [d for e, d in got if e == "event" and d["device"] == device]

        await wait_until(lambda: events_of("bystander"))
        assert events_of(DEVICE) == []
