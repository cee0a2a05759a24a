"""Pause, resume and skip a profile step through the JSON API, with a real simulated daemon
linked both ways (the service dials in; the daemon dials out). The daemon's state is the judge.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.web.service import API_TOKEN, RunningService
from tests.web.test_video import dial_in, dial_out

HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}
PROFILE = {
    "name": "ale",
    "steps": [{"target": 18, "days": 4}, {"target": 21, "days": 2}, {"target": 2, "days": 2}],
}


async def call(service: RunningService, method: str, path: str, body: Any = None) -> Any:
    async with (
        aiohttp.ClientSession(headers=HEADERS) as http,
        http.request(method, service.url + path, json=body) as response,
    ):
        return response.status, await response.json()


@pytest.mark.parametrize("link", [dial_in, dial_out], ids=["dial-in", "dial-out"])
async def test_pause_resume_and_skip_through_the_api(tmp_path: Any, link: Any) -> None:
    async with link(tmp_path) as (service, device):
        base = f"/api/devices/{device}/profile"
        status, answer = await call(service, "POST", f"{base}/pause")
        assert (status, answer["error"]) == (400, "invalid_argument")
        assert "no profile is running" in answer["message"]
        status, _ = await call(service, "PUT", base, PROFILE)
        assert status == 200

        status, answer = await call(service, "POST", f"{base}/pause")
        assert status == 200, answer
        assert answer["thermostat"]["profile"]["paused"] is True
        assert answer["thermostat"]["profile"]["paused_at"]
        status, answer = await call(service, "POST", f"{base}/pause")
        assert (status, answer["error"]) == (400, "invalid_argument")
        assert "already paused" in answer["message"]

        status, answer = await call(service, "POST", f"{base}/resume")
        assert status == 200, answer
        assert answer["thermostat"]["profile"]["paused"] is False

        status, answer = await call(service, "POST", f"{base}/skip", {"step": 0})
        assert status == 200, answer
        assert answer["thermostat"]["profile"]["step"] == 1
        assert answer["thermostat"]["target"] == 21.0
        # The same click again: step 1 no longer runs, so nothing more is skipped.
        status, answer = await call(service, "POST", f"{base}/skip", {"step": 0})
        assert (status, answer["error"]) == (400, "invalid_argument")
        assert "nothing skipped" in answer["message"]
        # Without a body it skips whatever runs; past the last step the profile is finished.
        status, answer = await call(service, "POST", f"{base}/skip")
        assert status == 200, answer
        status, answer = await call(service, "POST", f"{base}/skip")
        assert status == 200, answer
        assert answer["thermostat"]["profile"]["finished"] is True
        assert answer["thermostat"]["target"] == 2.0
