"""Brew sessions on the current page, in a real browser against the real service and daemon."""

from __future__ import annotations

import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, Page, Route, expect

from .conftest import Console, Stack, get_json, hold_gets, send_json, wait_for_held
from .test_pages import open_current, wait_until

HOSTILE_NAME = "<img src=x onerror=window.pwned=1> Pale Ale"


def post(stack: Stack, path: str, body: Any = None) -> Any:
    return send_json(stack.url + path, "POST", body or {})


def patch(stack: Stack, path: str, body: Any) -> Any:
    return send_json(stack.url + path, "PATCH", body)


def end_running(stack: Stack) -> None:
    """The stack is shared by the package's tests: start from an empty fermenter."""
    for session in get_json(f"{stack.url}/api/sessions?device={stack.device_id}"):
        if session["running"]:
            post(stack, f"/api/sessions/{session['id']}/end")


# Long on purpose: one user story told end to end (the steps depend on each other); splitting it
# would hide the story.
def test_a_session_started_from_the_page_names_the_beer_in_its_fermenter(
    page: Page, stack: Stack, console: Console
) -> None:
    end_running(stack)
    open_current(page, stack)
    fermenter = page.locator(f"#fermenter-beers li[data-device='{stack.device_id}']")
    expect(fermenter).to_contain_text("no session")
    # A photo before the session: the session's gallery must leave it out.
    with page.expect_response(lambda r: r.url.endswith("/photo")) as before:
        page.get_by_role("button", name="Take photo").click()
    before_id = before.value.json()["id"]
    expect(page.locator(f"#gallery li[data-media-id='{before_id}']")).to_be_visible()

    page.get_by_label("Beer name").fill(HOSTILE_NAME)
    page.get_by_label("Style").fill("APA")
    page.get_by_label("Yeast").fill("US-05")
    page.get_by_label("OG", exact=True).fill("1.052")
    # Every media request from here on: the photo's own pushes may still ask for the
    # last 30 days' (before or after the session's), so the first is not the one.
    media_asked: list[str] = []
    page.on("request", lambda r: media_asked.append(r.url) if "/media?" in r.url else None)
    with page.expect_response(lambda r: r.url.endswith("/api/sessions")) as created:
        page.get_by_role("button", name="Start session").click()
    session = created.value.json()
    assert created.value.status == 201
    # The beer's name is shown for its fermenter, as text.
    expect(fermenter.locator(".beer")).to_have_text(f"{HOSTILE_NAME} (APA)")
    expect(page.locator("#session-name")).to_have_text(HOSTILE_NAME)
    expect(page.locator("#session-og")).to_have_text("1.052")
    assert page.evaluate("window.pwned") is None
    assert page.locator("#session-card img").count() == 0
    # Both pages' fermenter selector names the beer too (after a reload).
    page.reload()
    page.wait_for_selector("body[data-ready]")
    [device] = get_json(f"{stack.url}/api/devices")
    label = f"{device['name'] or device['id']} · {HOSTILE_NAME}"
    expect(page.locator("#device-select option")).to_have_text(label)

    # The gallery now asks for the session's span and shows its photos only.
    def asked_for_the_session() -> bool:
        page.wait_for_timeout(50)  # the request listener runs while the test waits in the page
        return any(
            parse_qs(urlparse(url).query).get("start") == [session["start"]] for url in media_asked
        )

    wait_until(asked_for_the_session, what="a media request for the session's span")
    expect(page.locator("#gallery-title")).to_have_text(f"Photos and videos of {HOSTILE_NAME}")
    expect(page.locator(f"#gallery li[data-media-id='{before_id}']")).to_have_count(0)
    with page.expect_response(lambda r: r.url.endswith("/photo")) as during:
        page.get_by_role("button", name="Take photo").click()
    expect(
        page.locator(f"#gallery li[data-media-id='{during.value.json()['id']}']")
    ).to_be_visible()

    # A note, newline kept; a bad edit is refused with the service's message, form kept.
    page.get_by_label("New note").fill("Dry hop\n50 g Citra")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#session-notes .note-text")).to_have_text("Dry hop\n50 g Citra")
    page.get_by_label("Beer name").fill("   ")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#session-status")).to_have_text("name must not be empty")
    expect(page.get_by_label("Beer name")).to_have_value("   ")
    page.get_by_label("Beer name").fill("Citra Pale")
    page.get_by_role("button", name="Save changes").click()
    expect(fermenter.locator(".beer")).to_have_text("Citra Pale (APA)")

    # Ending frees the fermenter and lists the batch among the past ones, with exports.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="End session").click()
    expect(fermenter).to_contain_text("no session")
    past = page.locator(f"#past-sessions li[data-session='{session['id']}']")
    expect(past).to_contain_text("Citra Pale")
    csv_link = past.get_by_role("link", name="CSV")
    expect(csv_link).to_have_text("CSV (°C)")
    href = csv_link.get_attribute("href")
    assert href == f"api/sessions/{session['id']}/readings.csv?unit=C"
    with urllib.request.urlopen(f"{stack.url}/{href}", timeout=10) as answer:
        lines = answer.read().decode().splitlines()
    assert lines[0] == "device,probe,timestamp,temperature_c"
    assert len(lines) > 1  # the simulated fermenter recorded during the session
    # A brewer who reads °F downloads °F, and the file's header says so.
    page.get_by_label("Units").select_option("F")
    expect(csv_link).to_have_text("CSV (°F)")
    href = csv_link.get_attribute("href")
    assert href == f"api/sessions/{session['id']}/readings.csv?unit=F"
    with urllib.request.urlopen(f"{stack.url}/{href}", timeout=10) as answer:
        assert answer.read().decode().splitlines()[0] == "device,probe,timestamp,temperature_f"
    page.get_by_label("Units").select_option("C")
    # Its trend: the trend page opens zoomed to the session's span.
    ended = get_json(f"{stack.url}/api/sessions/{session['id']}")
    with page.expect_request(lambda r: "/readings?" in r.url) as readings:
        past.get_by_role("link", name="Graph").click()
    asked = parse_qs(urlparse(readings.value.url).query)
    assert (asked["start"], asked["end"]) == ([ended["start"]], [ended["end"]])
    expect(page.locator("#zoom-reset")).to_be_visible()
    # The refused edit's 400 is the only error the page may have logged.
    unexpected = [e for e in console.errors if "status of 400" not in e]
    assert unexpected == [], "\n".join(unexpected)
    console.errors.clear()


