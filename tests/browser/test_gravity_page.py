"""Gravity in the pages: an iSpindel posts to the real service, a real browser shows it.

The web service runs with a hydrometer in its config file, linked to a simulated
daemon (600 times real time, so the posts a second apart land minutes apart on
the fermenter's clock); readings go in through the iSpindel endpoint itself.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import APIResponse, Page, Route, expect

from tests.support.daemon import TOKEN, daemon_process

from .conftest import SIM_ARGS, get_json, send_json, wait_for_devices, wait_for_held, web_service

DEVICE = "fv-gravity"
HYDROMETER = "red-spindel"
SPINDEL_TOKEN = "spindel-Tq8vLw2Xc6Nz4Rb1Yk"
OG = 1.050


@dataclass
class GravityStack:
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())

    def ispindel(self, gravity: float) -> None:
        body = {
            "name": "<b>iSpindel</b>",
            "ID": 99,
            "token": SPINDEL_TOKEN,
            "angle": 40 + (gravity - 1) * 400,
            "temperature": 68.0,
            "temp_units": "F",
            "battery": 3.91,
            "gravity": gravity,
            "interval": 900,
            "RSSI": -60,
        }
        status, answer = self.post("/api/hydrometers/ispindel", body)
        assert (status, answer["stored"]) == (200, True), answer


@pytest.fixture(scope="module")
def gravity_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GravityStack]:
    tmp = tmp_path_factory.mktemp("gravity")
    (tmp / "daemon").mkdir()
    (tmp / "daemon" / "device.json").write_text(json.dumps({"id": DEVICE}))
    config = tmp / "web.toml"
    config.write_text(
        f'[hydrometers.{HYDROMETER}]\ndevice = "{DEVICE}"\ntoken = "{SPINDEL_TOKEN}"\n'
    )
    with (
        daemon_process(tmp / "daemon", *SIM_ARGS) as daemon,
        web_service(
            tmp,
            "--config",
            str(config),
            "--db",
            str(tmp / "history.sqlite"),
            "--daemon",
            f"ws://127.0.0.1:{daemon.port}",
            "--daemon-token",
            TOKEN,
        ) as (_web, port),
    ):
        assert wait_for_devices(port) == [DEVICE]
        stack = GravityStack(port)
        status, _ = stack.post("/api/sessions", {"device": DEVICE, "name": "Pale", "og": OG})
        assert status == 201
        # Six posts a second apart: an hour of the simulated fermenter's time.
        for gravity in (1.030, 1.024, 1.020, 1.016, 1.014, 1.012):
            stack.ispindel(gravity)
            time.sleep(1.0)
        yield stack


def plato(sg: float) -> float:
    return 135.997 * sg**3 - 630.272 * sg**2 + 1111.14 * sg - 616.868


def test_the_current_page_shows_gravity_attenuation_and_abv(
    page: Page, gravity_stack: GravityStack, artifacts: Path
) -> None:
    page.goto(f"{gravity_stack.url}/")
    page.wait_for_selector("body[data-ready]")
    reading = page.locator(f"#hydrometers li[data-hydrometer='{HYDROMETER}']")
    expect(reading.locator(".hydrometer-name")).to_have_text(HYDROMETER)
    expect(reading.locator(".gravity-value")).to_have_text("1.012")
    # OG 1.050 to 1.012: (1.050 - 1.012) / 0.050 = 76 %, ABV 0.038 x 131.25 = 5.0 %.
    expect(reading.locator(".gravity-fermentation")).to_have_text(
        "OG 1.050 · apparent attenuation 76 % · ABV 5.0 %"
    )
    expect(reading.locator(".gravity-detail")).to_contain_text("20.0 °C · battery 3.91 V")
    # The name the iSpindel sent is not shown, let alone as markup.
    assert page.locator("#gravity-card b").count() == 0
    page.locator("#gravity-card").screenshot(path=artifacts / "gravity-current.png")
    page.select_option("#gravity-select", "P")
    expect(reading.locator(".gravity-value")).to_have_text(f"{plato(1.012):.1f} °P")
    page.select_option("#unit-select", "F")
    expect(reading.locator(".gravity-detail")).to_contain_text("68.0 °F")


def test_the_trend_page_draws_gravity_on_its_own_axis(
    page: Page, gravity_stack: GravityStack, artifacts: Path
) -> None:
    page.goto(f"{gravity_stack.url}/trend?device={DEVICE}&range=6h")
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#chart")).to_have_attribute("data-loaded", re.compile(r"\d"))
    line = page.locator(f"#chart g.gravity[data-hydrometer='{HYDROMETER}'] path.gravity-line")
    expect(line).to_have_attribute("data-points", re.compile(r"^[2-9]|\d\d"))
    axis = page.locator("#chart .axis-gravity")
    expect(axis).to_have_attribute("data-unit", "SG")
    # The axis is at the right of the plot and spans the posted gravities.
    texts = axis.locator(".tick text").evaluate_all("(nodes) => nodes.map((n) => n.textContent)")
    ticks = [float(text) for text in texts]
    assert min(ticks) <= 1.012
    assert max(ticks) >= 1.030
    # Measured in one go: live pushes redraw the chart at any moment.
    left, right = page.locator("#chart").evaluate(
        """(chart) => [".axis-y", ".axis-gravity"].map(
            (name) => chart.querySelector(name).getBoundingClientRect().left)"""
    )
    assert right > left + 300
    # The line falls: its last point is lower on the chart (larger y) than its first.
    path = line.get_attribute("d") or ""
    ys = [float(y) for y in re.findall(r"[ML][\d.e+-]+,([\d.e+-]+)", path)]
    assert len(ys) >= 2
    assert ys[-1] > ys[0]
    expect(page.locator(f"#legend [data-kind='gravity:{HYDROMETER}']")).to_contain_text("Gravity")
    page.screenshot(path=artifacts / "gravity-trend.png")
    page.select_option("#gravity-select", "P")
    expect(axis).to_have_attribute("data-unit", "P")
    expect(axis.locator(".tick text").first).to_contain_text("°P")


def test_a_gravity_above_the_og_shows_no_negative_abv(
    page: Page, gravity_stack: GravityStack
) -> None:
    """Before the yeast starts, or with a hydrometer reading a little high, the gravity is
    above the OG typed: the page says so rather than "ABV -0.5 %"."""
    (session,) = get_json(f"{gravity_stack.url}/api/sessions?device={DEVICE}")
    send_json(f"{gravity_stack.url}/api/sessions/{session['id']}", "PATCH", {"og": 1.005})
    try:
        page.goto(f"{gravity_stack.url}/")
        page.wait_for_selector("body[data-ready]")
        reading = page.locator(f"#hydrometers li[data-hydrometer='{HYDROMETER}']")
        expect(reading.locator(".gravity-fermentation")).to_have_text(
            "OG 1.005 · no drop from the OG yet (attenuation and ABV once it falls)"
        )
    finally:
        send_json(f"{gravity_stack.url}/api/sessions/{session['id']}", "PATCH", {"og": OG})


# The two tests below post more readings: they come after those that expect 1.012.


def test_an_ispindel_post_shows_on_an_open_current_page_by_push(
    page: Page, gravity_stack: GravityStack
) -> None:
    page.goto(f"{gravity_stack.url}/")
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
    value = page.locator(f"#hydrometers li[data-hydrometer='{HYDROMETER}'] .gravity-value")
    expect(value).to_have_attribute("data-sg", re.compile(r"^1\.0"))
    shown = value.get_attribute("data-sg")
    gravity_stack.ispindel(1.008)
    # While live the page does not poll at all: only the push can bring it.
    expect(value).to_have_text("1.008", timeout=5000)
    assert shown != "1.008"
    # OG 1.050 to 1.008: 84 %, 5.5 %.
    expect(
        page.locator(f"#hydrometers li[data-hydrometer='{HYDROMETER}'] .gravity-fermentation")
    ).to_have_text("OG 1.050 · apparent attenuation 84 % · ABV 5.5 %")


def test_an_ispindel_post_extends_the_open_trend_pages_gravity_line(
    page: Page, gravity_stack: GravityStack
) -> None:
    page.goto(f"{gravity_stack.url}/trend?device={DEVICE}&range=6h")
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
    axis = page.locator("#chart .axis-gravity")
    expect(axis.locator(".tick text").first).to_be_visible()

    def lowest_tick() -> float:
        texts = axis.locator(".tick text").evaluate_all(
            "(nodes) => nodes.map((n) => n.textContent)"
        )
        return min(float(text) for text in texts)

    assert lowest_tick() > 1.0025
    # The temperature readings' pushes redraw the chart at most every 10 s: post just
    # after such a redraw, so only the gravity push can redraw it within 3 s.
    chart = page.locator("#chart")
    loaded = chart.get_attribute("data-loaded")
    page.wait_for_function(
        "(before) => document.querySelector('#chart').dataset.loaded !== before",
        arg=loaded,
        timeout=15000,
    )
    gravity_stack.ispindel(1.002)
    # The line now reaches 1.002: the gravity axis grew down to it, without a reload
    # (the simulated daemon's own Tilt pushes too, ten times a second at 600x).
    page.wait_for_function(
        """() => Math.min(...[...document.querySelectorAll('#chart .axis-gravity .tick text')]
            .map((n) => parseFloat(n.textContent))) <= 1.002""",
        timeout=3000,
    )
    assert lowest_tick() <= 1.002


def test_a_gravity_push_during_a_reload_stays_on_the_line(
    page: Page, gravity_stack: GravityStack
) -> None:
    """A reading pushed while the chart's answers are on their way may be newer than
    they are: the chart drawn from them keeps it (it came after the tests above)."""
    page.goto(f"{gravity_stack.url}/trend?device={DEVICE}&range=6h")
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
    # The lowest gravity tick of each chart drawn from a load, taken as it is drawn.
    page.evaluate(
        """() => {
            window.lowestAtLoad = [];
            const chart = document.getElementById("chart");
            new MutationObserver(() => window.lowestAtLoad.push(Math.min(
                ...[...chart.querySelectorAll(".axis-gravity .tick text")]
                    .map((n) => parseFloat(n.textContent)))))
                .observe(chart, { attributes: true, attributeFilter: ["data-loaded"] });
        }"""
    )
    held: list[tuple[Route, APIResponse]] = []
    posted = False

    def hold_series(route: Route) -> None:
        if posted:
            route.continue_()  # asked after the post: it has the reading
        else:
            held.append((route, route.fetch()))  # the series as it is now, answered later

    page.route(re.compile(r"/gravity/series\?"), hold_series)
    page.evaluate("document.querySelector('[data-range=\"24h\"]').click()")
    wait_for_held(page, held)
    posted = True
    gravity_stack.ispindel(0.990)
    # The push puts it on the chart shown meanwhile at once.
    page.wait_for_function(
        """() => Math.min(...[...document.querySelectorAll('#chart .axis-gravity .tick text')]
            .map((n) => parseFloat(n.textContent))) < 0.999"""
    )
    for route, answer in held:
        route.fulfill(response=answer)  # from before the reading
    page.wait_for_function("() => window.lowestAtLoad.length > 0")
    assert page.evaluate("window.lowestAtLoad[0]") < 0.999
