"""Outages: silences in the readings and link drops, told apart by the daemon's boot id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.web.service import RunningService, running_service, web_config
from web_extras.outages import Cause, Outage, find_outages
from web_extras.store import (
    Bucket,
    Event,
    EventKind,
    GravityReading,
    GravitySource,
    StoredReading,
)

T0 = datetime(2024, 3, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)
DEVICE = "fv1"


def minutely(first: int, last: int, every: int = 1) -> list[Bucket]:
    """One-minute buckets with a reading each, minutes ``first`` to ``last`` - 1."""
    return [
        Bucket(T0 + m * MIN, T0 + (m + 1) * MIN, 20.0, 20.0, 20.0, 1)
        for m in range(first, last, every)
    ]


def link(kind: EventKind, minute: int, boot: str | None = None, before: str | None = None) -> Event:
    data: dict[str, Any] = {"link": "dial-in"}
    if kind is EventKind.CONNECTED:
        data |= {"boot_id": boot, "previous_boot_id": before}
    return Event(DEVICE, T0 + minute * MIN, kind, data)


def outages(series: dict[str, list[Bucket]], events: list[Event], until: int) -> list[Outage]:
    return find_outages(series, MIN, events, T0 + until * MIN)


def test_a_new_boot_id_after_a_silence_is_a_power_cut() -> None:
    series = {"beer": minutely(0, 60) + minutely(100, 160)}
    events = [
        link(EventKind.CONNECTED, 0, "boot-a", None),
        link(EventKind.DISCONNECTED, 62),
        link(EventKind.CONNECTED, 101, "boot-b", "boot-a"),
    ]
    assert outages(series, events, 160) == [
        Outage(T0 + 60 * MIN, T0 + 100 * MIN, Cause.POWER_LOST, readings_lost=True)
    ]


def test_the_same_boot_id_after_a_silence_is_a_daemon_restart() -> None:
    series = {"beer": minutely(0, 60) + minutely(100, 160), "fridge": minutely(0, 60)}
    # The dial-in link backs off: it came back a little after the first new reading.
    events = [link(EventKind.CONNECTED, 103, "boot-a", "boot-a")]
    [outage] = outages(series, events, 160)
    assert (outage.start, outage.end, outage.cause) == (T0 + 60 * MIN, T0 + 100 * MIN, "restarted")


def test_a_silence_without_a_reconnect_or_a_boot_id_is_offline() -> None:
    series = {"beer": minutely(0, 60) + minutely(100, 160)}
    old_daemon = [link(EventKind.CONNECTED, 100, None, None)]
    assert [o.cause for o in outages(series, [], 160)] == [Cause.OFFLINE]
    assert [o.cause for o in outages(series, old_daemon, 160)] == [Cause.OFFLINE]
    # Silent now: an outage up to the daemon's present.
    [now] = outages({"beer": minutely(0, 60)}, [link(EventKind.DISCONNECTED, 61)], 200)
    assert (now.start, now.end, now.cause) == (T0 + 60 * MIN, T0 + 200 * MIN, Cause.OFFLINE)


def test_a_link_drop_whose_readings_came_back_is_offline_with_nothing_lost() -> None:
    series = {"beer": minutely(0, 200)}
    events = [
        link(EventKind.CONNECTED, 0, "boot-a", None),
        link(EventKind.DISCONNECTED, 50),
        link(EventKind.CONNECTED, 120, "boot-a", "boot-a"),
        link(EventKind.DISCONNECTED, 150),  # a blip: shorter than a gap
        link(EventKind.CONNECTED, 152, "boot-a", "boot-a"),
    ]
    assert outages(series, events, 200) == [
        Outage(T0 + 50 * MIN, T0 + 120 * MIN, Cause.OFFLINE, readings_lost=False)
    ]


def test_sparse_readings_are_not_outages() -> None:
    """A daemon recording every 10 minutes (the seed's interval) leaves empty minutes."""
    series = {"beer": minutely(0, 600, every=10)}
    assert outages(series, [], 600) == []
    assert len(outages({"beer": minutely(0, 300, 10) + minutely(400, 600, 10)}, [], 600)) == 1


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RunningService]:
    async with running_service(web_config(tmp_path / "web")) as running:
        store = running.store
        await store.add_readings(
            StoredReading(DEVICE, probe, T0 + m * MIN, 20.0)
            for probe in ("beer", "fridge")
            for m in [*range(0, 120), *range(180, 300)]
        )
        for event in (
            link(EventKind.CONNECTED, 0, "boot-a", None),
            link(EventKind.CONNECTED, 181, "boot-b", "boot-a"),
        ):
            await store.add_event(event)
        await running.hub.load_known()
        yield running


async def test_the_readings_api_lists_outages_and_the_span(service: RunningService) -> None:
    url = f"{service.url}/api/devices/{DEVICE}"
    async with aiohttp.ClientSession() as http:
        query = {"start": "2024-03-01T00:00:00Z", "end": "2024-03-01T05:00:00Z", "buckets": "300"}
        async with http.get(url + "/readings", params=query) as response:
            answer = await response.json()
        async with http.get(url + "/readings/span") as response:
            span = await response.json()
        async with http.get(f"{service.url}/api/devices/nobody/readings/span") as response:
            assert response.status == 404
    assert answer["outages"] == [
        {
            "start": "2024-03-01T02:00:00.000Z",
            "end": "2024-03-01T03:00:00.000Z",
            "cause": "power_lost",
            "readings_lost": True,
        }
    ]
    assert span == {
        "device": DEVICE,
        "first": "2024-03-01T00:00:00.000Z",
        "last": "2024-03-01T04:59:00.000Z",
    }
    # "All": from the first reading, as the answer's start says.
    async with (
        aiohttp.ClientSession() as http,
        http.get(url + "/readings", params={**query, "start": "first"}) as response,
    ):
        assert (await response.json())["start"] == "2024-03-01T00:00:00.000Z"
    # Its gravity too, asked at once (from the first temperature reading: one grid).
    await service.store.add_gravity(
        [GravityReading(DEVICE, "red", T0 + 30 * MIN, 1.050, 20.0, source=GravitySource.TILT)]
    )
    async with (
        aiohttp.ClientSession() as http,
        http.get(url + "/gravity/series", params={**query, "start": "first"}) as response,
    ):
        gravity = await response.json()
    assert (gravity["start"], gravity["end"]) == (
        "2024-03-01T00:00:00.000Z",
        query["end"][:-1] + ".000Z",
    )
    assert [b["mean"] for b in gravity["hydrometers"]["red"]] == [1.050]
    # One probe: its buckets only.
    async with (
        aiohttp.ClientSession() as http,
        http.get(url + "/readings", params={**query, "probe": "beer"}) as response,
    ):
        assert "outages" not in await response.json()
