"""The current and trend pages in a real browser, against the real service and daemon."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, Page, Request, Route, WebSocketRoute, expect

from tests.support.daemon import daemon_process

from .conftest import (
    SIM_ARGS,
    Console,
    Stack,
    beside_the_stack,
    get_json,
    hold_gets,
    wait_for_held,
    watched_page,
)

NUMBER = re.compile(r"^-?\d+\.\d$")


def wait_until(predicate: Callable[[], Any], timeout_s: float = 20, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def open_current(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/")
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")


def choose_range(page: Page, range_: str) -> None:
    """Clicks the trend page's ``range_`` button and waits until its chart is drawn.

    The chart's last load is read in the same step in the page as the click: a live
    reload landing between a separate read and the click would pass for the new chart
    (no older load draws after the click: each draw checks it is the newest load).
    """
    before = page.evaluate(
        """(range) => {
            const before = document.getElementById("chart").dataset.loaded;
            document.querySelector(`[data-range="${range}"]`).click();
            return before;
        }""",
        range_,
    )
    assert before, "a chart was drawn before the click"
    expect(page.locator("#chart")).not_to_have_attribute("data-loaded", before)


def beer_text(page: Page) -> str:
    return page.locator("[data-testid=probe-beer] .value").inner_text().strip()


def test_current_page_shows_temperature_and_updates_it_live(page: Page, stack: Stack) -> None:
    stack.daemon_request("set_thermostat", mode="off")
    open_current(page, stack)
    expect(page.locator("[data-testid=probe-beer] .value")).to_have_text(NUMBER)
    expect(page.locator("[data-testid=probe-fridge] .value")).to_have_text(NUMBER)
    before = float(beer_text(page))
    page.evaluate("window.__sameDocument = true")

    stack.daemon_request("simulate", ambient=35.0)
    wait_until(
        lambda: NUMBER.match(beer_text(page)) and float(beer_text(page)) >= before + 0.5,
        timeout_s=60,
        what="the beer temperature on the page to rise",
    )
    assert page.evaluate("window.__sameDocument") is True  # updated in place, no reload
    expect(page.locator("[data-testid=probe-beer] .age")).to_contain_text("reading")
    stack.daemon_request("simulate", ambient=20.0)


def test_heater_switch_changes_the_relay_on_the_daemon(page: Page, stack: Stack) -> None:
    stack.daemon_request("set_thermostat", mode="off")
    open_current(page, stack)
    heater = page.get_by_role("switch", name="Heater")
    expect(heater).to_be_enabled()
    expect(heater).not_to_be_checked()

    heater.check()
    wait_until(lambda: stack.daemon_state()["relays"]["heater"]["on"], what="heater on")
    expect(page.locator("#relay-status")).to_have_text("Heater is on.")
    expect(page.locator("#relays .heater .onoff")).to_have_text("ON")

    heater.uncheck()
    wait_until(lambda: not stack.daemon_state()["relays"]["heater"]["on"], what="heater off")
    expect(page.locator("#relay-status")).to_have_text("Heater is off.")


def test_thermostat_form_sets_mode_and_target_and_locks_the_switches(
    page: Page, stack: Stack
) -> None:
    stack.daemon_request("set_thermostat", mode="off")
    open_current(page, stack)
    page.get_by_label("Mode").select_option("heat")
    page.get_by_label("Target °C").fill("21.5")
    page.get_by_role("button", name="Set").click()
    expect(page.locator("#thermostat-status")).to_contain_text("Thermostat set: Heat")
    wait_until(
        lambda: (
            stack.daemon_state()["thermostat"]["mode"] == "heat"
            and stack.daemon_state()["thermostat"]["target"] == 21.5
        ),
        what="the daemon's thermostat to follow the form",
    )
    expect(page.locator("#target-value")).to_have_text("21.5 °C")
    # The thermostat now drives the relays: the switches say so and cannot be used.
    heater = page.get_by_role("switch", name="Heater")
    expect(heater).to_be_disabled()
    expect(page.locator("#relay-heater-why")).to_contain_text("Driven by the thermostat")

    page.get_by_label("Mode").select_option("off")
    page.get_by_role("button", name="Set").click()
    expect(page.locator("#thermostat-status")).to_contain_text("Thermostat set: Off")
    expect(heater).to_be_enabled()


def test_a_target_typed_while_the_last_one_is_being_set_is_kept(page: Page, stack: Stack) -> None:
    """The reply to Set must not put back the value sent over a newer one being typed."""
    stack.daemon_request("set_thermostat", mode="off", target=20.0)
    open_current(page, stack)
    held: list[Route] = []
    page.route("**/thermostat", lambda route: held.append(route))
    page.get_by_label("Target °C").fill("19")
    page.get_by_role("button", name="Set").click()
    expect(page.locator("#thermostat-status")).to_have_text("Setting the thermostat…")
    page.get_by_label("Target °C").fill("18.5")  # second thoughts, before the answer
    wait_for_held(page, held)
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#thermostat-status")).to_contain_text("target 19.0 °C")
    expect(page.locator("#target-value")).to_have_text("19.0 °C")
    page.unroute("**/thermostat")
    expect(page.get_by_label("Target °C")).to_have_value("18.5")
    page.get_by_role("button", name="Set").click()
    expect(page.locator("#thermostat-status")).to_contain_text("target 18.5 °C")
    assert stack.daemon_state()["thermostat"]["target"] == 18.5


def test_photo_button_shows_a_new_photo(page: Page, stack: Stack) -> None:
    open_current(page, stack)
    photo = page.locator("#photo")
    # The new photo's id from the service's answer: an older photo the page may still be
    # putting up (or not yet) cannot pass for it.
    with page.expect_response(lambda r: r.url.endswith("/photo")) as answer:
        page.get_by_role("button", name="Take photo").click()
    expect(page.locator("#camera-status")).to_contain_text("Photo taken")
    expect(photo).to_be_visible()
    expect(photo).to_have_attribute("data-media-id", answer.value.json()["id"])
    wait_until(
        lambda: page.evaluate("document.getElementById('photo').naturalWidth") > 0,
        what="the photo to load",
    )


def test_a_probe_fault_is_impossible_to_miss(page: Page, stack: Stack) -> None:
    open_current(page, stack)
    banner = page.locator("#fault-banner")
    expect(banner).to_be_hidden()
    stack.daemon_request("simulate", probe="beer", fault="disconnected")
    try:
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Beer probe")
        expect(page.locator("[data-testid=probe-beer] .value")).to_contain_text("Fault")
        expect(page.locator("[data-testid=probe-beer]")).to_have_class(re.compile(r"\bfault\b"))
    finally:
        stack.daemon_request("simulate", probe="beer", clear=True)
    expect(banner).to_be_hidden(timeout=30_000)
    expect(page.locator("[data-testid=probe-beer] .value")).to_have_text(NUMBER)


def open_without_live(page: Page, stack: Stack) -> None:
    """The current page with no live connection (its socket.io script empty): it polls."""
    page.route(
        "**/static/vendor/socket.io.min.js",
        lambda route: route.fulfill(body="", content_type="text/javascript"),
    )
    page.goto(f"{stack.url}/")
    page.wait_for_selector("body[data-ready]")


def test_current_page_falls_back_to_polling(page: Page, stack: Stack) -> None:
    # Without the live connection the page polls, every n seconds as chosen.
    open_without_live(page, stack)
    page.get_by_label("Auto update every").select_option("5")
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "polling")
    expect(page.locator("#live-status")).to_contain_text("every 5 s")
    with page.expect_response(re.compile(r"/api/devices/[^/?]+$"), timeout=10_000) as polled:
        pass
    assert polled.value.ok
    expect(page.locator("[data-testid=probe-beer] .value")).to_have_text(NUMBER)


def target_events(stack: Stack, target_c: float) -> list[Any]:
    """The fermenter's stored events that set the target to ``target_c``."""
    span = "start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z"
    events = get_json(f"{stack.url}/api/devices/{stack.device_id}/events?{span}")
    return [e for e in events if e["kind"] == "target" and e["data"]["target"] == target_c]