def test_another_browsers_changes_show_at_once_and_typing_is_kept(
    page: Page, stack: Stack, browser: Browser
) -> None:
    """Two brewers on the current page: one starts, edits and ends; the other sees it live."""
    end_running(stack)
    open_current(page, stack)
    other = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    try:
        open_current(other, stack)
        fermenter = page.locator(f"#fermenter-beers li[data-device='{stack.device_id}']")
        expect(fermenter).to_contain_text("no session")

        other.get_by_label("Beer name").fill("Kölsch")
        other.get_by_label("OG", exact=True).fill("1.046")
        other.get_by_role("button", name="Start session").click()
        # No reload on the first page: the push names the beer and fills the edit form.
        expect(fermenter.locator(".beer")).to_have_text("Kölsch")
        expect(page.locator("#session-name")).to_have_text("Kölsch")
        expect(page.get_by_role("button", name="Save changes")).to_be_visible()
        expect(page.get_by_label("Beer name")).to_have_value("Kölsch")

        # What the first brewer is typing is not overwritten by the other's edit.
        page.get_by_label("Yeast").fill("K-97")
        other.get_by_label("Beer name").fill("Kölsch 2")
        other.get_by_role("button", name="Save changes").click()
        expect(page.locator("#session-name")).to_have_text("Kölsch 2")
        expect(page.get_by_label("Yeast")).to_have_value("K-97")
        expect(page.get_by_label("Beer name")).to_have_value("Kölsch")

        other.once("dialog", lambda dialog: dialog.accept())
        other.get_by_role("button", name="End session").click()
        expect(fermenter).to_contain_text("no session")
        expect(page.get_by_role("button", name="Start session")).to_be_visible()
    finally:
        other.context.close()


def test_what_is_typed_while_a_save_is_on_its_way_is_kept(page: Page, stack: Stack) -> None:
    """The page's own refresh after Start must not undo a correction typed meanwhile."""
    end_running(stack)
    open_current(page, stack)
    held = hold_gets(page, "**/api/sessions")  # answered below, once the brewer has typed
    page.get_by_label("Beer name").fill("Kolsch")
    page.get_by_role("button", name="Start session").click()
    # The live push shows the new session while the page's own refresh is still held.
    expect(page.locator("#session-name")).to_have_text("Kolsch")
    page.get_by_label("Beer name").fill("Kölsch")  # the typo, fixed before the list came back
    wait_for_held(page, held)  # the page asked for the session list after starting one
    with page.expect_response(lambda r: r.url.endswith("/api/sessions")):
        for route in held:
            route.continue_()
    page.unroute("**/api/sessions")
    expect(page.get_by_label("Beer name")).to_have_value("Kölsch")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#session-name")).to_have_text("Kölsch")


def start_session(stack: Stack, name: str) -> dict[str, Any]:
    """A session started on the stack's fermenter by the API (as another browser would)."""
    end_running(stack)
    session: dict[str, Any] = post(
        stack, "/api/sessions", {"device": stack.device_id, "name": name}
    )
    return session


def test_a_note_typed_while_the_last_one_is_being_added_is_kept(page: Page, stack: Stack) -> None:
    """The answer to Add note empties the field only if it still holds the note sent."""
    start_session(stack, "Notes")
    try:
        open_current(page, stack)
        expect(page.locator("#session-name")).to_have_text("Notes")
        held: list[Route] = []
        page.route("**/notes", lambda route: held.append(route))
        page.get_by_label("New note").fill("Pitched")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("#session-status")).to_have_text("Adding the note…")
        page.get_by_label("New note").fill("Krausen up")  # the next one, before the answer
        wait_for_held(page, held)
        held[0].continue_()
        expect(page.locator("#session-status")).to_have_text("Note added.")
        expect(page.get_by_label("New note")).to_have_value("Krausen up")
        expect(page.locator("#session-notes .note-text")).to_have_text(["Pitched"])
        page.unroute("**/notes")
    finally:
        end_running(stack)


