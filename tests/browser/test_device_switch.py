"""Another fermenter chosen while the current page waits for an answer about the first one:
the answer must not land on the fermenter now shown (nor a second request go to it), nor a
video of the first be waited for under the second. And the events list of the fermenter
chosen keeps an event pushed while the list was on its way.

The second fermenter ("Ghost") exists only in the page's answers (``page.route``), so
each test can hold the first fermenter's request until the switch, in the real
service and daemon's stack; no second daemon is needed.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import APIResponse, Locator, Page, Route, expect

from .conftest import Stack, get_json, hold_gets, wait_for_held

GHOST = "fv-ghost"
GHOST_TARGET = 4.0


@dataclass
class Ghost:
    """The second fermenter's answers, and the requests that reached it."""

    entry: dict[str, Any] = field(default_factory=dict)
    asked: list[tuple[str, str]] = field(default_factory=list)  # (method, path)

    def answer(self, route: Route) -> None:
        request = route.request
        path = urlparse(request.url).path
        self.asked.append((request.method, path))
        rest = path.split(f"/api/devices/{GHOST}", 1)[1]
        body: Any = {}
        if rest == "":
            body = self.entry
        elif rest in ("/media", "/events"):
            body = []
        elif rest == "/gravity":
            body = {"hydrometers": []}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    def add_to_list(self, route: Route) -> None:
        """The service's device list, with the ghost after the real fermenter."""
        response = route.fetch()
        devices = response.json()
        if not self.entry:
            entry = copy.deepcopy(devices[0])
            entry.update(id=GHOST, name="Ghost", online=True)
            entry["state"]["thermostat"].update(mode="off", target=GHOST_TARGET, profile=None)
            for relay in entry["state"]["relays"].values():
                relay.update(on=False, controlled_by=None)
            self.entry = entry
        route.fulfill(response=response, json=[*devices, self.entry])


@pytest.fixture
def ghost(page: Page, stack: Stack) -> Iterator[Ghost]:
    stack.daemon_request("set_thermostat", mode="off", target=20.0, profile=None)
    ghost = Ghost()
    page.route("**/api/devices", ghost.add_to_list)
    page.route(re.compile(rf"/api/devices/{GHOST}(/|\?|$)"), ghost.answer)
    yield ghost
    stack.daemon_request("set_thermostat", mode="off", target=20.0, profile=None)


def choose_ghost(page: Page) -> None:
    page.get_by_label("Fermenter").select_option(GHOST)
    expect(page.locator("#target-value")).to_have_text(f"{GHOST_TARGET:.1f} °C")


def stays(locator: Locator, text: str, seconds: float = 1.0) -> None:
    """``locator`` shows ``text`` now and for ``seconds`` more: an answer that was let go
    has had its time to (wrongly) change it, and nothing tells when it was handled."""
    deadline = time.monotonic() + seconds
    while True:
        expect(locator).to_have_text(text, timeout=1000)
        if time.monotonic() > deadline:
            return
        locator.page.wait_for_timeout(100)


def test_a_device_refresh_answered_after_a_switch_is_left_out(
    page: Page, stack: Stack, ghost: Ghost
) -> None:
    """The live connection's first refresh of the first fermenter comes after the switch."""
    held: list[Route] = []
    page.route(re.compile(rf"/api/devices/{stack.device_id}$"), lambda route: held.append(route))
    page.goto(f"{stack.url}/?device={stack.device_id}")
    page.wait_for_selector("body[data-ready]")
    wait_for_held(page, held)  # asked for once the live connection is up
    expect(page.locator("#target-value")).to_have_text("20.0 °C")
    choose_ghost(page)
    with page.expect_response(re.compile(rf"/api/devices/{stack.device_id}$")):
        held[0].continue_()
    stays(page.locator("#target-value"), f"{GHOST_TARGET:.1f} °C")
    expect(page.get_by_label("Fermenter")).to_have_value(GHOST)


def test_events_answered_after_a_switch_are_left_out(
    page: Page, stack: Stack, ghost: Ghost
) -> None:
    held: list[Route] = []
    page.route(
        re.compile(rf"/api/devices/{stack.device_id}/events\?"), lambda route: held.append(route)
    )
    page.goto(f"{stack.url}/?device={stack.device_id}")
    wait_for_held(page, held)  # the page's start waits for it
    choose_ghost(page)
    expect(page.locator("#events li")).to_have_text(["None in the last 24 hours."])
    held[0].continue_()
    # The page is ready once its first fermenter's events were handled.
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#events li")).to_have_text(["None in the last 24 hours."])


