"""The trend page carries its first data in its HTML only when the service can tell
what the page will ask for, and only for a reader who may read it (trend_preload.py):
the same answers the API gives, as text that cannot end the script element.

The page's side (it uses them only when they match) is in tests/browser/test_trend.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from tests.web.service import LOGIN, RunningService, running_service, secured_config, web_config
from web_extras import trend_preload
from web_extras.trend_preload import DEFAULT_BUCKETS, TREND_BUCKETS_COOKIE

FIRST = re.compile(r'<script type="application/json" id="first-answers">([^<]*)</script>')
PRELOAD = re.compile(r'<link rel="preload" as="fetch" crossorigin href="([^"]*)">')
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


async def page(service: RunningService, query: str, cookies: dict[str, str] | None = None) -> str:
    async with (
        aiohttp.ClientSession(cookies=cookies) as http,
        http.get(f"{service.url}/trend?{query}") as response,
    ):
        assert response.status == 200
        html = await response.text()
    assert "<!--#trend-" not in html
    return html


def first_in(html: str) -> dict[str, Any]:
    """The page's #first-answers, {"guess": ..., "answers": ...} ({} without it)."""
    found = FIRST.findall(html)
    assert len(found) <= 1
    return json.loads(found[0]) if found else {}


async def preloads(
    service: RunningService, query: str, cookies: dict[str, str] | None = None
) -> dict[str, dict[str, list[str]]]:
    """name -> the query of each request guessed in GET /trend?query."""
    first = first_in(await page(service, query, cookies))
    found = {}
    for name, href in first.get("guess", {}).get("urls", {}).items():
        url = urlsplit(href)
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
    first = first_in(html)
    assert first["guess"]["device"] == ODD
    found = links_in(html)
    assert found["readings"].startswith("api/devices/fv%20%22%3Codd%3E%22/readings?start=first&")
    [device] = first["answers"]["api/devices"]
    assert device["id"] == ODD


def links_in(html: str) -> dict[str, str]:
    """name -> URL of each request the service guessed in a page."""
    return dict(first_in(html).get("guess", {}).get("urls", {}))


async def test_a_reader_who_may_not_read_gets_no_guess(tmp_path: Path) -> None:
    config = secured_config(tmp_path, api_token=None)
    async with running_service(config) as service:
        await seed(service, (OLD, datetime.now(UTC) - timedelta(days=3)))
        query = f"device={OLD}&range=all"
        html = await page(service, query)
        assert first_in(html) == {}  # no data at all, not even the device list
        # The page asks for its session first (and gets the login form).
        assert '<link rel="preload" href="api/session" as="fetch" crossorigin>' in html
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            login = LOGIN
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
    config = secured_config(tmp_path, api_token=None, public_read=True)
    async with running_service(config) as service:
        await seed(service, (OLD, datetime.now(UTC) - timedelta(days=3)))
        # Photos need a login (the page's own request gets the 401 it handles).
        assert sorted(await preloads(service, f"device={OLD}")) == ["events", "gravity", "readings"]


async def test_the_answers_in_the_page_are_what_the_api_answers(
    open_service: RunningService,
) -> None:
    first = first_in(await page(open_service, f"device={OLD}&range=all"))
    urls = ["api/session", "api/devices", *first["guess"]["urls"].values()]
    assert sorted(first["answers"]) == sorted(urls)
    async with aiohttp.ClientSession() as http:
        for url in urls:
            async with http.get(f"{open_service.url}/{url}") as response:
                assert response.status == 200, url
                assert await response.json() == first["answers"][url], url
    readings = first["answers"][first["guess"]["urls"]["readings"]]
    assert len(readings["probes"]["beer"]) > 0


async def test_a_hostile_device_name_stays_text(tmp_path: Path) -> None:
    """Nothing a device calls itself can end the script element the answers are in."""
    hostile = "fv </script><script>alert(1)</script><!--"
    async with running_service(web_config(tmp_path / "web")) as service:
        await seed(service, (hostile, datetime.now(UTC) - timedelta(hours=3)))
        html = await page(service, "")
    assert "<script>alert" not in html
    assert html.count("</script>") == 3  # D3's, the bundle's and the answers' own
    first = first_in(html)  # FIRST matches only JSON without a "<"
    assert first["guess"]["device"] == hostile
    assert first["answers"]["api/devices"][0]["id"] == hostile
    readings = first["answers"][first["guess"]["urls"]["readings"]]
    assert readings["device"] == hostile
    assert readings["probes"]["beer"]


async def test_an_answer_too_long_for_the_page_is_preloaded_instead(
    open_service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = f"device={OLD}&range=all"
    whole = first_in(await page(open_service, query))["answers"]
    size = {
        url: len(f"{trend_preload.script_json(url)}:{trend_preload.script_json(answer)}")
        for url, answer in whole.items()
    }
    readings = next(url for url in whole if "/readings?" in url)
    # The readings come first after the session and the device list: one character short.
    room = size["api/session"] + size["api/devices"] + size[readings] - 1
    monkeypatch.setattr(trend_preload, "INLINE_MAX_CHARS", room)
    html = await page(open_service, query)
    first = first_in(html)
    urls = first["guess"]["urls"]
    assert size[readings] > 300
    assert urls["readings"] not in first["answers"]
    assert urls["events"] in first["answers"]  # the short ones still fit
    assert [unescape_amp(href) for href in PRELOAD.findall(html)] == [urls["readings"]]


def unescape_amp(href: str) -> str:
    return href.replace("&amp;", "&")


async def test_a_failing_answer_leaves_the_page_whole(
    open_service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that fails for one answer: the page still loads, with that request
    preloaded (the page gets the service's error for it and says so)."""

    async def failing(*_: object) -> object:
        raise RuntimeError("the store is down")

    monkeypatch.setitem(trend_preload.ANSWERS, "events", failing)
    html = await page(open_service, f"device={OLD}&range=all")
    first = first_in(html)
    urls = first["guess"]["urls"]
    assert urls["events"] not in first["answers"]
    assert urls["readings"] in first["answers"]
    assert [unescape_amp(href) for href in PRELOAD.findall(html)] == [urls["events"]]
    assert html.rstrip().endswith("</html>")


async def test_without_the_device_list_the_page_asks_for_everything_itself(
    open_service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(*_: object) -> object:
        raise RuntimeError("the other service process does not answer")

    monkeypatch.setattr(trend_preload, "devices_answer", failing)
    html = await page(open_service, f"device={OLD}&range=all")
    assert first_in(html) == {}
    assert '<link rel="preload" href="api/devices" as="fetch" crossorigin>' in html
    assert html.rstrip().endswith("</html>")
