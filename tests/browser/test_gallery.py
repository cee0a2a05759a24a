"""The current page's gallery: recorded videos play, photos show, device strings stay text."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Page, Route, expect

from .conftest import Console, Stack
from .test_pages import open_current, wait_until


def video_facts(page: Page, media_id: str) -> Any:
    return page.evaluate(
        """(id) => {
            const item = [...document.querySelectorAll('#gallery li')]
                .find((li) => li.dataset.mediaId === id);
            const video = item && item.querySelector('video');
            return video && { readyState: video.readyState, duration: video.duration,
                              error: video.error && video.error.code,
                              width: video.videoWidth, time: video.currentTime };
        }""",
        media_id,
    )


def test_a_recorded_video_appears_in_the_gallery_and_plays(page: Page, stack: Stack) -> None:
    open_current(page, stack)
    page.get_by_label("Video length (s)").fill("3")
    with page.expect_response(lambda r: r.url.endswith("/video")) as answer:
        page.get_by_role("button", name="Record video").click()
    media_id = answer.value.json()["id"]
    expect(page.locator("#camera-status")).to_have_text("Video ready.", timeout=30_000)
    tile = page.locator("#gallery li").filter(has=page.locator("video")).first
    expect(tile).to_have_attribute("data-media-id", media_id)
    expect(tile.locator("figcaption")).to_contain_text("Video ·")
    # The browser read the MP4's header: a 3 s video of the simulated camera's size.
    facts = wait_until(
        lambda: (f := video_facts(page, media_id)) and f["readyState"] >= 1 and f,
        what="the video's metadata",
    )
    assert facts["error"] is None
    assert facts["duration"] == pytest.approx(3.0, abs=0.3)
    assert facts["width"] == 640
    # And it plays: time moves on (muted, as browsers allow without a gesture).
    page.evaluate(
        """(id) => { const li = [...document.querySelectorAll('#gallery li')]
               .find((x) => x.dataset.mediaId === id);
             const v = li.querySelector('video'); v.muted = true; return v.play(); }""",
        media_id,
    )
    wait_until(lambda: video_facts(page, media_id)["time"] > 0.3, what="the video to play")


def test_a_photo_appears_in_the_gallery(page: Page, stack: Stack) -> None:
    open_current(page, stack)
    with page.expect_response(lambda r: r.url.endswith("/photo")) as answer:
        page.get_by_role("button", name="Take photo").click()
    media_id = answer.value.json()["id"]
    image = page.locator(f"#gallery li[data-media-id='{media_id}'] img")
    expect(image).to_be_visible()
    wait_until(lambda: image.evaluate("img => img.naturalWidth") > 0, what="the photo to load")


HOSTILE = [
    {
        "id": "<img src=x onerror=window.pwned=1>",
        "kind": "photo",
        "timestamp": "2026-11-25T18:00:00Z",
        "content_type": "image/jpeg",
        "size": 10,
        "url": "javascript:window.pwned=2",
    },
    {
        "id": 'v"><script>window.pwned=3</script>',
        "kind": "video",
        "timestamp": "<b>soon</b>",
        "content_type": "video/mp4",
        "size": 10,
        "url": "/x",
    },
    {
        "id": "odd-type",
        "kind": "video",
        "timestamp": "2026-11-25T18:00:00Z",
        "content_type": "text/html",
        "size": 10,
        "url": "/x",
    },
]


def test_device_strings_in_the_gallery_stay_text(
    page: Page, stack: Stack, console: Console
) -> None:
    def hostile_media(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(HOSTILE))

    page.route("**/api/devices/*/media?*", hostile_media)
    open_current(page, stack)
    items = page.locator("#gallery li")
    expect(items).to_have_count(3)
    ids = items.evaluate_all("items => items.map((li) => li.dataset.mediaId)")
    assert ids == [item["id"] for item in HOSTILE]
    assert page.evaluate("window.pwned") is None
    assert page.locator("#gallery script").count() == 0
    # Each URL is built from the ids, percent-encoded, under this page's API path.
    src = items.nth(0).locator("img").get_attribute("src") or ""
    assert src.startswith("api/devices/")
    assert "%3Cimg%20src%3Dx" in src
    assert "javascript" not in (items.nth(0).locator("a").get_attribute("href") or "")
    # Only MP4 gets a player; another type is a plain download link.
    assert items.nth(1).locator("video").count() == 1
    assert items.nth(2).locator("video").count() == 0
    expect(items.nth(2).locator("a")).to_have_text("Download")
    # The service refuses such ids (400) when the browser asks for the files; nothing
    # else may have gone wrong (a blocked javascript: URL would show here too).
    unexpected = [e for e in console.errors if "status of 400" not in e]
    assert unexpected == [], "\n".join(unexpected)
    console.errors.clear()


PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


def test_the_gallery_shows_the_latest_twelve_of_the_last_30_days(page: Page, stack: Stack) -> None:
    """README: "the chosen fermenter's latest twelve in a gallery (last 30 days ...)"."""
    media = [
        {
            "id": f"photo-{day:02d}",
            "kind": "photo",
            "timestamp": f"2026-11-{day:02d}T12:00:00Z",
            "content_type": "image/jpeg",
            "size": 10,
        }
        for day in (3, 17, 1, 9, 12, 5, 20, 14, 2, 8, 19, 11, 6, 15, 4)  # fifteen, any order
    ]
    asked: list[str] = []

    def fifteen(route: Route) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(media))

    page.route("**/api/devices/*/media?*", fifteen)
    page.route(  # the tiles' images: a 1x1 GIF each
        "**/api/devices/*/media/photo-*",
        lambda route: route.fulfill(status=200, content_type="image/gif", body=PIXEL),
    )
    # No brew session shown: the gallery's span is then the last 30 days.
    page.route(
        "**/api/sessions",
        lambda route: route.fulfill(status=200, content_type="application/json", body="[]"),
    )
    open_current(page, stack)
    items = page.locator("#gallery li")
    expect(items).to_have_count(12)
    ids = items.evaluate_all("items => items.map((li) => li.dataset.mediaId)")
    newest = sorted((m["id"] for m in media), reverse=True)[:12]
    assert ids == newest
    query = parse_qs(urlsplit(asked[-1]).query)
    start, end = (datetime.fromisoformat(query[k][0]) for k in ("start", "end"))
    # From 30 days back to an hour ahead (the device's clock may run a little fast).
    assert end - start == timedelta(days=30, hours=1)