def test_a_thermostat_answer_after_a_switch_stays_with_its_fermenter(
    page: Page, stack: Stack, ghost: Ghost
) -> None:
    page.goto(f"{stack.url}/?device={stack.device_id}")
    page.wait_for_selector("body[data-ready]")
    held: list[Route] = []
    page.route(f"**/api/devices/{stack.device_id}/thermostat", lambda route: held.append(route))
    page.get_by_label("Target °C").fill("19")
    page.get_by_role("button", name="Set").click()
    wait_for_held(page, held)
    choose_ghost(page)
    held[0].continue_()
    expect(page.locator("#thermostat-status")).to_contain_text("target 19.0 °C")
    expect(page.locator("#target-value")).to_have_text(f"{GHOST_TARGET:.1f} °C")
    assert stack.daemon_state()["thermostat"]["target"] == 19.0


def test_a_profile_started_before_a_switch_gets_its_mode_on_its_own_fermenter(
    page: Page, stack: Stack, ghost: Ghost
) -> None:
    """Start profile sends the profile, then the mode: both to the fermenter it was for."""
    page.goto(f"{stack.url}/?device={stack.device_id}")
    page.wait_for_selector("body[data-ready]")
    page.get_by_label("Start from").select_option(label="Ale")
    page.get_by_label("Control with").select_option("heat")
    held: list[Route] = []
    page.route(f"**/api/devices/{stack.device_id}/profile", lambda route: held.append(route))
    page.get_by_role("button", name="Start profile").click()
    wait_for_held(page, held)
    choose_ghost(page)
    held[0].continue_()
    expect(page.locator("#profile-status")).to_have_text("Profile “Ale” started.")
    thermostat = stack.daemon_state()["thermostat"]
    assert thermostat["mode"] == "heat"
    assert thermostat["profile"]["name"] == "Ale"
    assert [asked for asked in ghost.asked if asked[0] != "GET"] == []


def test_a_device_refresh_older_than_a_pushed_state_is_not_shown(page: Page, stack: Stack) -> None:
    """The live connection's first refresh may answer with a state older than one pushed
    meanwhile: the pushed one stays (the other is not shown, even for a moment)."""
    stack.daemon_request("set_thermostat", mode="off", target=20.0, profile=None)
    held: list[tuple[Route, APIResponse]] = []
    page.route(
        re.compile(rf"/api/devices/{stack.device_id}$"),
        lambda route: held.append((route, route.fetch())),  # answered later, as it is now
    )
    try:
        page.goto(f"{stack.url}/?device={stack.device_id}")
        page.wait_for_selector("body[data-ready]")
        wait_for_held(page, held)
        stack.daemon_request("set_thermostat", target=7.5)
        expect(page.locator("#target-value")).to_have_text("7.5 °C")  # pushed
        page.evaluate(
            """() => {
                window.targetsShown = [];
                const target = document.getElementById("target-value");
                new MutationObserver(() => window.targetsShown.push(target.textContent))
                    .observe(target, { childList: true, characterData: true, subtree: true });
            }"""
        )
        route, answer = held[0]
        with page.expect_response(re.compile(rf"/api/devices/{stack.device_id}$")):
            route.fulfill(response=answer)  # the state from before the new target
        stays(page.locator("#target-value"), "7.5 °C")
        assert "20.0 °C" not in page.evaluate("window.targetsShown")
    finally:
        stack.daemon_request("set_thermostat", mode="off", target=20.0, profile=None)


def test_a_relay_answer_after_a_switch_is_not_put_on_the_new_fermenters_relay(
    page: Page, stack: Stack, ghost: Ghost
) -> None:
    """Both fermenters have a heater: the first one's switching is not the second's."""
    page.goto(f"{stack.url}/?device={stack.device_id}")
    page.wait_for_selector("body[data-ready]")
    held: list[Route] = []
    page.route(f"**/api/devices/{stack.device_id}/relays/heater", lambda route: held.append(route))
    try:
        page.get_by_role("switch", name="Heater").check()
        wait_for_held(page, held)
        choose_ghost(page)
        expect(page.locator("#relays .heater .onoff")).to_have_text("off")
        held[0].continue_()
        expect(page.locator("#relay-status")).to_have_text("Heater is on.")
        expect(page.locator("#relays .heater .onoff")).to_have_text("off")  # the ghost's
        assert stack.daemon_state()["relays"]["heater"]["on"] is True
    finally:
        stack.daemon_request("set_relay", relay="heater", on=False)


def test_a_photo_taken_before_a_switch_is_not_shown_as_the_new_fermenters(
    page: Page, stack: Stack, ghost: Ghost
) -> None:
    page.goto(f"{stack.url}/?device={stack.device_id}")
    page.wait_for_selector("body[data-ready]")
    held: list[Route] = []
    page.route(f"**/api/devices/{stack.device_id}/photo", lambda route: held.append(route))
    page.get_by_role("button", name="Take photo").click()
    wait_for_held(page, held)
    choose_ghost(page)
    expect(page.locator("#photo-figure")).to_be_hidden()  # the ghost has none
    held[0].continue_()
    expect(page.locator("#camera-status")).to_contain_text("Photo taken")
    expect(page.locator("#photo-figure")).to_be_hidden()


