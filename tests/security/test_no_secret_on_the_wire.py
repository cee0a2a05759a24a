"""Issue 14, "no secret on the wire": what crosses it holds nothing to steal or replay.

- An impostor on loopback records every byte each BeerPi client sends it (the
  Python client as Home Assistant and the web service use it, the web service's
  dial-in link, a daemon dialling out): the token is not there, and nothing but
  the connect packet with a nonce is (no proof, no request, no HTTP header).
- A relay between the real client and the real daemon sees a whole session:
  no token in either direction, proofs that differ per connection, and nothing
  it recorded gets it in again or changes what the daemon does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import socketio

from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.errors import BeerPiAuthError, BeerPiConnectionError
from tests.support.daemon import TOKEN, RunningDaemon, running_daemon, sim_config
from tests.support.impostor import Impostor
from tests.support.relay import Relay
from tests.web.service import dial_in_config, running_service, wait_until

DEVICE = "beerpi-real-0001"
Relayed = tuple[Relay, RunningDaemon]


@pytest.fixture
async def impostor() -> AsyncIterator[Impostor]:
    fake = Impostor(DEVICE)
    await fake.start()
    yield fake
    await fake.stop()


def assert_nothing_to_steal(impostor: Impostor, *, dial_out: bool = False) -> None:
    everything = "\n".join(impostor.captured)
    assert impostor.captured, "the client never reached the impostor"
    assert TOKEN not in everything
    assert "Bearer" not in everything
    # Only a connect with a nonce (and, dialling out, the device's own id): no proof,
    # no request, no answer to the challenge.
    assert not impostor.sent_anything_but_connect(), impostor.socketio_packets()
    expected = {"protocol", "nonce", "device_id"} if dial_out else {"protocol", "nonce"}
    for auth in impostor.connect_auths():
        assert isinstance(auth, dict)
        assert set(auth) == expected


async def test_the_client_sends_an_impostor_nothing(impostor: Impostor) -> None:
    client = BeerPiClient(impostor.host, impostor.port, TOKEN, device_id=DEVICE)
    with pytest.raises(BeerPiAuthError):
        await client.connect()
    assert client.connected is False
    assert_nothing_to_steal(impostor)


async def test_a_first_time_client_sends_an_impostor_nothing(impostor: Impostor) -> None:
    """Without an expected id (a new config entry) the proof still comes first."""
    with pytest.raises(BeerPiAuthError):
        await BeerPiClient(impostor.host, impostor.port, TOKEN).connect()
    assert_nothing_to_steal(impostor)


async def test_the_web_service_dialling_in_sends_an_impostor_nothing(
    tmp_path: Path, impostor: Impostor
) -> None:
    config = dial_in_config(tmp_path, impostor.port)
    async with running_service(config) as service:
        await wait_until(lambda: impostor.connect_auths())
        await asyncio.sleep(0.5)  # anything it would send after the challenge lands by now
        assert service.hub.find(DEVICE) is None
        assert service.hub.records() == []
    assert_nothing_to_steal(impostor)


async def test_a_daemon_dialling_out_sends_an_impostor_service_nothing(
    tmp_path: Path, impostor: Impostor, caplog: pytest.LogCaptureFixture
) -> None:
    config = sim_config(
        tmp_path / "daemon",
        **{"device.id": DEVICE, "dialout.server": impostor.url, "dialout.token": TOKEN},
    )
    async with running_daemon(config):
        await wait_until(lambda: "is not trusted" in caplog.text)
    assert_nothing_to_steal(impostor, dial_out=True)


@pytest.fixture
async def relayed(tmp_path: Path) -> AsyncIterator[Relayed]:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        relay = Relay(running.port)
        await relay.start()
        try:
            yield relay, running
        finally:
            await relay.stop()


def events(frames: list[str]) -> list[str]:
    """Socket.io event names in engine.io frames (``42[...]``, ``42<id>[...]``)."""
    names = []
    for frame in frames:
        if frame.startswith("42"):
            body = frame[2:].lstrip("0123456789")
            names.append(json.loads(body)[0])
    return names


async def test_a_listener_sees_no_token_and_nothing_reusable(
    relayed: Relayed,
) -> None:
    relay, _ = relayed
    proofs = []
    for _ in range(2):
        client = BeerPiClient("127.0.0.1", relay.port, TOKEN)
        await client.connect()
        await client.get_state()
        await client.set_relay("cooler", False)
        await client.disconnect()
        sent = [f for f in relay.to_daemon if '"auth_proof"' in f]
        proofs.append(sent[-1])
    wire = "\n".join(relay.to_daemon + relay.to_client)
    assert TOKEN not in wire
    assert "set_relay" in events(relay.to_daemon)  # it saw the session ...
    assert proofs[0] != proofs[1]  # ... and each connection proves anew


async def test_replaying_a_recorded_session_gets_nothing(
    relayed: Relayed,
) -> None:
    relay, running = relayed
    client = BeerPiClient("127.0.0.1", relay.port, TOKEN)
    await client.connect()
    await client.set_relay("heater", True)
    await client.set_relay("heater", False)
    await client.disconnect()
    recorded_auth = _connect_auths(relay.to_daemon)[0]
    recorded_proof = next(
        json.loads(f[2:].lstrip("0123456789"))[1]
        for f in relay.to_daemon
        if f.startswith("42") and '"auth_proof"' in f
    )
    recorded_on = next(
        json.loads(f[2:].lstrip("0123456789"))[1]
        for f in relay.to_daemon
        if f.startswith("42") and '"set_relay"' in f and "true" in f
    )
    # The recorded connect and proof on a new connection: the daemon's new nonce
    # makes the old proof wrong.
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    challenge: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    sio.on("auth_challenge", challenge.set_result)
    await sio.connect(
        f"http://127.0.0.1:{running.port}",
        auth=recorded_auth,
        transports=["websocket"],
    )
    await asyncio.wait_for(challenge, 5)
    ack = await sio.call("auth_proof", recorded_proof, timeout=5)
    assert ack == {"ok": False, "error": "unauthorized", "message": "wrong proof"}
    await sio.shutdown()
    # The recorded sealed "heater on" inside someone else's authenticated session.
    # Imported here (protocol 2 only) so this module still loads against protocol 1.
    from tests.support.rawlink import raw_link

    link = await raw_link(f"http://127.0.0.1:{running.port}", TOKEN)
    answer = await link.sio.call("set_relay", recorded_on, timeout=5)
    assert (answer["ok"], answer["error"]) == (False, "unauthorized")
    await link.shutdown()
    assert running.daemon.hardware.relays["heater"].is_on is False


def _connect_auths(frames: list[str]) -> list[dict[str, str]]:
    return [json.loads(f[2:]) for f in frames if f.startswith("40{")]


async def test_a_relay_cannot_change_or_inject_commands(
    relayed: Relayed,
) -> None:
    relay, running = relayed
    daemon = running.daemon

    def flip(frame: str) -> str:
        # Turn "heater off" into "heater on" inside the sealed body.
        return frame.replace('\\"on\\":false', '\\"on\\":true')

    client = BeerPiClient("127.0.0.1", relay.port, TOKEN)
    await client.connect()
    relay.tamper_to_daemon = flip
    with pytest.raises(BeerPiConnectionError, match="not sealed"):
        await client.set_relay("heater", False)  # the daemon refused it, unsealed
    assert daemon.hardware.relays["heater"].is_on is False
    relay.tamper_to_daemon = None
    # Its own command on the authenticated link, sealed with a made-up key or not at all.
    for payload in (
        {"relay": "heater", "on": True},
        {"seq": 99, "body": '{"relay":"heater","on":true}', "mac": "00" * 32},
    ):
        await relay.inject("424242" + json.dumps(["set_relay", payload]))
    await asyncio.sleep(0.5)
    assert daemon.hardware.relays["heater"].is_on is False
    # The client's own sealed commands still work through the relay.
    await client.set_relay("heater", True)
    assert daemon.hardware.relays["heater"].is_on is True
    await client.disconnect()


async def test_a_relay_cannot_change_what_the_client_sees(
    relayed: Relayed,
) -> None:
    relay, running = relayed
    client = BeerPiClient("127.0.0.1", relay.port, TOKEN)
    await client.connect()
    seen: list[bool] = []
    # Every state pushed from now on claims the heater is on.
    relay.tamper_to_client = lambda f: f.replace('\\"on\\":false', '\\"on\\":true')
    # A push the relay forwarded before that may still be on its way: listen only
    # once a tampered one has come after it.
    states_before = sum('"state"' in f for f in relay.to_client)
    await wait_until(lambda: sum('"state"' in f for f in relay.to_client) > states_before + 1)
    client.add_state_listener(lambda state: seen.append(state.relays["heater"].on))
    listened_from = sum('"state"' in f for f in relay.to_client)
    await wait_until(lambda: sum('"state"' in f for f in relay.to_client) >= listened_from + 5)
    assert seen == []  # every changed push was dropped
    relay.tamper_to_client = None
    await wait_until(lambda: seen)
    assert set(seen) == {False}
    assert running.daemon.hardware.relays["heater"].is_on is False
    await client.disconnect()
