"""The current page's profile editor, in a real browser against the real service and daemon."""

from __future__ import annotations

import json

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, Page, Response, Route, expect

from .conftest import Console, Stack, get_json, hold_gets, send_json, wait_for_held
from .test_pages import open_current, wait_until


def forget_saved(stack: Stack) -> None:
    for saved in get_json(f"{stack.url}/api/profiles"):
        send_json(f"{stack.url}/api/profiles/{saved['id']}", "DELETE")


def choices(page: Page, group: str) -> list[str]:
    return page.locator(f"#profile-choice optgroup[label='{group}'] option").all_inner_texts()


def steps_of(stack: Stack) -> list[dict[str, object]]:
    profile = stack.daemon_state()["thermostat"].get("profile") or {}
    return list(profile.get("steps") or [])


def test_a_profile_built_in_the_page_runs_on_the_fermenter(
    page: Page, stack: Stack, console: Console
) -> None:
    stack.daemon_request("set_thermostat", mode="off", profile=None)
    try:
        open_current(page, stack)
        card = page.locator("#profile-card")
        expect(card).to_be_visible()

        # A built-in starting point: five steps, drawn ahead with one point per corner.
        page.get_by_label("Start from").select_option(label="Lager with diacetyl rest")
        expect(page.locator("#profile-steps .profile-step")).to_have_count(5)
        expect(page.get_by_label("Profile name")).to_have_value("Lager with diacetyl rest")
        expect(page.locator("#profile-preview")).to_have_attribute("data-points", "6")
        expect(page.locator("#profile-summary")).to_contain_text("5 steps, 26.0 days")

        # A mistake is named, and nothing reaches the fermenter.
        first = page.locator("#profile-steps .profile-step").first
        first.locator(".step-target").fill("")
        expect(page.locator("#profile-summary")).to_have_text("step 1: give a target")
        page.get_by_role("button", name="Start profile").click()
        expect(page.locator("#profile-status")).to_have_text("step 1: give a target")
        assert steps_of(stack) == []

        # Typed in °F: 50 °F is 10 °C for the daemon; the other steps follow the unit.
        page.locator("#unit-select").select_option("F")
        expect(page.locator("#profile-steps .step-target").nth(1)).to_have_value("60.8")
        first.locator(".step-target").fill("50")
        page.get_by_label("Profile name").fill("My lager")
        page.get_by_label("Control with").select_option("heat_cool")
        page.get_by_role("button", name="Start profile").click()
        expect(page.locator("#profile-status")).to_have_text("Profile “My lager” started.")
        steps = wait_until(lambda: steps_of(stack), what="the profile on the daemon")
        assert [s["kind"] for s in steps] == ["hold", "ramp", "hold", "ramp", "hold"]
        assert [s["target"] for s in steps] == [10.0, 16.0, 16.0, 2.0, 2.0]
        assert [s["hours"] for s in steps] == [168, 24, 48, 48, 336]
        assert stack.daemon_state()["thermostat"]["mode"] == "heat_cool"
        # The running profile: its step and when the step and the profile end.
        expect(page.locator("#profile")).to_contain_text("Profile “My lager”, step 1 of 5")
        expect(page.locator("#profile")).to_contain_text("this step ends")

        # Saved on the service (in °C), offered again after a reload.
        page.get_by_role("button", name="Save profile").click()
        expect(page.locator("#profile-status")).to_have_text("Saved “My lager”.")
        saved = {p["name"]: p for p in get_json(f"{stack.url}/api/profiles")}
        assert [s["target"] for s in saved["My lager"]["steps"]] == [10.0, 16.0, 16.0, 2.0, 2.0]
        page.reload()
        page.wait_for_selector("body[data-ready]")
        page.get_by_label("Start from").select_option(label="My lager")
        expect(page.locator("#profile-steps .step-target").first).to_have_value("50.0")

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Stop profile").click()
        expect(page.locator("#profile-status")).to_have_text("Profile stopped.")
        wait_until(lambda: steps_of(stack) == [], what="the profile to be cleared")
        expect(page.locator("#profile")).to_be_hidden()
    finally:
        page.evaluate("window.localStorage.clear()")
        stack.daemon_request("set_thermostat", mode="off", profile=None)
        forget_saved(stack)


