"""Temperatures entered in °F through the API reach the daemon (and stay) in °C.

The real service on 127.0.0.1 linked to a real simulated daemon; the daemon's
own answer over its own link is the judge of what was stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.daemon import RunningDaemon, connected
from tests.web.service import API_TOKEN, RunningService, dialled_in

HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
async def linked(tmp_path: Path) -> AsyncIterator[tuple[RunningService, RunningDaemon, str]]:
    async with dialled_in(tmp_path) as link:
        yield link


async def post(service: RunningService, method: str, path: str, body: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(headers=HEADERS) as http,
        http.request(method, service.url + path, json=body) as response,
    ):
        return response.status, await response.json()


async def daemon_thermostat(daemon: RunningDaemon) -> dict[str, Any]:
    async with connected(daemon) as client:
        answer = await client.call("get_state", {})
    thermostat: dict[str, Any] = answer["state"]["thermostat"]
    return thermostat


async def test_a_target_in_fahrenheit_is_stored_in_celsius(
    linked: tuple[RunningService, RunningDaemon, str],
) -> None:
    service, daemon, device = linked
    path = f"/api/devices/{device}/thermostat"
    status, answer = await post(service, "POST", path, {"mode": "heat", "target": 68, "unit": "F"})
    assert status == 200, answer
    assert answer["thermostat"]["target"] == pytest.approx(20.0)
    assert (await daemon_thermostat(daemon))["target"] == pytest.approx(20.0)
    # A value that is not a whole °C: 65 °F is 18.33 °C.
    status, answer = await post(service, "POST", path, {"target": 65, "unit": "F"})
    assert status == 200, answer
    assert (await daemon_thermostat(daemon))["target"] == pytest.approx(18.3333, abs=1e-3)
    # No unit means °C, and "C" says so explicitly.
    for body in ({"target": 19.5}, {"target": 19.5, "unit": "C"}):
        status, answer = await post(service, "POST", path, body)
        assert status == 200, answer
        assert (await daemon_thermostat(daemon))["target"] == pytest.approx(19.5)


async def test_a_profile_in_fahrenheit_runs_in_celsius(
    linked: tuple[RunningService, RunningDaemon, str],
) -> None:
    service, daemon, device = linked
    profile = {
        "name": "ale in °F",
        "unit": "F",
        "steps": [
            {"kind": "hold", "target": 64.4, "hours": 48},
            {"kind": "ramp", "target": 71.6, "hours": 24},
        ],
    }
    status, answer = await post(service, "PUT", f"/api/devices/{device}/profile", profile)
    assert status == 200, answer
    running = (await daemon_thermostat(daemon))["profile"]
    assert [step["target"] for step in running["steps"]] == pytest.approx([18.0, 22.0])
    assert running["name"] == "ale in °F"


@pytest.mark.parametrize("unit", ["K", "f", "celsius", "", None, 1, ["F"]])
async def test_a_bad_unit_is_400_and_changes_nothing(
    linked: tuple[RunningService, RunningDaemon, str], unit: Any
) -> None:
    service, daemon, device = linked
    before = await daemon_thermostat(daemon)
    status, answer = await post(
        service, "POST", f"/api/devices/{device}/thermostat", {"target": 70, "unit": unit}
    )
    assert status == 400, answer
    assert answer["error"] == "invalid_argument"
    assert '"C" or "F"' in answer["message"]
    profile = {"unit": unit, "steps": [{"kind": "hold", "target": 70, "hours": 1}]}
    status, answer = await post(service, "PUT", f"/api/devices/{device}/profile", profile)
    assert (status, answer["error"]) == (400, "invalid_argument")
    after = await daemon_thermostat(daemon)
    assert (after["target"], after["mode"], after.get("profile")) == (
        before["target"],
        before["mode"],
        before.get("profile"),
    )


async def test_a_fahrenheit_target_out_of_range_is_refused_in_celsius_terms(
    linked: tuple[RunningService, RunningDaemon, str],
) -> None:
    """200 °F is 93.3 °C: the daemon's own range check refuses it."""
    service, daemon, device = linked
    before = (await daemon_thermostat(daemon))["target"]
    status, answer = await post(
        service, "POST", f"/api/devices/{device}/thermostat", {"target": 200, "unit": "F"}
    )
    assert status == 400, answer
    assert (await daemon_thermostat(daemon))["target"] == before