def test_events_come_in_while_the_page_polls(page: Page, stack: Stack) -> None:
    """Without the live connection no event is pushed: the list is fetched with each poll."""
    open_without_live(page, stack)
    page.get_by_label("Auto update every").select_option("5")
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "polling")
    try:
        stack.daemon_request("set_thermostat", target=15.5)
        expect(page.locator("#events li").filter(has_text="Target 15.5 °C")).to_have_count(1)
    finally:
        stack.daemon_request("set_thermostat", target=20.0)


def test_a_late_answer_to_an_earlier_poll_does_not_take_an_event_back(
    page: Page, stack: Stack
) -> None:
    open_without_live(page, stack)
    events_url = re.compile(rf"/api/devices/{stack.device_id}/events\?")
    held = hold_gets(page, events_url, as_now=True)
    page.get_by_label("Auto update every").select_option("5")
    wait_for_held(page, held)  # a poll's answer, from before the event
    page.unroute(events_url)  # the next polls' go through
    try:
        stack.daemon_request("set_thermostat", target=17.5)
        listed = page.locator("#events li").filter(has_text="Target 17.5 °C")
        expect(listed).to_have_count(1)
        route, answer = held[0]
        with page.expect_response(events_url):
            route.fulfill(response=answer)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            expect(listed).to_have_count(1, timeout=1000)
            page.wait_for_timeout(100)
    finally:
        stack.daemon_request("set_thermostat", target=20.0)