def test_a_refused_save_keeps_the_form_when_a_change_is_pushed_meanwhile(
    page: Page, stack: Stack, console: Console
) -> None:
    """A push while a save is on its way must not refill the form: the save may be refused."""
    session = start_session(stack, "Stout")
    try:
        open_current(page, stack)
        expect(page.locator("#session-name")).to_have_text("Stout")
        held: list[Route] = []

        def hold_edits(route: Route) -> None:
            if route.request.method == "PATCH":
                held.append(route)
            else:
                route.continue_()

        page.route(f"**/api/sessions/{session['id']}", hold_edits)
        page.get_by_label("Beer name").fill("   ")
        page.get_by_role("button", name="Save changes").click()
        wait_for_held(page, held)
        # Another browser adds a note meanwhile: the push shows it at once.
        post(stack, f"/api/sessions/{session['id']}/notes", {"text": "Gravity 1.020"})
        expect(page.locator("#session-notes .note-text")).to_have_text(["Gravity 1.020"])
        held[0].continue_()
        expect(page.locator("#session-status")).to_have_text("name must not be empty")
        expect(page.get_by_label("Beer name")).to_have_value("   ")  # kept, to be mended
        page.unroute(f"**/api/sessions/{session['id']}")
        unexpected = [e for e in console.errors if "status of 400" not in e]
        assert unexpected == [], "\n".join(unexpected)
        console.errors.clear()
    finally:
        end_running(stack)


def test_a_change_pushed_while_the_list_is_on_its_way_is_kept(page: Page, stack: Stack) -> None:
    """The page's own refresh of the sessions may answer with a list from before a change
    that was pushed meanwhile: the pushed change stays."""
    session = start_session(stack, "Porter")
    try:
        open_current(page, stack)
        expect(page.locator("#session-name")).to_have_text("Porter")
        # Every render of the sessions rebuilds the fermenters' list: count them.
        page.evaluate(
            """() => {
                window.sessionRenders = 0;
                new MutationObserver(() => { window.sessionRenders += 1; })
                    .observe(document.getElementById("fermenter-beers"), { childList: true });
            }"""
        )
        held = hold_gets(page, "**/api/sessions", as_now=True)
        page.get_by_label("New note").fill("Racked")
        page.get_by_role("button", name="Add note").click()  # then the page asks for the list
        wait_for_held(page, held)
        # Another browser renames the beer meanwhile: the push shows it at once.
        patch(stack, f"/api/sessions/{session['id']}", {"name": "Robust porter"})
        expect(page.locator("#session-name")).to_have_text("Robust porter")
        renders = page.evaluate("window.sessionRenders")
        route, answer = held[0]
        route.fulfill(response=answer)  # the list from before the rename
        page.wait_for_function("(before) => window.sessionRenders > before", arg=renders)
        expect(page.locator("#session-name")).to_have_text("Robust porter")
        expect(page.locator("#session-notes .note-text")).to_have_text(["Racked"])
        page.unroute("**/api/sessions")
    finally:
        end_running(stack)


def test_long_unbroken_names_and_notes_wrap_on_a_phone(browser: Browser, stack: Stack) -> None:
    """A pasted recipe link as a note, or a name with no spaces, wraps inside its card on
    a 375 px phone instead of pushing the whole page sideways."""
    name = "Imperial" * 12  # 96 characters, no space
    session = start_session(stack, name)
    post(stack, f"/api/sessions/{session['id']}/notes", {"text": "https://x.example/" + "r" * 400})
    context = browser.new_context(viewport={"width": 375, "height": 700})
    try:
        page = context.new_page()
        open_current(page, stack)
        expect(page.locator("#session-name")).to_have_text(name)
        expect(page.locator("#session-notes .note-text")).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()
        end_running(stack)


def test_an_fg_above_the_og_is_caught_before_the_session_starts(page: Page, stack: Stack) -> None:
    """OG and FG typed into each other's field: the page names the mix-up (the session's
    attenuation and ABV would come out negative) and starts nothing."""
    end_running(stack)
    try:
        open_current(page, stack)
        page.get_by_label("Beer name").fill("Swapped")
        page.get_by_label("OG", exact=True).fill("1.012")
        page.get_by_label("FG", exact=True).fill("1.054")
        page.get_by_role("button", name="Start session").click()
        expect(page.locator("#session-status")).to_have_text(
            "The FG (1.054) is above the OG (1.012): are they swapped?"
        )
        expect(page.locator("#session-status")).to_have_attribute("data-kind", "error")
        assert not [
            s
            for s in get_json(f"{stack.url}/api/sessions?device={stack.device_id}")
            if s["running"]
        ]
        expect(page.get_by_label("Beer name")).to_have_value("Swapped")
    finally:
        end_running(stack)
