"""Real simulated daemons linked to the real service on 127.0.0.1, both directions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from beerpi_protocol import FaultCode
from beerpi_protocol.errors import BeerPiRequestError
from tests.support.daemon import free_port, running_daemon, sim_config
from tests.web.service import (
    API_TOKEN,
    DEVICE_TOKEN,
    RunningService,
    dial_in_config,
    live_client,
    running_service,
    wait_until,
    web_config,
)
from web_extras.cli import parse

FAST = {"storage.record_interval_s": 0.3}


async def relay_switch_reaches_browser(service: RunningService, device: str) -> None:
    """A command through the API switches the daemon's relay; /live sees the new state."""
    auth = {"token": API_TOKEN}
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with (
        live_client(service.url, auth=auth) as (_sio, received),
        aiohttp.ClientSession(headers=headers) as http,
    ):
        await wait_until(lambda: any(e == "devices" for e, _ in received))
        devices = next(d for e, d in received if e == "devices")
        assert [d["id"] for d in devices] == [device]
        assert devices[0]["online"] is True
        url = f"{service.url}/api/devices/{device}"
        async with http.post(url + "/thermostat", json={"mode": "heat_cool"}) as response:
            assert response.status == 200
        # The thermostat drives the heater now: a clear 409 with the daemon's code.
        async with http.post(url + "/relays/heater", json={"on": True}) as response:
            body = await response.json()
            assert (response.status, body["error"]) == (409, "relay_under_thermostat_control")
        async with http.post(url + "/relays/nope", json={"on": True}) as response:
            assert (response.status, (await response.json())["error"]) == (404, "unknown_relay")
        async with http.post(url + "/thermostat", json={"target": 99}) as response:
            assert (response.status, (await response.json())["error"]) == (400, "invalid_argument")
        async with http.post(url + "/thermostat", json={"mode": "off"}) as response:
            assert response.status == 200
        async with http.post(url + "/relays/heater", json={"on": True}) as response:
            assert (response.status, await response.json()) == (
                200,
                {"relay": "heater", "on": True},
            )
        # Heater and cooler are never on together: the daemon's interlock is a 409.
        async with http.post(url + "/relays/cooler", json={"on": True}) as response:
            assert (response.status, (await response.json())["error"]) == (409, "interlock")

        def heater_on_pushed() -> bool:
            return any(
                e == "state" and d["device"] == device and d["state"]["relays"]["heater"]["on"]
                for e, d in received
            )

        await wait_until(heater_on_pushed)
        await wait_until(lambda: any(e == "readings" for e, _ in received))
        await wait_until(
            lambda: any(
                e == "event" and d["event"]["kind"] == "relay" and d["event"]["data"]["on"]
                for e, d in received
            )
        )
        async with http.get(url) as response:
            record = await response.json()
        assert record["state"]["relays"]["heater"]["on"] is True
        async with http.get(url + "/events") as response:
            kinds = {e["kind"] for e in await response.json()}
        assert {"connected", "mode", "relay"} <= kinds


async def photo_reaches_the_service(service: RunningService, device: str) -> None:
    """A photo taken through the service; its file is fetched once, then cached."""
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{service.url}/api/devices/{device}/photo") as response:
            photo = await response.json()
        for _ in range(2):
            async with http.get(service.url + photo["url"]) as response:
                assert response.status == 200
                assert response.content_type == "image/jpeg"
                data = await response.read()
            assert len(data) == photo["size"]
            assert data[:3] == b"\xff\xd8\xff"
            assert data[-2:] == b"\xff\xd9"


async def test_dial_in(tmp_path: Path) -> None:
    async with running_daemon(sim_config(tmp_path / "daemon", **FAST)) as daemon:
        config = dial_in_config(tmp_path / "web", daemon.port, api_token=API_TOKEN)
        async with running_service(config) as service:
            device = daemon.daemon.device.id
            await wait_until(lambda: service.store.count(device=device))
            await relay_switch_reaches_browser(service, device)
            await photo_reaches_the_service(service, device)
            headers = {"Authorization": f"Bearer {API_TOKEN}"}
            async with (
                aiohttp.ClientSession(headers=headers) as http,
                http.post(f"{service.url}/camera/photo", json={"take": "photo"}) as response,
            ):
                assert response.status == 200
                assert (await response.json())["kind"] == "photo"


@contextlib.asynccontextmanager
async def dialled_out(
    service: RunningService, tmp_path: Path, device: str, **overrides: Any
) -> AsyncIterator[None]:
    """A simulated daemon dialling out to ``service`` with DEVICE_TOKEN, once it is linked."""
    daemon_config = sim_config(
        tmp_path / "daemon",
        **FAST,
        **{"device.id": device, "dialout.server": service.url, "dialout.token": DEVICE_TOKEN},
        **overrides,
    )
    async with running_daemon(daemon_config):
        await wait_until(lambda: service.store.count(device=device))
        record = service.hub.find(device)
        assert record is not None
        assert record.link is not None
        assert record.link.kind == "dial-out"
        yield


