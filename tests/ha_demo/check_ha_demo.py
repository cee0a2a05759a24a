"""make ha-demo end to end: a real Home Assistant and daemon, read through the REST API."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HA_PYTHON = ROOT / ".venv-ha" / "bin" / "python"
START_TIMEOUT_S = 150.0

sys.path.insert(0, str(ROOT / "scripts"))
from ha_demo import free_port  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`scripts/ha_demo.py` as `make ha-demo` runs it, on free ports; SIGINT (Ctrl-C) after."""
    tmp = tmp_path_factory.mktemp("ha-demo")
    info_file = tmp / "info.json"
    config_dir = tmp / "config"
    command = [str(HA_PYTHON), "scripts/ha_demo.py", "--ha-port", str(free_port())]
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
    rest = proc.communicate(timeout=60)[0]
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
    climate = current["climate.beerpi"]
    assert climate["state"] in ("off", "heat", "cool", "heat_cool")
    assert set(climate["attributes"]["hvac_modes"]) == {"off", "heat", "cool", "heat_cool"}
    assert isinstance(climate["attributes"]["current_temperature"], float)
    assert current["switch.beerpi_heater"]["state"] in ("on", "off")
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
