"""Class 5: exhaustion before authentication (issue 14).

About a thousand idle websockets that never authenticate used to use up the
file descriptors of the daemon and of the web service: new clients timed out,
and failed ``accept()`` calls wrote tens of megabytes of log. Now both servers
cap the connections that have not authenticated, close each one that has not
authenticated within a few seconds, and log failed accepts once a minute.
Bounded: the servers run as processes with only 256 file descriptors
(RLIMIT_NOFILE), and the test opens a few hundred connections at most.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import logging
import re
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import socketio

from beerpi_devtools.harness import Child, daemon_command, ready_line
from beerpi_protocol.auth import Initiator, Role
from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.const import Handshake
from tests.support.daemon import TOKEN, free_port, running_daemon, sim_config
from tests.web.service import running_service, wait_until, web_config

ROOT = Path(__file__).resolve().parents[2]
FD_LIMIT = 256
ATTACKERS = 400  # more than the server has file descriptors
ENGINEIO_WS = "/socket.io/?EIO=4&transport=websocket"
# --token T, --api-token T, ... (the --*-token-file options are fine).
SECRET_OPTION = re.compile(r"--[a-z-]*token(?!s?-file)\b|--password(?!-file)\b")


@contextlib.contextmanager
def low_fd_server(command: list[str], port: int, ready: str, log: Path) -> Iterator[Child]:
    """The server with only FD_LIMIT file descriptors (systemd's default is 1024)."""
    with Child(
        lambda _port: command, log, ready=ready_line(ready), port=port, fd_limit=FD_LIMIT
    ) as child:
        yield child


def log_bytes(server: Child) -> int:
    return len(server.output())


@contextlib.asynccontextmanager
async def idle_websockets(url: str, count: int) -> AsyncIterator[list[object]]:
    """``count`` engine.io websockets that open and then never authenticate."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),  # all at once, not 100 at a time
        timeout=aiohttp.ClientTimeout(total=10),
    )
    opened: list[object] = []

    async def one() -> None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
            opened.append(await session.ws_connect(url.replace("http", "ws") + ENGINEIO_WS))

    try:
        await asyncio.gather(*(one() for _ in range(count)))
        yield opened
    finally:
        for ws in opened:
            with contextlib.suppress(Exception):
                await ws.close()  # type: ignore[attr-defined]
        await session.close()


async def retry(what: str, attempt: object, timeout_s: float = 25.0) -> object:
    deadline = time.monotonic() + timeout_s
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            return await attempt()  # type: ignore[operator]
        except Exception as err:  # the server refuses or times out: try again
            last = err
            await asyncio.sleep(0.5)
    raise AssertionError(f"{what} failed for {timeout_s} s: {last!r}")


def accept_error_lines(server: Child) -> int:
    lines = server.output().splitlines()
    return sum("out of system resource" in line or "cannot accept" in line for line in lines)


async def test_idle_websockets_cannot_exhaust_the_daemon(tmp_path: Path) -> None:
    port = free_port()
    command = daemon_command(port, TOKEN, tmp_path / "daemon")
    with low_fd_server(command, port, "BeerPi daemon ready", tmp_path / "daemon.log") as daemon:
        before = log_bytes(daemon)
        async with idle_websockets(daemon.url, ATTACKERS):

            async def get_state() -> object:
                client = BeerPiClient("127.0.0.1", port, TOKEN, request_timeout=5)
                await asyncio.wait_for(client.connect(), 5)
                try:
                    return await client.call("get_state", {})
                finally:
                    await client.disconnect()

            # While the attacker still holds its sockets, a real client gets in.
            answer = await retry("a client connecting to the daemon", get_state)
            assert "relays" in answer["state"]  # type: ignore[index]
        # The log says what happened without flooding the disk.
        assert log_bytes(daemon) - before < 20_000, daemon.tail(3000)
        assert accept_error_lines(daemon) <= 2


async def test_idle_websockets_cannot_exhaust_the_web_service(tmp_path: Path) -> None:
    port = free_port()
    command = [
        sys.executable, "-m", "web_extras", "--host", "127.0.0.1", "--port", str(port),
        "--data-dir", str(tmp_path / "web"),
    ]  # fmt: skip
    with low_fd_server(command, port, "BeerPi web service on", tmp_path / "web.log") as web:
        before = log_bytes(web)
        async with idle_websockets(web.url, ATTACKERS):

            async def browser_connects() -> object:
                got: list[object] = []
                client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
                client.on("devices", got.append, namespace="/live")
                try:
                    await client.connect(
                        web.url, namespaces=["/live"], transports=["websocket"], wait_timeout=5
                    )
                    for _ in range(50):
                        if got:
                            return got[0]
                        await asyncio.sleep(0.1)
                    raise TimeoutError("no devices push")
                finally:
                    await client.shutdown()

            assert await retry("a browser connecting to /live", browser_connects) == []
        assert log_bytes(web) - before < 20_000, web.tail(3000)
        assert accept_error_lines(web) <= 2


async def _closed_within(url: str, seconds: float) -> bool:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url.replace("http", "ws") + ENGINEIO_WS) as ws,
    ):
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                async for _message in ws:
                    pass
        return ws.closed


async def test_a_connection_that_does_not_authenticate_is_closed_after_the_deadline(
    tmp_path: Path,
) -> None:
    daemon_config = sim_config(tmp_path / "daemon", **{"server.auth_timeout_s": 1.0})
    async with (
        running_daemon(daemon_config) as daemon,
        running_service(web_config(tmp_path / "web", auth_timeout_s=1.0)) as service,
    ):
        for url in (daemon.url, service.url):
            assert await _closed_within(url, 4.0), url


async def _seconds_until_closed(url: str) -> float:
    """How long the server keeps one websocket that never authenticates."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url.replace("http", "ws") + ENGINEIO_WS) as ws,
    ):
        opened = time.monotonic()
        async with asyncio.timeout(15.0):
            async for _message in ws:
                pass
        return time.monotonic() - opened


