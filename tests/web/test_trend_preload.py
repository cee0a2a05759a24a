"""The trend page names its first data requests in its HTML only when the service can
tell what they are, and only for a reader who may read them (trend_preload.py).

The page's side (it uses them only when they match) is in tests/browser/test_trend.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from tests.web.service import RunningService, running_service, web_config
from web_extras.trend_preload import DEFAULT_BUCKETS, TREND_BUCKETS_COOKIE

LINK = re.compile(r'<link rel="preload" as="fetch" crossorigin href="([^"]*)" data-trend="(\w+)"')
OLD, YOUNG, ODD = "fv-old", "fv-young", 'fv "<odd>"'


def minutes(start: datetime, count: int) -> list[tuple[int, float]]:
    first = int(start.timestamp() * 1000)
    return [(first + i * 60_000, 19.5) for i in range(count)]


async def seed(service: RunningService, *devices: tuple[str, datetime]) -> None:
    """Half an hour of readings from each device's start, and the last half hour."""
    recent = datetime.now(UTC) - timedelta(minutes=30)
    for device, start in devices:
        await service.store.add_points(device, "beer", minutes(start, 30) + minutes(recent, 30))
    await service.hub.load_known()


@pytest.fixture
async def open_service(tmp_path: Path) -> AsyncIterator[RunningService]:
    async with running_service(web_config(tmp_path / "web")) as service:
        now = datetime.now(UTC)
        await seed(service, (OLD, now - timedelta(days=90)), (YOUNG, now - timedelta(days=2)))
        yield service


async def preloads(
    service: RunningService, query: str, cookies: dict[str, str] | None = None
) -> dict[str, dict[str, list[str]]]:
    """name -> the query of each preloaded request in GET /trend?query."""
    async with (
        aiohttp.ClientSession(cookies=cookies) as http,
        http.get(f"{service.url}/trend?{query}") as response,
    ):
        assert response.status == 200
        html = await response.text()
    assert "<!--#trend-preload" not in html
    found = {}
    for href, name in LINK.findall(html):
        url = urlsplit(unescape(href))
        found[name] = {"path": [url.path], **parse_qs(url.query)}
    return found


async def test_the_device_and_range_in_the_address_are_preloaded(
    open_service: RunningService,
) -> None:
    before = datetime.now(UTC)
    found = await preloads(open_service, f"device={OLD}&range=all")
    assert sorted(found) == ["events", "gravity", "media", "readings"]
    readings = found["readings"]
    assert readings["path"] == [f"api/devices/{OLD}/readings"]
    assert readings["start"] == ["first"]
    assert readings["buckets"] == [str(DEFAULT_BUCKETS)]
    # A minute past now, as the page asks (its check allows 30 s).
    end = datetime.fromisoformat(readings["end"][0])
    assert before + timedelta(seconds=59) < end < datetime.now(UTC) + timedelta(seconds=61)
    assert found["events"]["start"] == ["1970-01-01T00:00:00.000Z"]
    assert found["gravity"]["start"] == ["first"]

    thirty = (await preloads(open_service, f"device={OLD}&range=30d"))["readings"]
    start = datetime.fromisoformat(thirty["start"][0])
    assert datetime.fromisoformat(thirty["end"][0]) - start == timedelta(days=30)


async def test_without_a_range_the_one_that_fits_the_history_is_guessed(
    open_service: RunningService,
) -> None:
    old = (await preloads(open_service, f"device={OLD}"))["readings"]
    young = (await preloads(open_service, f"device={YOUNG}"))["readings"]
    start, end = (datetime.fromisoformat(old[key][0]) for key in ("start", "end"))
    assert end - start == timedelta(days=30)  # the last 30 days of a 90-day history
    assert young["start"] == ["first"]  # all of two days


async def test_the_remembered_bucket_count_is_used_and_a_bad_one_is_not_trusted(
    open_service: RunningService,
) -> None:
    query = f"device={OLD}&range=all"
    for cookie, buckets in [
        ("300", 300),
        ("3", 10),
        ("99999", DEFAULT_BUCKETS),
        ("12a", DEFAULT_BUCKETS),
        ("-5", DEFAULT_BUCKETS),
        ("٣٠٠", DEFAULT_BUCKETS),  # digits, but not ASCII ones
    ]:
        found = await preloads(open_service, query, {TREND_BUCKETS_COOKIE: cookie})
        assert found["readings"]["buckets"] == [str(buckets)], cookie


async def test_nothing_is_guessed_when_the_service_cannot_tell(
    open_service: RunningService,
) -> None:
    assert await preloads(open_service, "device=fv-unknown&range=all") == {}
    assert await preloads(open_service, "range=all") == {}  # two devices: which one?
    # A zoomed opening (a brew session's span from the current page).
    assert await preloads(open_service, f"device={OLD}&from=2026-01-01T00:00:00Z") == {}


async def test_the_only_device_is_guessed_and_its_id_is_text(tmp_path: Path) -> None:
    async with running_service(web_config(tmp_path / "web")) as service:
        await seed(service, (ODD, datetime.now(UTC) - timedelta(hours=3)))
        async with aiohttp.ClientSession() as http, http.get(f"{service.url}/trend") as response:
            html = await response.text()
    assert "<odd>" not in html
    assert 'data-device="fv &quot;&lt;odd&gt;&quot;"' in html
    found = links_in(html)
    assert found["readings"].startswith("api/devices/fv%20%22%3Codd%3E%22/readings?start=first&")


def links_in(html: str) -> dict[str, str]:
    """name -> URL of each preloaded request in a page."""
    return {name: unescape(href) for href, name in LINK.findall(html)}


async def test_a_reader_who_may_not_read_gets_no_guess(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("correct horse\n")
    config = web_config(tmp_path / "web", user="brewer", password_file=str(password))
    async with running_service(config) as service:
        await seed(service, (OLD, datetime.now(UTC) - timedelta(days=3)))
        query = f"device={OLD}&range=all"
        assert await preloads(service, query) == {}
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            login = {"username": "brewer", "password": "correct horse"}
            async with http.post(f"{service.url}/api/login", json=login) as response:
                assert response.status == 200
            async with http.get(f"{service.url}/trend?{query}") as response:
                found = links_in(await response.text())
            assert sorted(found) == ["events", "gravity", "media", "readings"]
            # What the page would ask for is what this session may read.
            async with http.get(f"{service.url}/{found['readings']}") as response:
                assert response.status == 200
                assert "beer" in (await response.json())["probes"]


async def test_a_public_reader_gets_no_guess_of_the_photos(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("correct horse\n")
    config = web_config(
        tmp_path / "web", user="brewer", password_file=str(password), public_read=True
    )
    async with running_service(config) as service:
        await seed(service, (OLD, datetime.now(UTC) - timedelta(days=3)))
        # Photos need a login (the page's own request gets the 401 it handles).
        assert sorted(await preloads(service, f"device={OLD}")) == ["events", "gravity", "readings"]
