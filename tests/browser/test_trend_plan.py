"""The running profile drawn ahead on the trend page, against the real service and daemon."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Page, Route, expect

from .conftest import Console, Stack
from .test_pages import choose_range, wait_until

PLAN = {
    "name": "Plan <b>ahead</b>",
    "steps": [
        {"kind": "hold", "target": 20.0, "hours": 10},
        {"kind": "ramp", "target": 15.0, "hours": 5},
        {"kind": "hold", "target": 15.0, "hours": 24},
    ],
}


def when(text: str | None) -> datetime:
    assert text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def chart_ends(page: Page) -> tuple[str | None, str, str]:
    """The plan's end, the axis's shown end and the readings' end, read at once: the
    simulated clock runs at 600x, so a redraw may land between two separate reads."""
    ends: list[str | None] = page.evaluate(
        """() => {
          const chart = document.querySelector("#chart");
          const plan = chart.querySelector("path.plan");
          return [plan ? plan.dataset.end : null, chart.dataset.shownEnd, chart.dataset.end];
        }"""
    )
    plan_end, shown_end, data_end = ends
    assert shown_end
    assert data_end
    return plan_end, shown_end, data_end


def open_with_plan(page: Page, stack: Stack) -> None:
    """Start PLAN on the daemon, then open the trend page on 24 h."""
    stack.daemon_request("set_thermostat", profile=PLAN)
    wait_until(lambda: stack.daemon_state()["thermostat"].get("profile"), what="the profile")
    page.goto(f"{stack.url}/trend?device={stack.device_id}&range=24h")
    page.wait_for_selector("body[data-ready]")


def test_a_started_profile_is_drawn_ahead_to_its_end(
    page: Page, stack: Stack, console: Console
) -> None:
    stack.daemon_request("set_thermostat", mode="off", profile=None)
    try:
        page.goto(f"{stack.url}/trend?device={stack.device_id}&range=24h")
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("#chart")).to_have_attribute("data-loaded", re.compile(r"\d"))
        assert page.locator("#chart path.plan").count() == 0
        stack.daemon_request("set_thermostat", profile=PLAN)
        running = wait_until(
            lambda: stack.daemon_state()["thermostat"].get("profile"), what="the profile"
        )
        # The page hears of it over /live and draws the plan: now at 20 °C, the
        # ramp down to 15 °C, and the last hold to the profile's end.
        plan = page.locator("#chart path.plan")
        expect(plan).to_have_count(1, timeout=15_000)
        expect(plan).to_have_attribute("data-targets", "20.0 20.0 15.0 15.0 15.0")
        plan_end, shown_end, data_end = chart_ends(page)
        end = when(plan_end)
        planned_end = when(running["started_at"]) + timedelta(hours=39)
        # The state's times left are of its own timestamp (they were of the control
        # step before it: 3 min of the stack's 600x clock apart on a loaded run).
        assert abs(end - planned_end) < timedelta(seconds=2), (end, planned_end)
        # The time axis runs on to the profile's end (past the readings' end).
        assert when(shown_end) == end
        assert when(data_end) < end - timedelta(hours=30)
        legend = page.locator("#legend [data-kind=plan]")
        expect(legend).to_contain_text("Planned target (Plan <b>ahead</b>), ends ")
        assert page.locator("#legend b").count() == 0  # the name is text, not markup

        # In °F the plan follows the shown unit.
        page.locator("#unit-select").select_option("F")
        expect(plan).to_have_attribute("data-targets", "68.0 68.0 59.0 59.0 59.0")

        # A zoom that includes now keeps its span: the plan is drawn inside it.
        now = when(stack.daemon_state()["timestamp"])
        start, stop = (now - timedelta(hours=2)).isoformat(), (now + timedelta(hours=3)).isoformat()
        span = f"from={start}&to={stop}".replace("+", "%2B")
        page.goto(f"{stack.url}/trend?device={stack.device_id}&{span}")
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("#chart path.plan")).to_have_count(1)
        _, shown_end, data_end = chart_ends(page)
        assert shown_end == data_end

        page.goto(f"{stack.url}/trend?device={stack.device_id}&range=24h")
        page.wait_for_selector("body[data-ready]")
        expect(plan).to_have_count(1)
        # Stopped: the plan goes, and the axis ends with the readings again.
        stack.daemon_request("set_thermostat", profile=None)
        expect(page.locator("#chart path.plan")).to_have_count(0, timeout=15_000)
        expect(page.locator("#legend [data-kind=plan]")).to_have_count(0)
        plan_end, shown_end, data_end = chart_ends(page)
        assert plan_end is None
        assert shown_end == data_end
    finally:
        page.evaluate("window.localStorage.clear()")
        stack.daemon_request("set_thermostat", mode="off", profile=None)
    assert console.errors == [], "\n".join(console.errors)


def test_a_paused_profile_is_drawn_as_if_resumed_now(
    page: Page, stack: Stack, console: Console
) -> None:
    stack.daemon_request("set_thermostat", mode="off", profile=None)
    try:
        open_with_plan(page, stack)
        plan = page.locator("#chart path.plan")
        expect(plan).to_have_count(1, timeout=15_000)
        legend = page.locator("#legend [data-kind=plan]")
        expect(legend).not_to_contain_text("paused")

        stack.daemon_request("pause_profile")
        # Paused, the plan stays on the chart (faded), and the legend says when it
        # would end if the brewer resumed it now ...
        expect(page.locator("#chart path.plan.paused")).to_have_count(1, timeout=15_000)
        expect(legend).to_contain_text(re.compile(r"paused: ends .+ if resumed now"))
        # ... which moves later as the pause goes on (the simulated clock runs at
        # 600×: a real second is ten minutes of pause).
        first = when(plan.get_attribute("data-end"))
        wait_until(
            lambda: when(plan.get_attribute("data-end")) > first + timedelta(minutes=30),
            what="the paused plan's end moving on",
        )
        expect(plan).to_have_attribute(
            "data-targets", re.compile(r"^20\.0 20\.0 15\.0 15\.0 15\.0$")
        )

        stack.daemon_request("resume_profile")
        expect(page.locator("#chart path.plan.paused")).to_have_count(0, timeout=15_000)
        expect(plan).to_have_count(1)
        expect(legend).not_to_contain_text("paused")
    finally:
        stack.daemon_request("set_thermostat", mode="off", profile=None)
    assert console.errors == [], "\n".join(console.errors)


def test_the_plan_is_drawn_when_the_history_answers_slowly(
    page: Page, stack: Stack, console: Console
) -> None:
    """On a busy Pi the readings may take longer to come than the device's clock
    runs past the chart's end (a simulated fermenter runs at 600x: 0.5 s is five
    minutes); the plan is drawn all the same."""

    def slow(route: Route) -> None:
        time.sleep(0.5)
        route.continue_()

    stack.daemon_request("set_thermostat", mode="off", profile=None)
    try:
        open_with_plan(page, stack)
        expect(page.locator("#chart path.plan")).to_have_count(1)
        # The first draw came with the page; a range chosen now asks the service.
        page.route("**/api/devices/*/readings?*", slow)
        choose_range(page, "6h")
        expect(page.locator("#chart path.plan")).to_have_count(1)
        expect(page.locator("#legend [data-kind=plan]")).to_contain_text("Planned target")
    finally:
        page.unroute("**/api/devices/*/readings?*")
        stack.daemon_request("set_thermostat", mode="off", profile=None)
    assert console.errors == [], "\n".join(console.errors)