async def test_by_default_16_and_128_may_wait_unauthenticated_for_5_s(tmp_path: Path) -> None:
    """The README's defaults: 16 such connections on the daemon, 128 on the web service,
    each closed 5 s after it opened (the other tests set their own limits)."""
    async with (
        running_daemon(sim_config(tmp_path / "daemon")) as daemon,
        running_service(web_config(tmp_path / "web")) as service,
    ):
        for url, cap in ((daemon.url, 16), (service.url, 128)):
            async with idle_websockets(url, cap + 4) as opened:
                assert len(opened) == cap, url  # the rest were refused at once
            # The cap is for those waiting: closed ones free their places.
            closed_after_s = await _seconds_until_closed(url)
            assert 4.5 <= closed_after_s <= 6.0, (url, closed_after_s)


async def _challenged_then_closed(url: str, namespace: str, auth: dict[str, str]) -> list[str]:
    """Connect with a protocol 2 hello, take the challenge, never prove; what happened."""
    seen: list[str] = []
    closed = asyncio.Event()
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)

    def challenged(_data: object) -> None:
        seen.append("challenge")

    def disconnected(*_reason: object) -> None:
        seen.append("closed")
        closed.set()

    client.on(Handshake.CHALLENGE.value, challenged, namespace=namespace)
    client.on("disconnect", disconnected, namespace=namespace)
    try:
        await client.connect(url, namespaces=[namespace], transports=["websocket"], auth=auth)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closed.wait(), 6.0)
        return list(seen)  # before our own shutdown adds a "closed"
    finally:
        await client.shutdown()


async def test_a_peer_that_takes_the_challenge_but_never_proves_is_closed(
    tmp_path: Path,
) -> None:
    """Socket.io's connect succeeds before the proof: the deadline must still apply."""
    daemon_config = sim_config(tmp_path / "daemon", **{"server.auth_timeout_s": 1.0})
    web = web_config(
        tmp_path / "web", auth_timeout_s=1.0, device_tokens={"dialout-1": "device-token-0123456789"}
    )
    async with running_daemon(daemon_config) as daemon, running_service(web) as service:
        controller = Initiator(TOKEN, Role.CONTROLLER).connect_auth()
        device = Initiator("device-token-0123456789", Role.DEVICE, "dialout-1").connect_auth()
        for url, namespace, auth in (
            (daemon.url, "/", controller),
            (service.url, "/devices", device),
        ):
            started = time.monotonic()
            seen = await _challenged_then_closed(url, namespace, auth)
            assert seen == ["challenge", "closed"], (url, seen)
            assert time.monotonic() - started < 5.0, url