async def test_dial_out(tmp_path: Path) -> None:
    device = "dialout-1"
    config = web_config(tmp_path / "web", api_token=API_TOKEN, device_tokens={device: DEVICE_TOKEN})
    async with running_service(config) as service:
        async with dialled_out(service, tmp_path, device):
            await relay_switch_reaches_browser(service, device)
            # Behind NAT there is no HTTP to the Pi: the file comes over the link.
            await photo_reaches_the_service(service, device)
        await wait_until(lambda: not service.hub.find(device).online)


async def test_control_requests_over_dial_out_are_rate_limited_reads_are_not(
    tmp_path: Path,
) -> None:
    """docs/protocol.md: control requests are rate limited (``rate_limited``), on every
    path: a service the Pi dials out to gets the same allowance as a client of its port."""
    device = "dialout-1"
    config = web_config(tmp_path / "web", device_tokens={device: DEVICE_TOKEN})
    async with (
        running_service(config) as service,
        dialled_out(service, tmp_path, device, **{"server.control_rate_per_s": 2}),
    ):
        record = service.hub.find(device)
        assert record is not None
        assert record.link is not None
        codes = []
        for _ in range(20):
            try:
                await record.link.call("set_relay", {"relay": "cooler", "on": False})
                codes.append("ok")
            except BeerPiRequestError as err:
                codes.append(err.code)
        assert codes[0] == "ok"
        assert codes.count("rate_limited") >= 10, codes
        reads = [await record.link.call("get_state", {}) for _ in range(50)]
        assert all(read["ok"] is True for read in reads)
        # No HTTP reaches a Pi behind NAT: sign_url is not a request of this link.
        with pytest.raises(BeerPiRequestError) as caught:
            await record.link.call("sign_url", {"path": "/api/state"})
        assert caught.value.code == "unknown_request"


async def test_dial_out_with_the_token_from_a_device_tokens_file(tmp_path: Path) -> None:
    """`--device-tokens-file`: a TOML file of "ID" = "TOKEN", the secret off the command line."""
    device = "dialout-1"
    tokens = tmp_path / "device-tokens.toml"
    tokens.write_text(f'"{device}" = "{DEVICE_TOKEN}"\n')
    tokens.chmod(0o600)
    config, _ = parse(
        [
            "--port", str(free_port()), "--data-dir", str(tmp_path / "web"),
            "--device-tokens-file", str(tokens),
        ]
    )  # fmt: skip
    assert config.device_tokens == {device: DEVICE_TOKEN}
    async with running_service(config) as service, dialled_out(service, tmp_path, device):
        pass  # dialled_out has checked the link, made with the token read from the file


@pytest.mark.parametrize(
    "auth",
    [{"token": "wrong", "device_id": "dialout-1"}, {"token": DEVICE_TOKEN, "device_id": "x"}, None],
)
async def test_dial_out_version_1_auth_is_told_to_upgrade(tmp_path: Path, auth: Any) -> None:
    config = web_config(tmp_path, device_tokens={"dialout-1": DEVICE_TOKEN})
    async with running_service(config) as service:
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        errors: list[Any] = []
        sio.on("connect_error", lambda data: errors.append(data), namespace="/devices")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(
                service.url, namespaces=["/devices"], auth=auth, transports=["websocket"]
            )
        await sio.shutdown()
        assert len(errors) == 1
        assert errors[0]["message"].startswith("protocol 2 required")
        assert errors[0]["data"] == {"error": "protocol_mismatch", "protocol_version": "2.2"}
        assert service.hub.records() == []


@pytest.mark.parametrize(
    ("device", "token"),
    [("dialout-1", "another-token-0123456789"), ("unknown-device", DEVICE_TOKEN)],
)
async def test_dial_out_without_the_right_token_gets_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, device: str, token: str
) -> None:
    """The service cannot prove the daemon's token: the daemon sends no proof, raises
    its link fault and keeps retrying (issue 13: nothing remote stops the Pi)."""
    config = web_config(tmp_path / "web", device_tokens={"dialout-1": DEVICE_TOKEN})
    async with running_service(config) as service:
        daemon_config = sim_config(
            tmp_path / "daemon",
            **{"device.id": device, "dialout.server": service.url, "dialout.token": token},
        )
        async with running_daemon(daemon_config) as daemon:
            await wait_until(lambda: "refused this device's link" in caplog.text)
            faults = daemon.daemon.state().faults
            assert [f.code for f in faults if f.source == "dialout"] == [FaultCode.LINK]
            assert not daemon.task.done()
        assert "is not trusted" in caplog.text
        assert service.hub.records() == []
        assert "dial-out refused: wrong proof" not in caplog.text  # no proof was sent