def test_events_of_while_the_live_link_was_down_are_listed_once_it_is_back(
    page: Page, stack: Stack
) -> None:
    sockets: list[WebSocketRoute] = []
    held: list[WebSocketRoute] = []

    def route(socket: WebSocketRoute) -> None:
        if sockets:
            held.append(socket)  # the reconnection: let through by the test
        else:
            socket.connect_to_server()
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/socket\.io/"), route)
    open_current(page, stack)
    page.get_by_label("Auto update every").select_option("0")  # no polling meanwhile
    sockets[0].close()
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "offline")
    wait_for_held(page, held)
    try:
        stack.daemon_request("set_thermostat", target=16.5)
        wait_until(lambda: target_events(stack, 16.5), what="the event to be stored")
        held[0].connect_to_server()
        expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
        expect(page.locator("#events li").filter(has_text="Target 16.5 °C")).to_have_count(1)
    finally:
        stack.daemon_request("set_thermostat", target=20.0)


def buckets_requested(requests: list[Request]) -> list[int]:
    counts = []
    for request in requests:
        url = urlparse(request.url)
        if url.path.endswith("/readings") and "buckets" in (query := parse_qs(url.query)):
            counts.append(int(query["buckets"][0]))
    return counts


# Long on purpose: one user story told end to end (the steps depend on each other); splitting it
# would hide the story.
def test_trend_page_draws_the_stored_history_and_zooms(page: Page, stack: Stack) -> None:
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    page.goto(f"{stack.url}/trend")
    page.wait_for_selector("body[data-ready]")
    choose_range(page, "6h")
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-points", re.compile(r"^[1-9]\d+$"))
    beer = page.locator("#chart [data-probe=beer] path.line")
    assert int(beer.get_attribute("data-points") or 0) >= 10
    assert (beer.get_attribute("d") or "").count("L") >= 10
    expect(page.locator("#chart [data-probe=fridge] path.line")).to_have_count(1)

    # Never more buckets than the plot has pixels.
    width = page.evaluate("document.querySelector('#chart svg').getBoundingClientRect().width")
    assert buckets_requested(requests)
    assert max(buckets_requested(requests)) <= width

    # Hover read-out.
    box = chart.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5)
    expect(page.locator(".readout")).to_contain_text("Beer")

    # A live redraw (a new reading) under a still pointer keeps the read-out showing.
    drawn_at = chart.get_attribute("data-drawn-at")
    expect(chart).not_to_have_attribute("data-drawn-at", drawn_at or "", timeout=15_000)
    expect(page.locator(".readout")).to_be_visible()
    expect(page.locator(".readout")).to_contain_text("Beer")

    # Brush to zoom: the chart reloads a shorter range with finer buckets.
    start_before = chart.get_attribute("data-start")
    loaded_before = chart.get_attribute("data-loaded")
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    expect(chart).not_to_have_attribute("data-loaded", loaded_before or "")
    expect(page.get_by_role("button", name="Reset zoom")).to_be_visible()

    def zoomed_span_h() -> float:
        start, end = chart.get_attribute("data-start"), chart.get_attribute("data-end")
        return (_iso(end or "") - _iso(start or "")) / 3600

    # A live reload that was under way may land first: wait for the zoomed draw.
    wait_until(lambda: zoomed_span_h() < 3, what="the zoomed range to be drawn")
    start, end = chart.get_attribute("data-start"), chart.get_attribute("data-end")
    assert start
    assert end
    assert start_before
    assert start > start_before
    span_h = (_iso(end) - _iso(start)) / 3600
    assert span_h < 3, span_h
    expect(chart).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    csv = page.get_by_role("link", name="Download CSV").get_attribute("href") or ""
    assert "readings.csv" in csv
    assert parse_qs(urlparse(csv).query)["start"][0].startswith(start[:16])

    page.get_by_role("button", name="Reset zoom").click()
    expect(page.get_by_role("button", name="Reset zoom")).to_be_hidden()

    # "All" starts at the first stored reading, whatever the range.
    choose_range(page, "all")
    expect(chart).to_have_attribute("data-points", re.compile(r"^[1-9]\d+$"))
    first = get_json(f"{stack.url}/api/devices/{stack.device_id}/readings/span")["first"]
    all_start, all_end = chart.get_attribute("data-start"), chart.get_attribute("data-end")
    assert all_start
    assert all_end
    assert abs(_iso(all_start) - _iso(first)) < 0.002  # the browser keeps milliseconds
    assert (_iso(all_end) - _iso(all_start)) / 3600 < 24 * 30


