"""°C or °F, chosen in the page: shown, typed and drawn in that unit, stored in °C.

The real service and simulated daemon (the package's ``stack``) in Chromium; the
daemon's own state is the judge of what was stored.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Page, Route, expect

from .conftest import Stack, get_json
from .test_pages import choose_range
from .test_sessions_page import end_running

NUMBER = re.compile(r"^-?\d+\.\d$")
TICK = re.compile(r"^(-?\d+(?:\.\d+)?)°F$")


def wait_until(predicate: Callable[[], Any], timeout_s: float = 20, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def fahrenheit(celsius: float) -> float:
    return celsius * 9 / 5 + 32


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready]")


def beer_shown(page: Page) -> float:
    text = page.locator("[data-testid=probe-beer] .value").inner_text().strip()
    assert NUMBER.match(text), text
    return float(text)


def beer_celsius(stack: Stack) -> float:
    return float(stack.daemon_state()["probes"]["beer"]["temperature"])


def assert_beer_in_fahrenheit(page: Page, stack: Stack) -> None:
    card = page.locator("[data-testid=probe-beer]")
    expect(card.locator(".unit")).to_have_text("°F")
    expect(card.locator(".value")).to_have_text(NUMBER)
    expect(card.locator(".temperature")).to_have_attribute(
        "aria-label", re.compile(r"degrees Fahrenheit$")
    )
    # The daemon's °C reading, converted (the beer drifts a little between the two looks).
    wait_until(
        lambda: abs(beer_shown(page) - fahrenheit(beer_celsius(stack))) < 0.6,
        what="the beer's °F on the page to match the daemon's °C reading",
    )


def test_fahrenheit_is_shown_remembered_and_drawn(page: Page, stack: Stack) -> None:
    stack.daemon_request("set_thermostat", mode="off")
    open_page(page, f"{stack.url}/")
    expect(page.locator("[data-testid=probe-beer] .unit")).to_have_text("°C")
    wait_until(
        lambda: abs(beer_shown(page) - beer_celsius(stack)) < 0.4,
        what="the beer's °C on the page to match the daemon",
    )

    page.get_by_label("Units").select_option("F")
    assert_beer_in_fahrenheit(page, stack)
    expect(page.get_by_label("Target °F")).to_be_visible()

    # Another tab of this browser follows the choice at once.
    other = page.context.new_page()
    open_page(other, f"{stack.url}/")
    expect(other.locator("[data-testid=probe-beer] .unit")).to_have_text("°F")
    other.get_by_label("Units").select_option("C")
    expect(page.locator("[data-testid=probe-beer] .unit")).to_have_text("°C")
    expect(page.get_by_label("Units")).to_have_value("C")
    other.get_by_label("Units").select_option("F")
    expect(page.locator("[data-testid=probe-beer] .unit")).to_have_text("°F")
    other.close()

    # Remembered by this browser: a reload opens in °F.
    page.reload()
    page.wait_for_selector("body[data-ready]")
    expect(page.get_by_label("Units")).to_have_value("F")
    assert_beer_in_fahrenheit(page, stack)

    # The trend page too: its y axis is in °F, around the beer's °F temperature.
    open_page(page, f"{stack.url}/trend?device={stack.device_id}&range=6h")
    expect(page.get_by_label("Units")).to_have_value("F")
    expect(page.locator("#chart")).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    axis = page.locator("#chart .axis-y")
    expect(axis).to_have_attribute("data-unit", "F")
    labels = axis.locator(".tick text").all_text_contents()
    assert labels, "no y ticks"
    ticks = []
    for label in labels:
        match = TICK.match(label)
        assert match, labels
        ticks.append(float(match.group(1)))
    beer_f = fahrenheit(beer_celsius(stack))
    assert min(ticks) - 5 <= beer_f <= max(ticks) + 5, (ticks, beer_f)
    # The hover read-out says °F as well.
    box = page.locator("#chart").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.4)
    expect(page.locator(".readout")).to_contain_text("°F")
    expect(page.locator(".readout")).not_to_contain_text("°C")

    # Back to °C in place: the axis is redrawn without a reload.
    page.get_by_label("Units").select_option("C")
    expect(axis).to_have_attribute("data-unit", "C")
    assert all(label.endswith("°C") for label in axis.locator(".tick text").all_text_contents())


def test_the_trend_csv_download_is_in_the_unit_the_page_shows(page: Page, stack: Stack) -> None:
    """A brewer who reads °F gets a file in °F, whose header says so (°C likewise)."""
    open_page(page, f"{stack.url}/trend?device={stack.device_id}&range=6h")
    expect(page.locator("#chart")).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    link = page.get_by_role("link", name=re.compile(r"^Download CSV"))
    expect(link).to_have_text("Download CSV (°C)")

    def download(unit: str) -> dict[tuple[str, str], float]:
        url = link.evaluate("a => a.href")
        assert parse_qs(urlparse(url).query)["unit"] == [unit], url
        assert (link.get_attribute("download") or "").endswith(f"-{unit}.csv")
        answer = page.request.get(url)
        assert answer.ok, answer.text()
        header, *rows = [line.split(",") for line in answer.text().strip().splitlines()]
        assert header == ["device", "probe", "timestamp", f"temperature_{unit.lower()}"]
        return {(row[1], row[2]): float(row[3]) for row in rows}

    celsius = download("C")
    # Switched in place: the link follows without a reload.
    page.get_by_label("Units").select_option("F")
    expect(link).to_have_text("Download CSV (°F)")
    shown = download("F")
    both = celsius.keys() & shown.keys()
    assert len(both) > 10, (len(celsius), len(shown))
    for key in both:
        assert shown[key] == pytest.approx(fahrenheit(celsius[key]), abs=1e-3), key
    page.get_by_label("Units").select_option("C")
    expect(link).to_have_text("Download CSV (°C)")


def test_the_trend_hover_reads_one_decimal_in_the_shown_unit(page: Page, stack: Stack) -> None:
    """Probes read in 1/16 °C and the pages show one decimal: the hover too, in either unit."""
    open_page(page, f"{stack.url}/trend?device={stack.device_id}&range=6h")
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    box = chart.bounding_box()
    assert box is not None
    beer = page.locator(".readout div", has_text="Beer:").locator("strong")
    for step, (unit, symbol) in enumerate((("C", "°C"), ("F", "°F"))):
        page.get_by_label("Units").select_option(unit)
        expect(chart.locator(".axis-y")).to_have_attribute("data-unit", unit)
        page.mouse.move(box["x"] + box["width"] * (0.7 + step / 20), box["y"] + box["height"] * 0.4)
        expect(beer).to_have_text(re.compile(rf"^-?\d+\.\d {symbol}$"))
    page.get_by_label("Units").select_option("C")


def test_the_trend_hover_leaves_out_a_range_that_reads_as_one_value(
    page: Page, stack: Stack
) -> None:
    """A bucket of readings that all round to one value reads "(3 readings)", not
    "(20.0–20.0, 3 readings)"; a real range is still given."""

    def flatten_beer(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        for bucket in body["probes"]["beer"]:
            if bucket["count"]:
                bucket["min"] = bucket["max"] = bucket["mean"]
                bucket["count"] = 3
        for bucket in body["probes"]["fridge"]:
            if bucket["count"]:
                bucket["min"], bucket["max"] = bucket["mean"] - 0.5, bucket["mean"] + 0.5
                bucket["count"] = 3
        route.fulfill(response=answer, json=body)

    open_page(page, f"{stack.url}/trend?device={stack.device_id}&range=6h")
    page.route(re.compile(r"/readings\?"), flatten_beer)
    choose_range(page, "24h")  # asked by the page (the first answers came in it)
    box = page.locator("#chart").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.4)
    beer = page.locator(".readout div", has_text="Beer:")
    expect(beer).to_have_text(re.compile(r"^Beer: -?\d+\.\d °C \(3 readings\)$"))
    fridge = page.locator(".readout div", has_text="Fridge:")
    expect(fridge).to_have_text(
        re.compile(r"^Fridge: -?\d+\.\d °C \(-?\d+\.\d–-?\d+\.\d, 3 readings\)$")
    )


def test_a_target_typed_in_fahrenheit_reaches_the_daemon_in_celsius(
    page: Page, stack: Stack
) -> None:
    stack.daemon_request("set_thermostat", mode="off", target=18.0)
    open_page(page, f"{stack.url}/")
    page.get_by_label("Units").select_option("F")
    # The current target is shown, and put in the form, in °F (18 °C is 64.4 °F).
    expect(page.locator("#target-value")).to_have_text("64.4 °F")
    expect(page.get_by_label("Target °F")).to_have_value("64.4")

    page.get_by_label("Mode").select_option("heat")
    page.get_by_label("Target °F").fill("68")
    # A target being typed follows a change of unit (and back) instead of being lost.
    page.get_by_label("Units").select_option("C")
    expect(page.get_by_label("Target °C")).to_have_value("20.0")
    page.get_by_label("Units").select_option("F")
    expect(page.get_by_label("Target °F")).to_have_value("68.0")
    page.get_by_role("button", name="Set").click()
    expect(page.locator("#thermostat-status")).to_have_text("Thermostat set: Heat, target 68.0 °F.")
    wait_until(
        lambda: (
            stack.daemon_state()["thermostat"]["mode"] == "heat"
            and abs(stack.daemon_state()["thermostat"]["target"] - 20.0) < 1e-6
        ),
        what="the daemon's target to be 20 °C",
    )
    expect(page.locator("#target-value")).to_have_text("68.0 °F")
    expect(page.locator("#events")).to_contain_text("Target 68.0 °F")

    # The form's limits are the daemon's (-2 to 35 °C by default), in °F.
    expect(page.get_by_label("Target °F")).to_have_attribute("min", "28.4")
    expect(page.get_by_label("Target °F")).to_have_attribute("max", "95.0")

    # Switching back to °C shows the same target in °C.
    page.get_by_label("Units").select_option("C")
    expect(page.locator("#target-value")).to_have_text("20.0 °C")
    expect(page.get_by_label("Target °C")).to_have_value("20.0")
    expect(page.locator("#events")).to_contain_text("Target 20.0 °C")
    stack.daemon_request("set_thermostat", mode="off")


def test_gravity_in_plato_is_stored_as_specific_gravity(page: Page, stack: Stack) -> None:
    end_running(stack)
    open_page(page, f"{stack.url}/")
    page.get_by_label("Gravity").select_option("P")
    page.get_by_label("Beer name").fill("Plato pils")
    page.get_by_label("OG °P").fill("12.4")
    page.get_by_role("button", name="Start session").click()
    expect(page.locator("#session-og")).to_have_text("12.4 °P")
    # Stored as specific gravity: 12.4 °P is about 1.050.
    [session] = [
        s for s in get_json(f"{stack.url}/api/sessions?device={stack.device_id}") if s["running"]
    ]
    assert session["og"] == pytest.approx(1.050, abs=5e-4)

    # Remembered by this browser, and the edit form shows °P too.
    page.reload()
    page.wait_for_selector("body[data-ready]")
    expect(page.get_by_label("Gravity")).to_have_value("P")
    expect(page.locator("#session-og")).to_have_text("12.4 °P")
    expect(page.get_by_label("OG °P")).to_have_value("12.4")

    # Back to SG in place: shown and in the form as specific gravity.
    page.get_by_label("Gravity").select_option("SG")
    expect(page.locator("#session-og")).to_have_text("1.050")
    expect(page.get_by_label("OG", exact=True)).to_have_value("1.050")
    end_running(stack)
