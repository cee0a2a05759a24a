"""Two service processes sharing Redis: a command sent through one reaches a daemon on the other."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from beerpi_devtools.harness import RedisServer
from tests.support.daemon import running_daemon, sim_config
from tests.web.service import DEVICE_TOKEN, live_client, service_process, wait_until

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs Debian's redis-server"
)

DEVICE = "scaled-1"


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with RedisServer(tmp_path / "redis") as redis:
        yield redis.redis_url


async def test_command_through_another_process(tmp_path: Path, redis_url: str) -> None:
    common = ["--redis-url", redis_url, "--device-token", f"{DEVICE}={DEVICE_TOKEN}"]
    with (
        service_process("--data-dir", str(tmp_path / "a"), *common) as a,
        service_process("--data-dir", str(tmp_path / "b"), *common) as b,
    ):
        config = sim_config(
            tmp_path / "daemon",
            **{"device.id": DEVICE, "dialout.server": b.url, "dialout.token": DEVICE_TOKEN},
        )
        async with (
            running_daemon(config) as daemon,
            aiohttp.ClientSession() as http,
            live_client(a.url) as (_sio, received),
        ):

            async def listed_on_a() -> bool:
                async with http.get(f"{a.url}/api/devices/{DEVICE}") as response:
                    return response.status == 200 and (await response.json())["online"]

            await wait_until(listed_on_a)
            async with http.get(f"{a.url}/api/devices") as response:
                assert [d["id"] for d in await response.json()] == [DEVICE]
            async with http.post(
                f"{a.url}/api/devices/{DEVICE}/relays/heater", json={"on": True}
            ) as response:
                assert (response.status, await response.json()) == (
                    200,
                    {"relay": "heater", "on": True},
                )
            assert daemon.daemon.state().relays["heater"].on is True
            # B's pushes reach a browser connected to A through Redis.
            await wait_until(
                lambda: any(
                    e == "state" and d["state"]["relays"]["heater"]["on"] for e, d in received
                )
            )
            # A daemon error crosses the processes too.
            async with http.post(
                f"{a.url}/api/devices/{DEVICE}/relays/nope", json={"on": True}
            ) as response:
                assert response.status == 404

        # Daemon gone: A says offline, not a timeout.
        async def offline_on_a() -> bool:
            async with (
                aiohttp.ClientSession() as http2,
                http2.post(
                    f"{a.url}/api/devices/{DEVICE}/relays/heater", json={"on": False}
                ) as response,
            ):
                return response.status in (404, 503)

        await wait_until(offline_on_a)