def test_trend_page_photo_marker_opens_the_photo(page: Page, stack: Stack) -> None:
    stack.daemon_request("take_photo")
    page.goto(f"{stack.url}/trend")
    page.wait_for_selector("body[data-ready]")
    choose_range(page, "6h")
    marker = page.locator("#chart .marker-group[data-kind=photo]").last
    expect(marker).to_be_attached()
    viewer = page.locator("#photo-viewer")

    def opened() -> bool:
        # A live redraw may replace the marker between finding it and the click.
        marker.dispatch_event("click")
        return viewer.is_visible()

    wait_until(opened, what="the photo viewer to open")
    wait_until(
        lambda: page.evaluate("document.getElementById('viewer-img').naturalWidth") > 0,
        what="the photo to load in the viewer",
    )


def _iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


SIZES = [
    ("phone", 390, 844, "light"),
    ("desktop", 1366, 900, "light"),
    ("phone-dark", 390, 844, "dark"),
]


@pytest.mark.parametrize(("label", "width", "height", "scheme"), SIZES)
def test_screenshots(
    browser: Browser,
    stack: Stack,
    artifacts: Path,
    label: str,
    width: int,
    height: int,
    scheme: Literal["light", "dark"],
) -> None:
    """Screenshots of both pages at phone and desktop size, for people to look at."""
    console = Console()
    size = {"width": width, "height": height}
    with watched_page(browser, console, viewport=size, color_scheme=scheme) as page:
        page.goto(f"{stack.url}/")
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("[data-testid=probe-beer] .value")).to_have_text(NUMBER)
        page.get_by_role("button", name="Take photo").click()
        expect(page.locator("#camera-status")).to_contain_text("Photo taken")
        wait_until(lambda: page.evaluate("document.getElementById('photo').naturalWidth") > 0)
        page.screenshot(path=artifacts / f"current-{label}.png", full_page=True)

        page.goto(f"{stack.url}/trend")
        page.wait_for_selector("body[data-ready]")
        chart = page.locator("#chart")
        choose_range(page, "6h")  # the 6 h chart, not the first
        expect(chart).to_have_attribute("data-points", re.compile(r"^[1-9]\d+$"))
        box = chart.bounding_box()
        assert box is not None

        def hover_readout() -> bool:
            # The first move may land before the 6 h chart is drawn: move until it shows.
            for dx in (0.0, 1.0):
                page.mouse.move(box["x"] + box["width"] * 0.6 + dx, box["y"] + box["height"] * 0.4)
            return page.locator(".readout").is_visible()

        wait_until(hover_readout, what="the readout under the pointer")
        page.screenshot(path=artifacts / f"trend-{label}.png", full_page=True)
    assert console.errors == [], "\n".join(console.errors)