def test_a_hold_can_end_on_gravity(page: Page, stack: Stack, console: Console) -> None:
    """A hold ends at a gravity or once gravity is steady; its length stays the longest."""
    stack.daemon_request("set_thermostat", mode="off", profile=None)
    try:
        open_current(page, stack)
        page.get_by_label("Start from").select_option(label="Ale")
        rows = page.locator("#profile-steps .profile-step")
        first, last = rows.nth(0), rows.nth(2)
        # A ramp has no gravity end; a hold offers one.
        expect(rows.nth(1).locator(".step-ends")).to_be_hidden()
        first.locator(".step-ends").select_option("sg")
        page.get_by_role("button", name="Start profile").click()
        expect(page.locator("#profile-status")).to_have_text("step 1: give the gravity it ends at")
        first.locator(".step-sg").fill("1.012")
        last.locator(".step-ends").select_option("stable")
        expect(page.locator("#profile-summary")).to_contain_text("at most 8.0 days")
        page.get_by_role("button", name="Start profile").click()
        # (With the thermostat off it also says nothing heats or cools the beer.)
        expect(page.locator("#profile-status")).to_contain_text("Profile “Ale” started")
        steps = wait_until(lambda: steps_of(stack), what="the profile on the daemon")
        assert steps[0]["until_sg"] == 1.012
        assert (steps[2]["stable_within"], steps[2]["stable_hours"]) == (0.001, 24)
        assert [s["hours"] for s in steps] == [96, 24, 72]  # the fallbacks
    finally:
        stack.daemon_request("set_thermostat", mode="off", profile=None)


def test_a_steps_gravity_box_names_its_unit(page: Page, stack: Stack) -> None:
    """As the target's box has °C or °F beside it, the gravity a hold waits for has SG or °P."""
    open_current(page, stack)
    page.get_by_label("Start from").select_option(label="Ale")
    first = page.locator("#profile-steps .profile-step").first
    unit = first.locator(".step-sg-unit")
    expect(unit).to_be_hidden()  # until the step ends on a gravity
    first.locator(".step-ends").select_option("sg")
    expect(unit).to_be_visible()
    expect(unit).to_have_text("SG")
    first.get_by_label("Ends at SG").fill("1.012")
    # In °Plato the box, its unit and what is typed follow, and back again.
    page.get_by_label("Gravity").select_option("P")
    expect(unit).to_have_text("°P")
    expect(first.get_by_label("Ends at °P")).to_have_value("3.1")
    expect(page.locator("#profile-summary")).to_contain_text("3 steps")
    # A step added now says °P from the start.
    page.get_by_role("button", name="Add step").click()
    added = page.locator("#profile-steps .profile-step").last
    added.locator(".step-ends").select_option("sg")
    expect(added.locator(".step-sg-unit")).to_have_text("°P")
    added.get_by_role("button", name="Remove step").click()
    page.get_by_label("Gravity").select_option("SG")
    expect(unit).to_have_text("SG")
    expect(first.get_by_label("Ends at SG")).to_have_value("1.012")
    # Hidden with its box when the step no longer waits for a gravity.
    first.locator(".step-ends").select_option("time")
    expect(unit).to_be_hidden()


def test_a_profile_started_with_the_thermostat_off_says_nothing_controls_the_beer(
    page: Page, stack: Stack
) -> None:
    """Control with "The current mode" while that mode is off runs the profile's targets
    with no heater or cooler: the choice names the mode, and starting says what it means."""
    stack.daemon_request("set_thermostat", mode="off", profile=None)
    try:
        open_current(page, stack)
        current = page.locator("#profile-mode option[value='']")
        expect(current).to_have_text("The current mode (Off)")
        page.get_by_label("Start from").select_option(label="Ale")
        page.get_by_role("button", name="Start profile").click()
        status = page.locator("#profile-status")
        expect(status).to_have_text(
            "Profile “Ale” started, but the thermostat is off: nothing heats or cools "
            "the beer until you choose a mode."
        )
        expect(status).to_have_attribute("data-kind", "warn")
        wait_until(lambda: steps_of(stack), what="the profile on the daemon")
        # A mode set meanwhile (here, or anywhere) is the one named.
        stack.daemon_request("set_thermostat", mode="heat")
        expect(current).to_have_text("The current mode (Heat)")
        page.get_by_role("button", name="Start profile").click()
        expect(status).to_have_text("Profile “Ale” started.")
    finally:
        stack.daemon_request("set_thermostat", mode="off", profile=None)


