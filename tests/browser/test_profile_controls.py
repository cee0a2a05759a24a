"""Pause, resume and skip the running profile from the current page, in a real browser
against the real service and daemon (600x: a minute of the page is ten hours of the beer's).
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Page, expect

from .conftest import Console, Stack
from .test_pages import open_current, wait_until

PROFILE = {
    "name": "Ale",
    "steps": [
        {"kind": "hold", "target": 19, "days": 4},
        {"kind": "ramp", "target": 21, "hours": 24},
        {"kind": "hold", "target": 2, "days": 2},
    ],
}


def running_profile(stack: Stack) -> dict[str, Any]:
    profile: dict[str, Any] = stack.daemon_state()["thermostat"].get("profile") or {}
    return profile


def test_pause_resume_and_skip_from_the_page(page: Page, stack: Stack, console: Console) -> None:
    stack.daemon_request("set_thermostat", mode="off", profile=None)
    try:
        open_current(page, stack)
        # No profile runs: none of the running-profile controls show.
        for name in ("Pause profile", "Skip step", "Stop profile"):
            expect(page.get_by_role("button", name=name)).to_be_hidden()
        stack.daemon_request("set_thermostat", profile=PROFILE)
        running = page.locator("#profile")
        expect(running).to_contain_text("Profile “Ale”, step 1 of 3")

        page.get_by_role("button", name="Pause profile").click()
        expect(page.locator("#profile-status")).to_have_text(
            "Profile paused: the target holds until you resume."
        )
        expect(running).to_contain_text("step 1 of 3, paused")
        expect(running).to_contain_text("of this step left once resumed")
        assert wait_until(lambda: running_profile(stack).get("paused"), what="the daemon paused")
        left = running_profile(stack)["step_time_left_s"]
        page.wait_for_timeout(1500)  # 15 minutes of the daemon's time: the step waits
        assert running_profile(stack)["step_time_left_s"] == left

        page.get_by_role("button", name="Resume profile").click()
        expect(page.locator("#profile-status")).to_have_text("Profile resumed.")
        expect(running).not_to_contain_text("paused")
        expect(running).to_contain_text("this step ends")
        assert running_profile(stack)["paused"] is False

        # Skip asks first; dismissed, nothing happens.
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.get_by_role("button", name="Skip step").click()
        expect(running).to_contain_text("step 1 of 3")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Skip step").click()
        expect(page.locator("#profile-status")).to_have_text("Step 1 skipped.")
        expect(running).to_contain_text("Profile “Ale”, step 2 of 3")
        assert running_profile(stack)["step"] == 1

        # Skipping the last step finishes the profile; its controls go.
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Skip step").click()
        expect(page.locator("#profile-status")).to_have_text("Step 2 skipped.")
        expect(running).to_contain_text("step 3 of 3")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Skip step").click()
        expect(page.locator("#profile-status")).to_have_text(
            "Step 3 skipped: the profile has finished."
        )
        expect(running).to_contain_text("(finished)")
        for name in ("Pause profile", "Skip step"):
            expect(page.get_by_role("button", name=name)).to_be_hidden()
    finally:
        stack.daemon_request("set_thermostat", mode="off", profile=None)
