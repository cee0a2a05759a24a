"""Issue 14, class 3: impostor daemons. A link reads and writes only its own, proven device.

- A dial-in entry accepts only the device it pins (``device_id`` in the config,
  or the first one that proved itself at that URL): another BeerPi that knows
  the same token, answering at that address, gets no proof, takes over no
  record, and nothing it says is stored.
- A device dialling out cannot claim another id: it must prove the id with
  that id's token, and what its link brings lands only under the proven id.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.support.daemon import TOKEN, running_daemon, sim_config
from tests.web.service import running_service, wait_until, web_config

# Where the web service keeps the device each dial-in entry learned (web_extras/pins.py).
PINS_FILE = "daemon-pins.json"

FAST = {"storage.record_interval_s": 0.2}


def daemon_at(data_dir: Path, device: str, port: int | None = None) -> Any:
    return sim_config(data_dir, port, **FAST, **{"device.id": device})


async def test_a_pinned_entry_refuses_another_device_that_knows_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    async with running_daemon(daemon_at(tmp_path / "other", "brew-b")) as other:
        entry = {"url": f"ws://127.0.0.1:{other.port}", "token": TOKEN, "device_id": "brew-a"}
        async with running_service(web_config(tmp_path / "web", daemons=[entry])) as service:
            await wait_until(lambda: "not retrying" in caplog.text)
            await asyncio.sleep(0.5)  # readings every 0.2 s would have landed by now
            assert service.hub.records() == []
            assert await service.store.count(device="brew-b") == 0
            assert await service.store.count(device="brew-a") == 0
    assert "expected device 'brew-a'" in caplog.text
    # brew-b never saw a proof: it never counted a client as connected.
    assert "client connected from" not in caplog.text


async def test_an_entry_learns_its_device_and_refuses_a_swap(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    web = web_config(tmp_path / "web", daemons=[])
    async with running_daemon(daemon_at(tmp_path / "a", "brew-a")) as first:
        port = first.port
        entry = {"url": f"ws://127.0.0.1:{port}", "token": TOKEN}
        web = web_config(tmp_path / "web", daemons=[entry])
        async with running_service(web) as service:
            await wait_until(lambda: service.store.count(device="brew-a"))
        pins = json.loads((tmp_path / "web" / PINS_FILE).read_text())
        assert pins == {f"ws://127.0.0.1:{port}": "brew-a"}
    # Another BeerPi with the same token now answers at that address (a DHCP change,
    # an SD-card swap, or someone who copied the token).
    async with (
        running_daemon(daemon_at(tmp_path / "b", "brew-b", port)),
        running_service(web) as service,
    ):
        await wait_until(lambda: "not retrying" in caplog.text)
        await asyncio.sleep(0.5)
        record = service.hub.find("brew-a")
        assert record is not None
        assert record.online is False  # the learned device, offline; never brew-b
        assert service.hub.find("brew-b") is None
        assert await service.store.count(device="brew-b") == 0


async def test_two_entries_never_pin_one_device(tmp_path: Path) -> None:
    async with running_daemon(daemon_at(tmp_path / "a", "brew-a")) as daemon:
        entries = [
            {"url": f"ws://127.0.0.1:{daemon.port}", "token": TOKEN, "device_id": "brew-a"},
            {"url": f"ws://localhost:{daemon.port}", "token": TOKEN},
        ]
        async with running_service(web_config(tmp_path / "web", daemons=entries)) as service:
            await wait_until(lambda: service.store.count(device="brew-a"))
            await asyncio.sleep(0.5)
            pins_file = tmp_path / "web" / PINS_FILE
            assert not pins_file.exists() or "localhost" not in pins_file.read_text()
            record = service.hub.find("brew-a")
            assert record is not None
            assert record.link is not None
            assert record.link.config.url == entries[0]["url"]


class DialOut:
    """A device dialling out by hand: the handshake, then whatever it chooses to send."""

    def __init__(self, url: str, device: str, token: str) -> None:
        self.url, self.device, self.token = url, device, token
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.seal: Any = None

    async def connect(self) -> Any:
        # Imported here (protocol 2 only) so this module still loads against protocol 1,
        # where its tests must fail on their assertions, not on an import.
        from beerpi_protocol.auth import Initiator, Role
        from beerpi_protocol.const import Handshake

        challenge: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.sio.on(Handshake.CHALLENGE.value, challenge.set_result, namespace="/devices")
        initiator = Initiator(self.token, Role.DEVICE, self.device)
        await self.sio.connect(
            self.url,
            namespaces=["/devices"],
            auth=initiator.connect_auth(),
            transports=["websocket"],
        )
        proof, self.seal, _ = initiator.respond(await asyncio.wait_for(challenge, 5))
        return await self.sio.call(Handshake.PROOF.value, proof, namespace="/devices", timeout=5)

    async def push(self, event: str, payload: Any, *, sealed: bool = True) -> None:
        assert self.seal is not None
        data = self.seal.seal(event, payload)[1] if sealed else payload
        await self.sio.emit(event, data, namespace="/devices")


def readings(device_probe: str, seq: int) -> dict[str, Any]:
    reading = {
        "seq": seq,
        "probe": device_probe,
        "timestamp": f"2026-11-25T18:00:{seq:02d}.000Z",
        "temperature": 20.0,
    }
    return {"readings": [reading], "cursor": str(seq), "more": False, "gap": False}


async def test_a_dialling_device_cannot_claim_another_id(tmp_path: Path) -> None:
    tokens = {"dev-x": "dev-x-token-0123456789", "dev-y": "dev-y-token-0123456789"}
    async with running_service(web_config(tmp_path, device_tokens=tokens)) as service:
        # It knows only dev-x's token and claims dev-y: the service's proof for dev-y
        # does not check out with dev-x's token, so the device stops there.
        claimant = DialOut(service.url, "dev-y", tokens["dev-x"])
        with pytest.raises(Exception, match="the web service refused this BeerPi's token"):
            await claimant.connect()
        await claimant.sio.shutdown()
        # dev-x, proven, says it is dev-y and pushes readings for a probe.
        device = DialOut(service.url, "dev-x", tokens["dev-x"])
        assert await device.connect() == {"ok": True}
        await device.push("readings", readings("beer", 1))
        await wait_until(lambda: service.store.count(device="dev-x"))
        await device.push("device", {"id": "dev-y", "name": "not me"})
        await wait_until(lambda: not device.sio.connected)  # that link is dropped
        await device.sio.shutdown()
        assert service.hub.find("dev-y") is None
        assert await service.store.count(device="dev-y") == 0


async def test_unsealed_pushes_on_a_proven_link_are_dropped(tmp_path: Path) -> None:
    tokens = {"dev-x": "dev-x-token-0123456789"}
    async with running_service(web_config(tmp_path, device_tokens=tokens)) as service:
        device = DialOut(service.url, "dev-x", tokens["dev-x"])
        assert await device.connect() == {"ok": True}
        await device.push("readings", readings("beer", 1), sealed=False)
        await asyncio.sleep(0.5)
        assert await service.store.count(device="dev-x") == 0
        await device.push("readings", readings("beer", 1))  # the same, sealed
        await wait_until(lambda: service.store.count(device="dev-x"))
        await device.sio.shutdown()