def test_saved_profiles_move_from_the_browser_and_reach_every_page(
    page: Page, stack: Stack, console: Console
) -> None:
    """An older page's browser-saved profiles move to the service; edits show in other pages."""
    old = [
        {"name": "Kölsch", "steps": [{"kind": "hold", "target": 15, "hours": 120}]},
        # Out of the daemon's range: the service refuses it, so it stays in the browser.
        {"name": "Too hot", "steps": [{"kind": "hold", "target": 80, "hours": 1}]},
    ]
    other = page.context.browser.new_page() if page.context.browser else None
    assert other is not None
    # The service's refusals, counted from the answers (the browser's console notes of
    # them are its own business: another build may word them otherwise, or log twice).
    refused: list[str] = []

    def note_refusal(response: Response) -> None:
        request = response.request
        posted = request.method == "POST" and request.url.endswith("/api/profiles")
        if posted and response.status == 400:
            refused.append(request.url)

    page.on("response", note_refusal)
    try:
        page.goto(f"{stack.url}/")
        # Ready once its own profile load is done: the stored list is read only at the reload.
        page.wait_for_selector("body[data-ready]")
        page.evaluate(
            f"window.localStorage.setItem('beerpi.profiles', {json.dumps(json.dumps(old))})"
        )
        page.reload()
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("#profile-choice optgroup[label=Saved] option")).to_have_count(1)
        assert choices(page, "Saved") == ["Kölsch"]
        assert choices(page, "Saved in this browser only") == ["Too hot"]
        left = json.loads(page.evaluate("window.localStorage.getItem('beerpi.profiles')"))
        assert [p["name"] for p in left] == ["Too hot"]
        [kolsch] = get_json(f"{stack.url}/api/profiles")
        assert kolsch["steps"] == [{"kind": "hold", "target": 15.0, "hours": 120.0}]

        # Another page (another browser's view) hears of a rename and a delete at once.
        other.goto(f"{stack.url}/")
        other.wait_for_selector("body[data-ready]")
        expect(other.locator("#profile-choice optgroup[label=Saved] option")).to_have_text(
            ["Kölsch"]
        )
        page.get_by_label("Start from").select_option(label="Kölsch")
        page.get_by_label("Profile name").fill("Kölsch, long")
        page.get_by_role("button", name="Save profile").click()
        expect(page.locator("#profile-status")).to_have_text("Saved “Kölsch, long” (was “Kölsch”).")
        expect(other.locator("#profile-choice optgroup[label=Saved] option")).to_have_text(
            ["Kölsch, long"]
        )
        assert [p["name"] for p in get_json(f"{stack.url}/api/profiles")] == ["Kölsch, long"]

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete saved profile").click()
        expect(page.locator("#profile-status")).to_contain_text("Deleted “Kölsch, long”")
        expect(other.locator("#profile-choice optgroup[label=Saved]")).to_have_count(0)
        assert get_json(f"{stack.url}/api/profiles") == []
        # The browser's profile went to the service once (one refusal, of "Too hot"), and
        # the page logged nothing but the browser's note of that refusal.
        assert len(refused) == 1, refused
        unexpected = [e for e in console.errors if "/api/profiles" not in e or "400" not in e]
        assert unexpected == [], "\n".join(unexpected)
        console.errors.clear()
    finally:
        other.close()
        page.evaluate("window.localStorage.clear()")
        forget_saved(stack)


def test_a_profile_chosen_while_another_is_being_saved_stays_chosen(
    page: Page, stack: Stack
) -> None:
    """The answer to Save must not choose the saved profile over the one now in the editor:
    the next Save would overwrite the saved one with the other's steps."""
    forget_saved(stack)
    try:
        open_current(page, stack)
        page.get_by_label("Start from").select_option(label="Ale")
        page.get_by_label("Profile name").fill("House ale")
        held: list[Route] = []

        def hold_saves(route: Route) -> None:
            if route.request.method == "POST":
                held.append(route)  # answered once the brewer has chosen another
            else:
                route.continue_()

        page.route("**/api/profiles", hold_saves)
        page.get_by_role("button", name="Save profile").click()
        expect(page.locator("#profile-status")).to_have_text("Saving…")
        page.get_by_label("Start from").select_option(label="Lager with diacetyl rest")
        expect(page.get_by_label("Profile name")).to_have_value("Lager with diacetyl rest")
        wait_for_held(page, held)
        held[0].continue_()
        expect(page.locator("#profile-status")).to_have_text("Saved “House ale”.")
        page.unroute("**/api/profiles")
        expect(page.locator("#profile-choice optgroup[label=Saved] option")).to_have_text(
            ["House ale"]
        )
        expect(page.get_by_label("Start from")).to_have_value("b1")  # the lager, as chosen
        # Saving what the editor shows makes a new profile; the first one keeps its steps.
        page.get_by_role("button", name="Save profile").click()
        expect(page.locator("#profile-status")).to_have_text("Saved “Lager with diacetyl rest”.")
        saved = {p["name"]: p for p in get_json(f"{stack.url}/api/profiles")}
        assert sorted(saved) == ["House ale", "Lager with diacetyl rest"]
        assert [s["target"] for s in saved["House ale"]["steps"]] == [19.0, 21.0, 21.0]
    finally:
        forget_saved(stack)


