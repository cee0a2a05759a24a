"""A video recorded through the service: listed once ready, served as MP4 that decodes.

Real simulated daemons (dial-in over HTTP, dial-out over the socket.io link)
and the real service on 127.0.0.1; the simulation runs in real time here so the
recording takes a noticeable moment.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest

from tests.support.daemon import running_daemon, sim_config
from tests.web.service import (
    API_TOKEN,
    DEVICE_TOKEN,
    RunningService,
    dialled_in,
    running_service,
    wait_until,
    web_config,
)

SECONDS = 1.5
HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}


async def media_list(http: aiohttp.ClientSession, service: RunningService, device: str) -> Any:
    query = {"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
    async with http.get(f"{service.url}/api/devices/{device}/media", params=query) as response:
        assert response.status == 200
        return await response.json()


async def video_reaches_the_service(service: RunningService, device: str) -> None:
    async with aiohttp.ClientSession(headers=HEADERS) as http:
        url = f"{service.url}/api/devices/{device}/video"
        async with http.post(url, json={"seconds": SECONDS}) as response:
            assert response.status == 200
            answer = await response.json()
        assert (answer["kind"], answer["ready"], answer["content_type"]) == (
            "video",
            False,
            "video/mp4",
        )
        # Still recording: not listed yet, so no page offers a file that is not there.
        assert answer["id"] not in [m["id"] for m in await media_list(http, service, device)]

        async def listed() -> Any:
            found = [m for m in await media_list(http, service, device) if m["id"] == answer["id"]]
            return found[0] if found else None

        video = await wait_until(listed, timeout_s=20)
        assert video["content_type"] == "video/mp4"
        assert video["size"] > 0
        async with http.get(service.url + video["url"]) as response:
            assert response.status == 200
            assert response.content_type == "video/mp4"
            data = await response.read()
        assert len(data) == video["size"]
        # Browsers fetch video in ranges (seeking, the index at either end).
        async with http.get(service.url + video["url"], headers={"Range": "bytes=0-99"}) as ranged:
            assert ranged.status == 206
            assert await ranged.read() == data[:100]
    with av.open(io.BytesIO(data)) as container:
        (stream,) = container.streams.video
        assert stream.codec_context.name == "h264"
        assert container.duration is not None
        assert container.duration / 1_000_000 == pytest.approx(SECONDS, abs=0.3)
        assert sum(1 for _ in container.decode(stream)) >= 4


@contextlib.asynccontextmanager
async def dial_in(tmp_path: Path) -> AsyncIterator[tuple[RunningService, str]]:
    async with dialled_in(tmp_path) as (service, _, device):
        yield service, device


@contextlib.asynccontextmanager
async def dial_out(tmp_path: Path) -> AsyncIterator[tuple[RunningService, str]]:
    device = "dialout-video"
    config = web_config(tmp_path / "web", api_token=API_TOKEN, device_tokens={device: DEVICE_TOKEN})
    async with running_service(config) as service:
        daemon_config = sim_config(
            tmp_path / "daemon",
            **{"device.id": device, "dialout.server": service.url, "dialout.token": DEVICE_TOKEN},
        )
        async with running_daemon(daemon_config):
            await wait_until(lambda: service.hub.find(device) and service.hub.find(device).online)
            yield service, device


@pytest.mark.parametrize("link", [dial_in, dial_out], ids=["dial-in", "dial-out"])
async def test_recorded_video_is_served_as_mp4_once_ready(tmp_path: Path, link: Any) -> None:
    async with link(tmp_path) as (service, device):
        await video_reaches_the_service(service, device)