async def test_live_needs_credentials(tmp_path: Path) -> None:
    config = web_config(tmp_path, api_token=API_TOKEN)
    async with running_service(config) as service:
        for auth in (None, {"token": "wrong-token"}):
            with pytest.raises(socketio.exceptions.ConnectionError):
                async with live_client(service.url, auth=auth):
                    pass
        async with live_client(service.url, auth={"token": API_TOKEN}) as (_, received):
            await wait_until(lambda: received)
            assert received[0] == ("devices", [])


async def test_live_watch_sends_only_the_watched_devices(tmp_path: Path) -> None:
    """``watch`` narrows state, readings and events to the watched devices (issue 14)."""
    from datetime import UTC, datetime

    from beerpi_protocol.models import State
    from web_extras.store import Event, StoredReading

    config = web_config(tmp_path, api_token=API_TOKEN)
    auth = {"token": API_TOKEN}
    async with (
        running_service(config) as service,
        live_client(service.url, auth=auth) as (watcher, got),
        live_client(service.url, auth=auth) as (_default, got_default),
    ):
        await wait_until(lambda: got and got_default)
        ack = await watcher.call("watch", {"devices": ["dev-a"]}, namespace="/live")
        assert ack == {"ok": True, "devices": ["dev-a"]}

        async def push(device: str, n: int) -> None:
            at = datetime(2026, 11, 25, 18, 0, n, tzinfo=UTC)
            await service.hub.set_state(device, State(timestamp=at.isoformat()))
            await service.hub.readings_added(device, [StoredReading(device, "wort", at, 18.5)])

        def seen(received: list[tuple[str, Any]], event: str, device: str) -> int:
            return sum(1 for e, d in received if e == event and d.get("device") == device)

        # B first: had it been sent, it would arrive before A (one ordered socket).
        await push("dev-b", 1)
        await push("dev-a", 2)
        await service.hub.event_added(Event("dev-b", datetime.now(UTC), "connected"))
        await service.hub.event_added(Event("dev-a", datetime.now(UTC), "connected"))
        await wait_until(lambda: seen(got, "event", "dev-a"))
        assert (seen(got, "state", "dev-a"), seen(got, "readings", "dev-a")) == (1, 1)
        assert (seen(got, "state", "dev-b"), seen(got, "readings", "dev-b")) == (0, 0)
        # Events too: another device's timeline is none of this page's business.
        assert seen(got, "event", "dev-b") == 0
        # A browser that never sent "watch" still gets every device.
        await wait_until(lambda: seen(got_default, "event", "dev-a"))
        assert seen(got_default, "event", "dev-b") == 1
        for device in ("dev-a", "dev-b"):
            assert seen(got_default, "state", device) == seen(got_default, "readings", device) == 1

        # Re-watching replaces the set (the page switched device); "all" gets everything.
        ack = await watcher.call("watch", {"devices": ["dev-b"]}, namespace="/live")
        assert ack == {"ok": True, "devices": ["dev-b"]}
        await push("dev-a", 3)
        await push("dev-b", 4)
        await wait_until(lambda: seen(got, "state", "dev-b") == 1)
        assert seen(got, "state", "dev-a") == 1
        ack = await watcher.call("watch", {"devices": "all"}, namespace="/live")
        assert ack == {"ok": True, "devices": "all"}
        await push("dev-a", 5)
        await wait_until(lambda: seen(got, "state", "dev-a") == 2)
        # Watching nothing: only the broadcasts (device, event) remain.
        ack = await watcher.call("watch", {"devices": []}, namespace="/live")
        assert ack == {"ok": True, "devices": []}
        await push("dev-a", 6)
        await service.hub.event_added(Event("dev-a", datetime.now(UTC), "connected"))
        await wait_until(lambda: seen(got, "event", "dev-a"))
        assert seen(got, "state", "dev-a") == 2


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "dev-a",
        ["dev-a"],
        {},
        {"device": ["dev-a"]},
        {"devices": ["dev-a"], "extra": 1},
        {"devices": "dev-a"},
        {"devices": None},
        {"devices": [1]},
        {"devices": [""]},
        {"devices": ["x" * 129]},
        {"devices": [["dev-a"]]},
        {"devices": [f"dev-{i}" for i in range(51)]},
    ],
)
async def test_live_watch_rejects_bad_requests(tmp_path: Path, payload: Any) -> None:
    config = web_config(tmp_path)
    async with (
        running_service(config) as service,
        live_client(service.url) as (sio, received),
    ):
        answer = await sio.call("watch", payload, namespace="/live")
        assert answer["ok"] is False
        assert answer["error"] == "invalid_argument"
        assert isinstance(answer["message"], str)
        assert answer["message"]
        # Still connected and able to watch: 50 ids at most (duplicates count, then merge).
        ids = [f"d{i}" for i in range(49)] + ["d0"]
        ok = await sio.call("watch", {"devices": ids}, namespace="/live")
        assert ok == {"ok": True, "devices": ids[:49]}
        assert sio.connected
        assert received[0][0] == "devices"
