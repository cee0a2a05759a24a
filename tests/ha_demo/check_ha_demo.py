"""make ha-demo end to end: a real Home Assistant and daemon, through the REST and websocket
APIs and through the UI in a browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from beerpi_devtools.browser import CHROMIUM_ARGS
from beerpi_devtools.harness import free_port
from beerpi_protocol.client import BeerPiClient

ROOT = Path(__file__).resolve().parents[2]
HA_PYTHON = ROOT / ".venv-ha" / "bin" / "python"
START_TIMEOUT_S = 150.0
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"

try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None  # type: ignore[assignment]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`scripts.ha_demo` as `make ha-demo` runs it, on free ports; SIGINT (Ctrl-C) after."""
    tmp = tmp_path_factory.mktemp("ha-demo")
    info_file = tmp / "info.json"
    config_dir = tmp / "config"
    command = [str(HA_PYTHON), "-m", "scripts.ha_demo", "--ha-port", str(free_port())]
    command += ["--info-file", str(info_file), "--config-dir", str(config_dir)]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while not info_file.exists():
        assert proc.poll() is None, "".join(output) + proc.stdout.read()
        assert time.monotonic() < deadline, "ha-demo did not come up in time"
        time.sleep(0.5)
    for line in proc.stdout:  # the banner follows the info file
        output.append(line)
        if "Ctrl-C stops both" in line:
            break
    info: dict[str, Any] = json.loads(info_file.read_text())
    yield {**info, "banner": "".join(output), "proc": proc, "config_dir": config_dir}
    proc.send_signal(signal.SIGINT)
    # ha_demo gives each of its two children 30 s to stop before it kills it
    # (STOP_TIMEOUT_S): wait for both and a margin, not just the two limits.
    rest = proc.communicate(timeout=90)[0]
    assert proc.returncode == 0, rest
    assert "Stopped Home Assistant and the daemon" in rest


