"""Class 1: stored script from a device (issue 14).

A dial-out device that holds only its own token chooses its name, its probe and
relay ids, fault messages and the bytes and type of its media. None of it may
ever run as script in the service's origin: the service refuses ids that are
not ids, renders every string as text on both pages, serves media only with
the types BeerPi makes (videos as attachments), and puts nosniff and a CSP on
every response. Runs the real service (``python -m web_extras``), a hostile
device on the daemon's real dial-out client, and Debian's Chromium.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from beerpi_devtools.harness import WebService
from tests.browser.conftest import launched_chromium
from tests.web.service import service_process
from web_extras.store import StoredReading
from web_extras.store.sqlite import SqliteHistoryStore

from .hostile import (
    HTML_PAGE,
    JPEG,
    MP4,
    XSS,
    HostileDevice,
    answering,
    in_background,
    iso,
    media_answerer,
    readings,
    strong_token,
)

DEVICE = "evil-fridge"
TOKEN = strong_token()
MEDIA = {
    "page": ("text/html", HTML_PAGE),  # claims to be a photo below
    "photo": ("image/jpeg", JPEG),
    "video": ("video/mp4", MP4),
    "disguised": ("image/jpeg", HTML_PAGE),  # the right type, the wrong bytes
    # A type browsers sniff or play that BeerPi does not make.
    "avi": ("video/x-msvideo", b"RIFF\x00\x00\x00\x00AVI LIST" + b"\x00" * 64),
}
INFO = {
    "id": DEVICE,
    "name": XSS,
    "model": XSS,
    "sw_version": XSS,
    "probes": [{"id": XSS, "name": XSS}, {"id": "beer", "name": XSS}],
    "relays": [{"id": XSS, "name": XSS}, {"id": "heater", "name": XSS}],
    "camera": True,
    "capabilities": ["camera", "video", XSS],
}


# Elements the device's markup would have made, had it been parsed as HTML.
INJECTED = "document.querySelectorAll('img[src=\"x\"]').length"


def hostile_state() -> dict[str, Any]:
    now = iso(datetime.now(UTC))
    probe = {"temperature": 18.5, "timestamp": now, "fault": None}
    return {
        "timestamp": now,
        "probes": {XSS: probe, "beer": probe},
        "relays": {XSS: {"on": True}, "heater": {"on": False}},
        "thermostat": {"mode": "off", "target": 18.0, "action": "off", "reason": XSS},
        "faults": [{"source": XSS, "code": "crc", "message": XSS, "active": True}],
    }


# A probe id stored before ids were checked at ingest: the pages must still
# render it as text (the second wall).
LEGACY = '<img src=x onerror="window.__pwned=(window.__pwned||0)+100">'


async def seed_legacy(db: Path) -> None:
    store = SqliteHistoryStore(db)
    await store.open()
    now = datetime.now(UTC)
    await store.add_readings(
        StoredReading(DEVICE, LEGACY, now - timedelta(minutes=5 * i), 19.0) for i in range(288)
    )
    await store.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebService]:
    tmp = tmp_path_factory.mktemp("stored-script")
    (tmp / "web").mkdir()
    # Playwright's sync API keeps a loop on this thread: seed from another one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, seed_legacy(tmp / "web" / "history.sqlite")).result(60)
    with service_process(
        "--data-dir", str(tmp / "web"), "--device-token", f"{DEVICE}={TOKEN}"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def device(service: WebService) -> Iterator[None]:
    """The hostile device, linked for the whole module (its own loop, in a thread)."""

    async def run(ready: threading.Event) -> None:
        pages = [readings([XSS, "beer"], 288)]  # a day of 5-minute readings
        hostile = HostileDevice(
            service.url, TOKEN, INFO, hostile_state(), answering(media_answerer(MEDIA), pages=pages)
        )
        await hostile.start()
        try:
            await asyncio.sleep(1)  # the catch-up
            await hostile.push("fault", {"source": XSS, "code": "crc", "message": XSS})
            for media_id, (content_type, _) in MEDIA.items():
                kind = "video" if media_id in ("video", "avi") else "photo"
                await hostile.push(
                    "photo",
                    {
                        "id": media_id,
                        "kind": kind,
                        "content_type": content_type,
                        "size": 10,
                        "timestamp": iso(datetime.now(UTC)),
                    },
                )
            await asyncio.sleep(1)
            ready.set()
            await asyncio.Event().wait()
        finally:
            await hostile.stop()

    with in_background(run):
        yield


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@pytest.mark.browser
def test_device_strings_never_run_as_script_on_either_page(
    chromium: Any, service: WebService, device: None
) -> None:
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{service.url}/trend?device={DEVICE}")
        page.wait_for_selector("body[data-ready]")
        page.wait_for_selector("#chart[data-loaded]")
        # The hover read-out names every probe near the pointer: sweep the chart.
        box = page.locator("#chart").bounding_box()
        assert box is not None
        for i in range(1, 20):
            page.mouse.move(box["x"] + box["width"] * i / 20, box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(300)
        # The page's CSP would stop an inline handler from running; the string
        # must not even become an element.
        assert page.evaluate(INJECTED) == 0, "a device string became HTML on the trend page"
        assert page.evaluate("window.__pwned") is None, "a device string ran on the trend page"
        # The strings reach the page as the text they are.
        assert XSS in page.title()
        assert LEGACY.capitalize()[:12] in page.locator("#chart .readout").inner_text()

        page.goto(f"{service.url}/?device={DEVICE}")
        page.wait_for_selector("body[data-ready]")
        page.wait_for_timeout(1000)
        assert page.evaluate(INJECTED) == 0, "a device string became HTML on the current page"
        assert page.evaluate("window.__pwned") is None, "a device string ran on the current page"

        # Media the device sent as a page: opened in the service's origin, it must not run.
        for media_id in ("page", "disguised", "avi"):
            page.goto(f"{service.url}/api/devices/{DEVICE}/media/{media_id}")
            page.wait_for_timeout(300)
            assert page.evaluate("window.__pwned") is None, f"media {media_id} ran as a page"
    finally:
        context.close()


def test_ids_that_are_not_ids_are_refused_at_ingest(service: WebService, device: None) -> None:
    status, _, body = fetch(f"{service.url}/api/devices/{DEVICE}/readings")
    assert status == 200
    probes = json.loads(body)["probes"]
    assert probes["beer"], "the valid probe's readings were stored"
    assert XSS not in probes
    status, _, body = fetch(f"{service.url}/api/devices/{DEVICE}")
    record = json.loads(body)
    assert [p["id"] for p in record["device"]["probes"]] == ["beer"]
    assert list(record["state"]["relays"]) == ["heater"]
    assert XSS not in record["device"]["capabilities"]


def test_media_only_with_beerpi_types_videos_as_attachments(
    service: WebService, device: None
) -> None:
    base = f"{service.url}/api/devices/{DEVICE}/media"
    status, headers, body = fetch(f"{base}/photo")
    assert (status, headers["Content-Type"]) == (200, "image/jpeg")
    assert body == JPEG
    assert "attachment" not in headers.get("Content-Disposition", "")
    status, headers, body = fetch(f"{base}/video")
    assert (status, headers["Content-Type"]) == (200, "video/mp4")
    assert headers["Content-Disposition"].startswith("attachment")
    for media_id in ("page", "disguised", "avi"):
        status, headers, body = fetch(f"{base}/{media_id}")
        assert status == 502, media_id
        assert b"<script>" not in body
        assert headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/trend",
        "/health",
        "/api/devices",
        f"/api/devices/{DEVICE}/readings",
        f"/api/devices/{DEVICE}/media/photo",
        "/api/openapi.json",
        "/static/js/api.js",
        "/api/no-such-thing",
        "/socket.io/?EIO=4&transport=polling",
    ],
)
def test_every_response_has_nosniff_and_a_csp(service: WebService, device: None, path: str) -> None:
    _, headers, _ = fetch(service.url + path)
    assert headers.get("X-Content-Type-Options") == "nosniff", path
    assert "default-src" in headers.get("Content-Security-Policy", ""), path
    if "/media/" in path:
        assert "sandbox" in headers["Content-Security-Policy"]