def test_the_systemd_units_raise_the_fd_limit_and_sandbox_the_services() -> None:
    for name in ("beerpi-daemon.service", "beerpi-web.service"):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str  # type: ignore[assignment,method-assign]
        unit.read(ROOT / "deploy" / name)
        service = unit["Service"]
        assert int(service["LimitNOFILE"]) >= 4096, name
        for setting, value in (
            ("NoNewPrivileges", "yes"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
            ("ProtectKernelTunables", "yes"),
            ("ProtectControlGroups", "yes"),
            ("RestrictSUIDSGID", "yes"),
        ):
            assert service.get(setting) == value, (name, setting)
        assert service.get("ProtectSystem") in ("full", "strict"), name
        assert service.get("CapabilityBoundingSet") == "", name  # no capabilities at all
        # Secrets come from files, never the command line.
        assert not SECRET_OPTION.search(service["ExecStart"]), name
    daemon = (ROOT / "deploy" / "beerpi-daemon.service").read_text()
    # The daemon still reaches GPIO, 1-Wire and the camera.
    assert "SupplementaryGroups=gpio video" in daemon
    assert "\nPrivateDevices=yes" not in daemon


def test_failed_accepts_are_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    """asyncio reports each failed accept() (EMFILE) with a traceback, ~100 times a second."""
    from beerpi_guard.logthrottle import ACCEPT_ERROR, throttle_accept_errors

    loop = asyncio.new_event_loop()
    try:
        throttle_accept_errors(loop, logging.getLogger("beerpi-test"), interval_s=60)
        throttle_accept_errors(loop, logging.getLogger("beerpi-test"), interval_s=60)  # no-op
        error = OSError(24, "Too many open files")
        with caplog.at_level(logging.DEBUG):
            for _ in range(1000):
                loop.call_exception_handler({"message": ACCEPT_ERROR, "exception": error})
            loop.call_exception_handler({"message": "something else"})
    finally:
        loop.close()
    accept_lines = [r for r in caplog.records if "cannot accept" in r.getMessage()]
    assert len(accept_lines) == 1
    assert "Too many open files" in accept_lines[0].getMessage()
    # Everything else still reaches asyncio's own handler.
    assert any("something else" in r.getMessage() for r in caplog.records)


async def test_browsers_on_live_are_capped(tmp_path: Path) -> None:
    async with running_service(web_config(tmp_path / "web", max_browsers=2)) as service:
        clients = []
        try:
            for _ in range(2):
                client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
                await client.connect(service.url, namespaces=["/live"], transports=["websocket"])
                clients.append(client)
            refused = socketio.AsyncClient(reconnection=False, handle_sigint=False)
            errors: list[object] = []
            refused.on("connect_error", errors.append, namespace="/live")
            with pytest.raises(socketio.exceptions.ConnectionError):
                await refused.connect(
                    service.url, namespaces=["/live"], transports=["websocket"], wait_timeout=5
                )
            await refused.shutdown()
            assert errors == [{"message": "busy"}]
        finally:
            for client in clients:
                await client.shutdown()


async def test_a_flood_of_bad_packets_fills_the_daemons_log_once_a_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before any proof of the token, engineio logged a traceback per failed packet."""
    caplog.set_level(logging.WARNING)
    async with (
        running_daemon(sim_config(tmp_path / "data")) as running,
        aiohttp.ClientSession() as http,
        http.ws_connect(f"ws://127.0.0.1:{running.config.server.port}{ENGINEIO_WS}") as ws,
    ):
        await ws.receive()  # engineio's open packet
        for _ in range(100):  # no JSON parser takes a number of 5,000 digits
            await ws.send_str('40{"n":' + "9" * 5000 + "}")
        await wait_until(lambda: any(r.name.startswith("engineio") for r in caplog.records))
        await asyncio.sleep(0.5)  # the rest of them are read meanwhile
    errors = [r for r in caplog.records if r.name.startswith("engineio")]
    assert len(errors) == 1
    assert errors[0].exc_info is not None  # the one line still says what failed