def get(demo: dict[str, Any], path: str) -> Any:
    request = urllib.request.Request(
        demo["url"] + path, headers={"Authorization": f"Bearer {demo['access_token']}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def states(demo: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["entity_id"]: s for s in get(demo, "/api/states")}


def test_banner_gives_url_and_login(demo: dict[str, Any]) -> None:
    assert f"URL:      {demo['url']}/" in demo["banner"]
    assert f"user:     {demo['username']}" in demo["banner"]
    assert f"password: {demo['password']}" in demo["banner"]


def test_beerpi_entities_through_rest_api(demo: dict[str, Any]) -> None:
    deadline = time.monotonic() + 30
    while True:  # the first readings may still be on their way
        current = states(demo)
        temperatures = [current.get(f"sensor.beerpi_{p}_temperature") for p in ("beer", "fridge")]
        if all(
            t is not None and t["state"] not in ("unknown", "unavailable") for t in temperatures
        ):
            break
        assert time.monotonic() < deadline, temperatures
        time.sleep(0.5)
    for temperature in temperatures:
        assert temperature is not None
        assert 0 < float(temperature["state"]) < 50
        assert temperature["attributes"]["unit_of_measurement"] == "°C"
        assert temperature["attributes"]["device_class"] == "temperature"
    climate = current["climate.beerpi_thermostat"]
    assert climate["state"] in ("off", "heat", "cool", "heat_cool")
    assert set(climate["attributes"]["hvac_modes"]) == {"off", "heat", "cool", "heat_cool"}
    assert isinstance(climate["attributes"]["current_temperature"], float)
    assert current["binary_sensor.beerpi_heater"]["state"] in ("on", "off")
    assert current["binary_sensor.beerpi_link"]["state"] == "on"
    assert current["binary_sensor.beerpi_problem"]["state"] == "off"


def test_entry_set_up_through_the_config_flow(demo: dict[str, Any]) -> None:
    entries = get(demo, "/api/config/config_entries/entry?domain=beerpi")
    assert [(e["entry_id"], e["state"]) for e in entries] == [(demo["entry_id"], "loaded")]


def test_onboarding_done_and_offline(demo: dict[str, Any]) -> None:
    onboarding = get(demo, "/api/onboarding")
    assert all(step["done"] for step in onboarding)
    components = set(get(demo, "/api/config")["components"])
    # Nothing that talks to the internet on its own.
    assert not components & {"cloud", "met", "radio_browser", "updater", "homeassistant_alerts"}


def ws_call(demo: dict[str, Any], message: dict[str, Any]) -> Any:
    """One command on Home Assistant's websocket API, as the frontend sends it."""

    async def call() -> Any:
        url = demo["url"].replace("http://", "ws://") + "/api/websocket"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": demo["access_token"]})
            assert (await ws.receive_json())["type"] == "auth_ok"
            await ws.send_json({"id": 1, **message})
            answer: dict[str, Any] = await ws.receive_json()
            assert answer["success"], answer
            return answer["result"]

    # A thread of its own: Playwright's sync API keeps an event loop on this one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, call()).result(timeout=30)


def daemon_thermostat(demo: dict[str, Any]) -> dict[str, Any]:
    """The thermostat as the daemon itself reports it (its own socket.io client)."""
    daemon = demo["daemon"]

    async def call() -> dict[str, Any]:
        client = BeerPiClient(daemon["host"], daemon["port"], daemon["token"])
        await client.connect()
        try:
            return (await client.get_state()).thermostat.to_dict()
        finally:
            await client.disconnect()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, call()).result(timeout=30)


def test_http_config_is_kept_not_on_trial(demo: dict[str, Any]) -> None:
    """An ``http:`` YAML block becomes a trial config that Home Assistant reverts, restarting
    itself, 5 minutes after start unless someone confirms it: the demo has none."""
    config = ws_call(demo, {"type": "http/config"})
    assert config["active_config_type"] == "stable"
    assert config["pending"] is None
    assert config["revert_at"] is None
    assert config["stable"]["server_host"] == ["127.0.0.1"]


def test_no_notifications_or_repairs(demo: dict[str, Any]) -> None:
    """Nothing of the demo's own set-up failed (notifications and repairs are where Home
    Assistant says so in the UI)."""
    assert ws_call(demo, {"type": "persistent_notification/get"}) == []
    assert ws_call(demo, {"type": "repairs/list_issues"})["issues"] == []


def test_blueprints_loaded(demo: dict[str, Any]) -> None:
    listed = ws_call(demo, {"type": "blueprint/list", "domain": "automation"})
    ours = {path: entry for path, entry in listed.items() if path.startswith("beerpi/")}
    assert sorted(ours) == [
        "beerpi/forward_gravity.yaml",
        "beerpi/link_lost.yaml",
        "beerpi/notify_on_fault.yaml",
        "beerpi/profile_finished.yaml",
        "beerpi/temperature_alarm.yaml",
    ]
    assert all("error" not in entry for entry in ours.values()), ours
    # The demo makes an automation of four; forwarding a gravity sensor needs one that is
    # not BeerPi's own (its simulated Tilt already reaches the daemon).
    automations = {e: s for e, s in states(demo).items() if e.startswith("automation.beerpi")}
    assert len(automations) == 4
    assert {state["state"] for state in automations.values()} == {"on"}


def browser_missing() -> str | None:
    if sync_playwright is None:
        return "needs the 'playwright' Python package (dev group: make env)"
    if not CHROMIUM.exists():
        return "needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"
    return None


def log_in(page: Page, demo: dict[str, Any]) -> None:
    page.goto(demo["url"] + "/")
    page.get_by_role("textbox", name="Username").fill(demo["username"])
    page.get_by_role("textbox", name="Password").fill(demo["password"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/home/**")


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_thermostat_from_the_device_page(demo: dict[str, Any]) -> None:
    """Log in, open the BeerPi device page, raise the target on the thermostat's card by
    a tenth: the daemon on the Pi follows."""
    before = daemon_thermostat(demo)["target"]
    target = round(before + 0.1, 1)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.on(
            "response",
            lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 500 else None,
        )
        try:
            log_in(page, demo)
            page.goto(f"{demo['url']}/config/devices/device/{demo['device_id']}")
            page.get_by_text("Controls").wait_for()
            page.get_by_text("Thermostat").first.click()
            control = page.locator("ha-more-info-dialog ha-state-control-climate-temperature")
            control.wait_for()
            # The target's two buttons: minus, then plus. A click moves it by 0.1 °C; the
            # card sends the new target a second after the last click. A state update in
            # that second (the thermostat at work) resets the card's pending value, as
            # it would for a person: click again, as they would.
            plus = control.locator("ha-outlined-icon-button").nth(1)
            deadline = time.monotonic() + 30
            while daemon_thermostat(demo)["target"] == before:
                assert time.monotonic() < deadline, daemon_thermostat(demo)
                plus.click()
                page.wait_for_timeout(2500)
            assert daemon_thermostat(demo)["target"] == target
            # Home Assistant's state follows the daemon's push, and the card shows it.
            while states(demo)["climate.beerpi_thermostat"]["attributes"]["temperature"] != target:
                assert time.monotonic() < deadline, states(demo)["climate.beerpi_thermostat"]
                page.wait_for_timeout(250)
            # The big number (its text is in a shadow root: read the value it renders).
            big_number = control.locator("ha-big-number")
            deadline = time.monotonic() + 10
            while big_number.evaluate("number => number.value") != target:
                assert time.monotonic() < deadline, big_number.evaluate("n => n.value")
                page.wait_for_timeout(250)
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "ha_demo_thermostat.png"))
            browser.close()
    assert errors == []
