"""Nobody in without the token, no token in logs, and the abuse limits hold (issue 8)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest
import socketio

from beerpi_protocol.const import MAX_PAYLOAD_BYTES
from tests.reliability.helpers import raw_client
from tests.support.daemon import TOKEN, running_daemon, sim_config

API_PATHS = ("/api/device", "/api/state", "/api/media/latest/photo", "/api/media/nope")


async def refused_with(port: int, auth: object) -> tuple[object, list[str]]:
    """Try to connect; return the connect_error data and every event that arrived."""
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    events: list[str] = []
    error: list[object] = []
    sio.on("connect_error", error.append)
    sio.on("*", lambda event, *_: events.append(event))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(
            f"http://127.0.0.1:{port}",
            auth=auth,  # type: ignore[arg-type]
            transports=["websocket"],
            wait_timeout=5,
        )
    await asyncio.sleep(0.2)  # an event sent despite the refusal would land by now
    await sio.shutdown()
    assert error, "no connect_error"
    return error[0], events


@pytest.mark.parametrize(
    "auth",
    [
        None,
        {},
        {"token": None},
        {"token": ""},
        {"token": "wrong"},
        {"token": TOKEN + "x"},
        {"token": TOKEN[:-1]},
        {"token": 12345},
        {"token": [TOKEN]},
        {"token": {"token": TOKEN}},
        {"Token": TOKEN},
        [TOKEN],
        TOKEN,
    ],
    ids=repr,
)
async def test_socketio_refuses_every_wrong_credential(tmp_path: Path, auth: object) -> None:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        error, events = await refused_with(running.port, auth)
        assert error == {"message": "unauthorized"}
        assert events == []  # no device, no state
        assert running.daemon.hardware.relays["heater"].is_on is False


async def test_http_api_needs_the_bearer_token(tmp_path: Path) -> None:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        bad_headers: list[dict[str, str]] = [
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": TOKEN},
            {"Authorization": "Bearer"},
            {"X-Token": TOKEN},
        ]
        async with aiohttp.ClientSession() as session:
            for path in API_PATHS:
                for headers in bad_headers:
                    async with session.get(running.url + path, headers=headers) as response:
                        body = await response.text()
                        assert response.status == 401, (path, headers)
                        assert running.daemon.device.id not in body
                        assert response.headers["WWW-Authenticate"].startswith("Bearer")
                good = {"Authorization": f"Bearer {TOKEN}"}
                async with session.get(running.url + path, headers=good) as response:
                    # With the token: the answer, or 404 for media that does not exist.
                    assert response.status in (200, 404), path
            async with session.get(running.url + "/api/state", headers=good) as response:
                assert "relays" in await response.json()


async def test_health_holds_no_secret(tmp_path: Path) -> None:
    async with (
        running_daemon(sim_config(tmp_path / "data")) as running,
        aiohttp.ClientSession() as session,
        session.get(running.url + "/health") as response,
    ):
        assert response.status == 200
        text = await response.text()
        body = await response.json()
    assert set(body) == {"status", "version", "protocol_version", "uptime_s", "faults"}
    assert TOKEN not in text
    assert running.daemon.device.id not in text
    assert str(tmp_path) not in text


async def test_the_token_is_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        for auth in ({"token": TOKEN + "x"}, {"token": TOKEN[:8]}, {"token": 7}):
            await refused_with(running.port, auth)
        sio = await raw_client(running.port)
        await sio.call("set_relay", {"relay": "heater", "on": True, "token": TOKEN})
        await sio.call("no_such_request", {"token": TOKEN})
        await sio.shutdown()
        async with aiohttp.ClientSession() as session:
            for header in (f"Bearer {TOKEN}x", f"Bearer {TOKEN}"):
                async with session.get(
                    running.url + "/api/state", headers={"Authorization": header}
                ):
                    pass
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records
    )
    assert "refused a client" in logged  # the refusals were logged ...
    assert TOKEN[:8] not in logged  # ... without any piece of the token
    assert len(caplog.records) >= 4


async def connect_error_of(port: int) -> object:
    error, _ = await refused_with(port, {"token": TOKEN})
    return error


async def test_connection_limit_refuses_the_next_client_with_busy(tmp_path: Path) -> None:
    config = sim_config(tmp_path / "data", **{"server.max_clients": 2})
    async with running_daemon(config) as running:
        first = await raw_client(running.port)
        second = await raw_client(running.port)
        assert await connect_error_of(running.port) == {"message": "busy"}
        # The clients inside are still served.
        assert (await second.call("get_state", {}, timeout=5))["ok"] is True
        await first.shutdown()
        # A freed slot is taken again (once the daemon has seen the first one go).
        third = None
        for _ in range(50):
            try:
                third = await raw_client(running.port)
                break
            except socketio.exceptions.ConnectionError:
                await asyncio.sleep(0.05)
        assert third is not None, "the freed slot was not given to a new client"
        assert (await third.call("get_state", {}, timeout=5))["ok"] is True
        await second.shutdown()
        await third.shutdown()


async def test_oversized_payload_drops_only_that_client(tmp_path: Path) -> None:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        bystander = await raw_client(running.port)
        abuser = await raw_client(running.port)
        dropped = asyncio.Event()
        abuser.on("disconnect", lambda *_: dropped.set())
        huge = {"relay": "heater", "on": True, "pad": "x" * (MAX_PAYLOAD_BYTES + 1024)}
        with pytest.raises(socketio.exceptions.TimeoutError):
            await abuser.call("set_relay", huge, timeout=3)
        await asyncio.wait_for(dropped.wait(), 10)
        # The oversized command did nothing; everyone else is still served.
        assert running.daemon.hardware.relays["heater"].is_on is False
        answer = await bystander.call("set_relay", {"relay": "heater", "on": True}, timeout=5)
        assert answer == {"ok": True, "relay": "heater", "on": True}
        assert not running.task.done()
        await bystander.shutdown()
        await abuser.shutdown()


async def test_control_requests_are_rate_limited_reads_are_not(tmp_path: Path) -> None:
    config = sim_config(tmp_path / "data", **{"server.control_rate_per_s": 2})
    async with running_daemon(config) as running:
        sio = await raw_client(running.port)
        other = await raw_client(running.port)
        answers = [
            await sio.call("set_relay", {"relay": "cooler", "on": False}, timeout=5)
            for _ in range(20)
        ]
        limited = [a for a in answers if a.get("error") == "rate_limited"]
        # A burst of 5 passes, then about two a second.
        assert answers[0]["ok"] is True
        assert len(limited) >= 10, answers
        assert all(a["message"] for a in limited)
        reads = [await sio.call("get_state", {}, timeout=5) for _ in range(100)]
        assert all(r["ok"] for r in reads)
        # Limits are per client: another client still gets through.
        answer = await other.call("set_relay", {"relay": "cooler", "on": False}, timeout=5)
        assert answer["ok"] is True
        # And the limited client recovers once it slows down.
        await asyncio.sleep(1.1)
        answer = await sio.call("set_relay", {"relay": "heater", "on": True}, timeout=5)
        assert answer["ok"] is True
        await sio.shutdown()
        await other.shutdown()