def test_login_form_when_the_service_requires_it(browser: Browser, login_service: Any) -> None:
    console = Console()
    with watched_page(browser, console) as page:
        page.goto(f"{login_service.url}/")
        expect(page.get_by_role("heading", name="Log in to BeerPi")).to_be_visible()
        expect(page.locator("#app")).to_be_hidden()

        page.get_by_label("User name").fill(login_service.user)
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#login-status")).to_have_text("Wrong user name or password.")
        # The browser itself logs the refused request; nothing else may be logged.
        unexpected = [error for error in console.errors if "401" not in error]
        assert unexpected == [], "\n".join(unexpected)
        console.errors.clear()

        page.get_by_label("Password").fill(login_service.password)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#login")).to_be_hidden()
        expect(page.locator("#app")).to_be_visible()
        expect(page.locator("#no-devices")).to_be_visible()  # no daemon linked to this one
        page.wait_for_selector("body[data-ready]")
        expect(page.get_by_role("button", name="Log out")).to_be_visible()

        # The session cookie holds across a reload; logging out brings the form back.
        page.reload()
        page.wait_for_selector("body[data-ready]")
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", name="Log in to BeerPi")).to_be_visible()
    assert console.errors == [], "\n".join(console.errors)


def test_record_video_shows_progress_then_a_link(page: Page, stack: Stack) -> None:
    open_current(page, stack)
    page.get_by_label("Video length (s)").fill("3")
    page.get_by_role("button", name="Record video").click()
    expect(page.locator("#camera-status")).to_have_attribute("data-kind", "progress")
    expect(page.locator("#camera-status")).to_have_text("Video ready.", timeout=30_000)
    link = page.locator("#video-link a")
    expect(link).to_be_visible()
    assert "/media" in (link.get_attribute("href") or "")
    expect(page.get_by_role("button", name="Record video")).to_be_enabled()


def test_device_selector_with_two_fermenters(
    page: Page, stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("two")
    with (
        daemon_process(tmp / "daemon", *SIM_ARGS) as second,
        beside_the_stack(stack, tmp, second.port) as (port, other),
    ):
        page.goto(f"http://127.0.0.1:{port}/?device={stack.device_id}")
        page.wait_for_selector("body[data-ready]")
        selector = page.get_by_label("Fermenter")
        expect(selector).to_be_visible()
        expect(selector.locator("option")).to_have_count(2)
        expect(selector).to_have_value(stack.device_id)

        selector.select_option(other)
        expect(page).to_have_url(re.compile(f"device={other}"))
        expect(page.locator("[data-testid=probe-beer] .value")).to_have_text(NUMBER)
        expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
        # The choice goes along to the trend page.
        page.get_by_role("link", name="Trend").click()
        page.wait_for_selector("body[data-ready]")
        expect(page.get_by_label("Fermenter")).to_have_value(other)
        expect(page.locator("#chart")).to_have_attribute("data-loaded", re.compile(r"\d"))

        # That fermenter goes away: the current page says so and locks its switches.
        page.get_by_role("link", name="Now").click()
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("#offline-banner")).to_be_hidden()
        second.terminate()
        expect(page.locator("#offline-banner")).to_be_visible(timeout=30_000)
        expect(page.locator("#offline-banner")).to_contain_text("offline")
        expect(page.get_by_role("switch", name="Heater")).to_be_disabled()
        page.goto("about:blank")  # before this service stops under the page


def test_an_empty_video_length_is_refused_in_the_page(page: Page, stack: Stack) -> None:
    """An emptied length is no length: the page says so in its own words (1 to 120 s)
    rather than asking the fermenter for a 0 s video and showing the daemon's refusal."""
    open_current(page, stack)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/video") else None)
    page.get_by_label("Video length (s)").fill("")
    page.get_by_role("button", name="Record video").click()
    expect(page.locator("#camera-status")).to_have_text(
        "The video length must be a whole number of seconds from 1 to 120."
    )
    expect(page.locator("#camera-status")).to_have_attribute("data-kind", "error")
    assert asked == []