def test_a_profile_saved_elsewhere_while_the_list_loads_is_listed(page: Page, stack: Stack) -> None:
    """The page's list of saved profiles may answer from before a save that was pushed
    meanwhile: the pushed one stays listed."""
    forget_saved(stack)
    held = hold_gets(page, "**/api/profiles", as_now=True)
    try:
        page.goto(f"{stack.url}/")
        wait_for_held(page, held)
        expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
        # Another page saves one meanwhile: the push lists it at once.
        body = {
            "name": "Elsewhere",
            "unit": "C",
            "steps": [{"kind": "hold", "target": 18, "hours": 48}],
        }
        send_json(f"{stack.url}/api/profiles", "POST", body)
        expect(page.locator("#profile-choice optgroup[label=Saved] option")).to_have_text(
            ["Elsewhere"]
        )
        route, answer = held[0]
        route.fulfill(response=answer)  # the list from before that save
        page.wait_for_selector("body[data-ready]")  # once the list is shown
        assert choices(page, "Saved") == ["Elsewhere"]
        page.unroute("**/api/profiles")
    finally:
        forget_saved(stack)


def test_the_profile_editor_fits_a_phone(browser: Browser, stack: Stack) -> None:
    """On a 375 px phone the steps wrap inside the card: no sideways scrolling to reach
    a step's end condition (its longest choice is wider than the screen)."""
    context = browser.new_context(viewport={"width": 375, "height": 700})
    try:
        page = context.new_page()
        open_current(page, stack)
        page.get_by_label("Start from").select_option(label="Ale")
        row = page.locator("#profile-steps .profile-step").first
        row.locator(".step-ends").select_option("stable")
        expect(row.locator(".step-ends")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        box = row.locator(".step-ends").bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 375
    finally:
        context.close()


def test_steps_are_numbered_as_the_summary_names_them(page: Page, stack: Stack) -> None:
    """A summary such as "step 2: give a length above 0" must point at a step the brewer
    can find: each row shows its number, renumbered when a step is added or removed."""
    open_current(page, stack)
    page.get_by_label("Start from").select_option(label="Ale")
    rows = page.locator("#profile-steps .profile-step")
    numbers = page.locator("#profile-steps .step-number")
    expect(numbers).to_have_text(["1.", "2.", "3."])
    rows.nth(1).locator(".step-length").fill("")
    expect(page.locator("#profile-summary")).to_have_text("step 2: give a length above 0")
    expect(rows.nth(1).locator(".step-number")).to_be_visible()
    rows.nth(0).get_by_role("button", name="Remove step").click()
    expect(numbers).to_have_text(["1.", "2."])
    expect(page.locator("#profile-summary")).to_have_text("step 1: give a length above 0")
    page.get_by_role("button", name="Add step").click()
    expect(numbers).to_have_text(["1.", "2.", "3."])


def test_the_profile_preview_is_readable_on_a_phone(browser: Browser, stack: Stack) -> None:
    """The targets written on the preview are as large on a 375 px phone as on a desktop."""
    for width in (375, 1366):
        context = browser.new_context(viewport={"width": width, "height": 800})
        try:
            page = context.new_page()
            open_current(page, stack)
            page.get_by_label("Start from").select_option(label="Ale")
            labels = page.locator("#profile-preview text")
            expect(labels).to_have_count(3)
            heights = labels.evaluate_all("all => all.map(t => t.getBoundingClientRect().height)")
            assert min(heights) >= 10, (width, heights)
        finally:
            context.close()


def test_a_step_out_of_the_fermenters_range_is_named_in_the_brewers_words(
    page: Page, stack: Stack
) -> None:
    """A target beyond the thermostat's limits, or a step longer than a year, is named as
    the page names its steps (from 1) and in the shown unit, before anything is sent:
    not the service's "steps[0].target must be between -2 and 35 °C" to a °F brewer."""
    stack.daemon_request("set_thermostat", mode="off", profile=None)
    open_current(page, stack)
    page.locator("#unit-select").select_option("F")
    page.get_by_label("Start from").select_option(label="Ale")
    row = page.locator("#profile-steps .profile-step").first
    row.locator(".step-target").fill("200")
    expected = "step 1: give a target from 28.4 to 95.0 °F"  # the simulator's -2 to 35 °C
    expect(page.locator("#profile-summary")).to_have_text(expected)
    page.get_by_role("button", name="Start profile").click()
    expect(page.locator("#profile-status")).to_have_text(expected)
    row.locator(".step-target").fill("66")
    row.locator(".step-per").select_option("d")
    row.locator(".step-length").fill("400")
    expect(page.locator("#profile-summary")).to_have_text("step 1: at most 365 days (8760 hours)")
    page.get_by_role("button", name="Start profile").click()
    expect(page.locator("#profile-status")).to_have_text("step 1: at most 365 days (8760 hours)")
    assert steps_of(stack) == []
