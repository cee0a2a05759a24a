"""Class 6: login (issue 14).

There was no rate limit, scrypt ran on the event loop (16 wrong logins at once
stalled control commands for seconds), and logging out or changing the
password left every other session valid (stateless 30-day cookies). The real
service runs in-process (SQLite); clients come from several loopback addresses
(127.0.0.2, 127.0.0.3, ...) to play several machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.web.service import RunningService, running_service, web_config
from web_extras.config import ConfigError

USER, PASSWORD = "brewer", "correct horse battery staple"


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RunningService]:
    (tmp_path / "password").write_text(PASSWORD + "\n")
    config = web_config(tmp_path / "web", user=USER, password_file=str(tmp_path / "password"))
    async with running_service(config) as running:
        yield running


@contextlib.asynccontextmanager
async def browser(address: str = "127.0.0.1") -> AsyncIterator[aiohttp.ClientSession]:
    """One machine: its own address and cookie jar."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        yield session


async def login(
    http: aiohttp.ClientSession, service: RunningService, user: str, password: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = {"username": user, "password": password}
    async with http.post(f"{service.url}/api/login", json=body) as response:
        return response.status, await response.json(), dict(response.headers)


async def authenticated(http: aiohttp.ClientSession, service: RunningService) -> bool:
    async with http.get(f"{service.url}/api/session") as response:
        return bool((await response.json())["authenticated"])


async def test_failed_logins_from_one_address_wait_longer_and_longer(
    service: RunningService,
) -> None:
    async with browser("127.0.0.4") as http:
        for attempt in range(3):  # the first few mistakes cost nothing
            assert (await login(http, service, f"typo{attempt}", "x"))[0] == 401
        assert (await login(http, service, USER, PASSWORD))[0] == 200
    async with browser("127.0.0.2") as http:
        for attempt in range(3):
            assert (await login(http, service, f"guess{attempt}", "x"))[0] == 401
        waits = []
        for attempt in range(3, 6):
            # A new name each time: only the address is the same.
            assert (await login(http, service, f"guess{attempt}", "x"))[0] == 401
            # Even the right password is not checked until the wait is over.
            status, body, headers = await login(http, service, USER, PASSWORD)
            assert (status, body["error"]) == (429, "rate_limited"), attempt
            waits.append(int(headers["Retry-After"]))
            await asyncio.sleep(waits[-1] + 0.1)
        # The wait doubles with every failure.
        assert waits == [1, 2, 4]
        assert (await login(http, service, USER, PASSWORD))[0] == 200
    # Another machine was never slowed down by it.
    async with browser("127.0.0.3") as http:
        assert (await login(http, service, USER, PASSWORD))[0] == 200


async def test_failed_logins_for_one_user_from_many_addresses_slow_that_user(
    service: RunningService,
) -> None:
    for i in range(4):
        async with browser(f"127.0.0.{10 + i}") as http:
            assert (await login(http, service, USER, f"guess {i}"))[0] == 401
    async with browser("127.0.0.20") as http:
        status, body, headers = await login(http, service, USER, PASSWORD)
        assert (status, body["error"]) == (429, "rate_limited")
        assert int(headers["Retry-After"]) >= 1
        # Other names are not affected.
        assert (await login(http, service, "somebody", "x"))[0] == 401


async def test_password_hashing_runs_off_the_event_loop(
    service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scrypt takes ~0.1 s of CPU: on the loop, 16 wrong logins stall every command."""
    loop_thread = threading.current_thread()
    on_loop: list[bool] = []
    real_scrypt = hashlib.scrypt

    def spy(*args: Any, **kwargs: Any) -> bytes:
        on_loop.append(threading.current_thread() is loop_thread)
        return real_scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", spy)

    async def one(i: int) -> int:
        async with browser(f"127.0.1.{i + 1}") as http:
            return (await login(http, service, f"user{i}", "wrong"))[0]

    statuses = await asyncio.gather(*(one(i) for i in range(16)))
    assert statuses == [401] * 16
    assert on_loop, "no password was hashed"
    assert not any(on_loop), f"{sum(on_loop)} of {len(on_loop)} hashes ran on the event loop"


async def test_logout_ends_every_session_of_the_user(service: RunningService) -> None:
    async with browser() as laptop, browser() as phone:
        assert (await login(laptop, service, USER, PASSWORD))[0] == 200
        assert (await login(phone, service, USER, PASSWORD))[0] == 200
        assert await authenticated(phone, service)
        async with laptop.post(f"{service.url}/api/logout", json={}) as response:
            assert response.status == 200
        assert not await authenticated(laptop, service)
        assert not await authenticated(phone, service), "the phone's session outlived logout"
        url = f"{service.url}/api/devices/any/thermostat"
        async with phone.post(url, json={"mode": "off"}) as response:
            assert response.status == 401
        # Logging in again works.
        assert (await login(phone, service, USER, PASSWORD))[0] == 200
        assert await authenticated(phone, service)


async def test_changing_the_password_ends_every_session(
    service: RunningService, tmp_path: Path
) -> None:
    async with browser() as laptop:
        assert (await login(laptop, service, USER, PASSWORD))[0] == 200
        password_file = tmp_path / "password"
        password_file.write_text("a new and better password\n")
        stat = password_file.stat()
        os.utime(password_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        assert not await authenticated(laptop, service), "the session outlived the password"
        assert (await login(laptop, service, USER, PASSWORD))[0] == 401
        assert (await login(laptop, service, USER, "a new and better password"))[0] == 200
        assert await authenticated(laptop, service)


def test_the_wait_grows_to_a_cap_per_address_and_a_shorter_one_per_user() -> None:
    from web_extras.loginlimit import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    keys = throttle.keys("192.0.2.7", USER)
    waits = []
    for _ in range(20):
        throttle.failed(keys)
        waits.append(throttle.wait_s([keys[0]]))
        now[0] += waits[-1] + 1  # try again as soon as allowed
    assert waits[:6] == [0, 0, 0, 1, 2, 4]
    assert max(waits) == 900  # 15 minutes per address
    throttle.failed(keys)
    assert throttle.wait_s([keys[1]]) == 60  # one minute per user name
    throttle.succeeded(keys)
    assert throttle.wait_s(keys) == 0


async def test_the_password_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEERPI_WEB_PASSWORD stands in for --password-file (a secret off the command line)."""
    monkeypatch.setenv("BEERPI_WEB_PASSWORD", "from the environment, not argv")
    config = web_config(tmp_path / "web", user=USER)
    async with running_service(config) as running, browser() as http:
        assert (await login(http, running, USER, PASSWORD))[0] == 401
        assert (await login(http, running, USER, "from the environment, not argv"))[0] == 200
        assert await authenticated(http, running)
    monkeypatch.delenv("BEERPI_WEB_PASSWORD")
    with pytest.raises(ConfigError, match="password_file or BEERPI_WEB_PASSWORD"):
        async with running_service(web_config(tmp_path / "other", user=USER)):
            pass