def test_a_target_typed_for_one_fermenter_does_not_follow_to_the_next(
    page: Page, stack: Stack, ghost: Ghost
) -> None:
    page.goto(f"{stack.url}/?device={stack.device_id}")
    page.wait_for_selector("body[data-ready]")
    page.get_by_label("Target °C").fill("12.5")  # typed, never set
    choose_ghost(page)
    expect(page.get_by_label("Target °C")).to_have_value(f"{GHOST_TARGET:.1f}")


@pytest.mark.parametrize("answered", ["from before the push", "with the push in it"])
def test_an_event_pushed_while_the_events_are_fetched_is_listed_once(
    page: Page, stack: Stack, ghost: Ghost, answered: str
) -> None:
    """Events have no id: the list keeps one pushed while its answer was on its way,
    whether the answer was made before the event was stored or after (then only once)."""
    before = answered == "from before the push"
    target_c = 13.5 if before else 14.5  # each case's own: the stack keeps the other's event
    page.goto(f"{stack.url}/?device={GHOST}")
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
    events_url = re.compile(rf"/api/devices/{stack.device_id}/events\?")
    held = hold_gets(page, events_url, as_now=before)
    page.get_by_label("Fermenter").select_option(stack.device_id)
    wait_for_held(page, held)
    stack.daemon_request("set_thermostat", target=target_c)
    target = page.locator("#events li").filter(has_text=f"Target {target_c} °C")
    expect(target).to_have_count(1)  # pushed
    with page.expect_response(events_url) as response:
        if before:
            route, answer = held[0]
            route.fulfill(response=answer)
        else:
            held[0].continue_()
    events = response.value.json()
    in_answer = [e for e in events if e["kind"] == "target" and e["data"]["target"] == target_c]
    assert len(in_answer) == (not before)
    # The answer is listed (the newest 30), with the pushed event once (and any other
    # event the daemon pushed meanwhile, such as a relay's).
    listed = min(30, len(events) + 1 - len(in_answer))
    deadline = time.monotonic() + 15
    while page.locator("#events li").count() < listed:
        assert time.monotonic() < deadline, f"fewer than {listed} events listed"
        page.wait_for_timeout(100)
    stays_once = time.monotonic() + 1.0
    while time.monotonic() < stays_once:
        expect(target).to_have_count(1, timeout=1000)
        page.wait_for_timeout(100)


def fermenter_name(stack: Stack) -> str:
    entry = get_json(f"{stack.url}/api/devices/{stack.device_id}")
    return str(entry.get("name") or stack.device_id)


@pytest.mark.parametrize("answered", ["before the switch", "after the switch"])
def test_a_video_asked_for_before_a_switch_is_not_waited_for_after_it(
    page: Page, stack: Stack, ghost: Ghost, answered: str
) -> None:
    """The page stopped waiting for it (once it waited 60 s and then said it did not
    arrive) and says where it will be; it is not shown as the new fermenter's."""
    page.clock.install()  # the page's timers, to run its 60 s wait at once
    page.goto(f"{stack.url}/?device={stack.device_id}")
    page.wait_for_selector("body[data-ready]")
    video_url = f"**/api/devices/{stack.device_id}/video"
    held: list[Route] = []
    if answered == "after the switch":
        page.route(video_url, lambda route: held.append(route))
    page.get_by_label("Video length (s)").fill("3")
    with page.expect_response(video_url) as response:
        page.get_by_role("button", name="Record video").click()
        if held:
            wait_for_held(page, held)
            choose_ghost(page)
            held[0].continue_()
    assert response.value.json()["ready"] is False
    if not held:
        expect(page.locator("#camera-status")).to_have_text("Recording a 3 s video…")
        choose_ghost(page)
    status = page.locator("#camera-status")
    elsewhere = (
        f"Recording the 3 s video of {fermenter_name(stack)}: "
        "it will be among that fermenter's photos and videos."
    )
    expect(status).to_have_text(re.compile("^Recording"))  # the answer was handled
    page.clock.fast_forward("01:10")  # past the wait's 3 + 60 s
    page.clock.fast_forward("00:05")  # and the media request it made at its end
    stays(status, elsewhere)
    expect(page.get_by_role("button", name="Record video")).to_be_enabled()
    expect(page.locator("#video-link")).to_be_hidden()
    expect(page.locator("#gallery li")).to_have_count(0)  # the ghost has none
