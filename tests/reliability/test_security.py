"""Nobody in without a proof of the token, no token in logs, and the abuse limits hold."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import aiohttp
import pytest
import socketio

from beerpi_protocol.auth import Initiator, Role, Transcript
from beerpi_protocol.const import MAX_PAYLOAD_BYTES
from tests.reliability.helpers import raw_client
from tests.support.daemon import TOKEN, running_daemon, sim_config

PROTOCOL_MD = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
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


V1_AUTHS: list[object] = [
    None,
    {},
    {"token": None},
    {"token": ""},
    {"token": "wrong"},
    {"token": TOKEN},
    {"token": [TOKEN]},
    {"Token": TOKEN},
    [TOKEN],
    TOKEN,
    {"protocol": "1.0", "nonce": "00" * 32},
    {"protocol": "3.0", "nonce": "00" * 32},
    {"protocol": 2, "nonce": "00" * 32},
]
MALFORMED_V2 = [
    {"protocol": "2.0"},
    {"protocol": "2.0", "nonce": "xyz"},
    {"protocol": "2.0", "nonce": "0" * 63},
    {"protocol": "2.0", "nonce": "AB" * 32},
    {"protocol": "2.0", "nonce": 7},
]


def _auth_id(auth: object) -> str:
    """The auth's repr with the run's random token named, so test ids match across runs."""
    return repr(auth).replace(TOKEN, "TOKEN")


@pytest.mark.parametrize("auth", V1_AUTHS, ids=_auth_id)
async def test_old_or_missing_auth_is_told_protocol_2_is_required(
    tmp_path: Path, auth: object
) -> None:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        error, events = await refused_with(running.port, auth)
        assert isinstance(error, dict)
        assert error["message"].startswith("protocol 2")
        assert error["data"] == {"error": "protocol_mismatch", "protocol_version": "2.2"}
        if isinstance(auth, dict) and auth.get("protocol") == "3.0":
            assert error["message"] == "protocol 2.2 required, the client speaks '3.0'"
        assert events == []  # no challenge, no device, no state
        assert running.daemon.hardware.relays["heater"].is_on is False


@pytest.mark.parametrize("auth", MALFORMED_V2, ids=repr)
async def test_malformed_handshake_is_refused(tmp_path: Path, auth: object) -> None:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        error, events = await refused_with(running.port, auth)
        # docs/protocol.md: the message says unauthorized; data names the code and version.
        assert error == {
            "message": "unauthorized",
            "data": {"error": "unauthorized", "protocol_version": "2.2"},
        }
        assert events == []


async def challenged(port: int) -> tuple[socketio.AsyncClient, Initiator, dict[str, str]]:
    """A client that sent a good connect and got the daemon's challenge, nothing more."""
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    challenge: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    sio.on("auth_challenge", challenge.set_result)
    initiator = Initiator(TOKEN, Role.CONTROLLER)
    await sio.connect(
        f"http://127.0.0.1:{port}", auth=initiator.connect_auth(), transports=["websocket"]
    )
    return sio, initiator, await asyncio.wait_for(challenge, 5)


def wrong_proofs(initiator: Initiator, challenge: dict[str, str]) -> list[object]:
    transcript = Transcript(
        Role.CONTROLLER, challenge["device_id"], initiator.nonce, challenge["nonce"]
    )
    other = Transcript(Role.CONTROLLER, challenge["device_id"], "11" * 32, challenge["nonce"])
    return [
        None,
        {},
        {"proof": None},
        {"proof": ""},
        {"proof": TOKEN},
        {"proof": "00" * 32},
        {"token": TOKEN},
        # The daemon's own proof sent back (reflection).
        {"proof": challenge["proof"]},
        # Right role, wrong token.
        {"proof": transcript.proof(TOKEN + "x", Role.CONTROLLER)},
        # Right token, but the proof of the device role (reflection by computation).
        {"proof": transcript.proof(TOKEN, Role.DEVICE)},
        # Right token, another connection's nonce (a replay).
        {"proof": other.proof(TOKEN, Role.CONTROLLER)},
    ]


async def test_every_wrong_proof_is_refused_and_gets_nothing(tmp_path: Path) -> None:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        probe, initiator, challenge = await challenged(running.port)
        cases = wrong_proofs(initiator, challenge)
        await probe.shutdown()
        for index in range(len(cases)):
            sio, initiator, challenge = await challenged(running.port)
            proof = wrong_proofs(initiator, challenge)[index]
            events: list[str] = []
            gone = asyncio.Event()
            sio.on("*", lambda event, *_, seen=events: seen.append(event))
            sio.on("disconnect", lambda *_, ended=gone: ended.set())
            ack = await sio.call("auth_proof", proof, timeout=5)
            assert ack == {"ok": False, "error": "unauthorized", "message": "wrong proof"}, index
            await asyncio.wait_for(gone.wait(), 5)  # dropped: one try per connection
            assert events == [], index  # no device, no state
            await sio.shutdown()
        assert running.daemon.hardware.relays["heater"].is_on is False


async def test_requests_before_the_proof_are_refused(tmp_path: Path) -> None:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        sio, _initiator, _challenge = await challenged(running.port)
        for payload in ({"relay": "heater", "on": True}, {"token": TOKEN}):
            ack = await sio.call("set_relay", payload, timeout=5)
            assert ack["ok"] is False
            assert ack["error"] == "unauthorized"
        assert running.daemon.hardware.relays["heater"].is_on is False
        await sio.shutdown()


async def test_unsealed_or_replayed_requests_are_refused(tmp_path: Path) -> None:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        link = await raw_client(running.port)
        bare = await link.sio.call("set_relay", {"relay": "heater", "on": True}, timeout=5)
        assert (bare["ok"], bare["error"]) == (False, "unauthorized")
        _, envelope = link.seal.seal("set_relay", {"relay": "heater", "on": False})
        await link.sio.call("set_relay", envelope, timeout=5)
        # The same sealed message again, and one changed in transit.
        replayed = await link.sio.call("set_relay", envelope, timeout=5)
        assert (replayed["ok"], replayed["error"]) == (False, "unauthorized")
        _, forged = link.seal.seal("set_relay", {"relay": "heater", "on": False})
        forged["body"] = forged["body"].replace("false", "true")
        answer = await link.sio.call("set_relay", forged, timeout=5)
        assert (answer["ok"], answer["error"]) == (False, "unauthorized")
        # Sealed for another event name.
        _, moved = link.seal.seal("get_state", {"relay": "heater", "on": True})
        answer = await link.sio.call("set_relay", moved, timeout=5)
        assert (answer["ok"], answer["error"]) == (False, "unauthorized")
        assert running.daemon.hardware.relays["heater"].is_on is False
        # The link still works for what is sealed right.
        assert (await link.call("get_state", {}))["ok"] is True
        await link.shutdown()


async def test_http_api_needs_a_signed_url(tmp_path: Path) -> None:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        link = await raw_client(running.port)
        signed = await link.call("sign_url", {"path": "/api/state"})
        assert signed["ok"] is True
        url = signed["url"]
        other = (await link.call("sign_url", {"path": "/api/device"}))["url"]
        path, _, query = url.partition("?")
        sig = dict(part.split("=", 1) for part in query.split("&"))["sig"]
        bad_requests: list[tuple[str, dict[str, str]]] = [
            ("/api/state", {}),
            ("/api/state", {"Authorization": f"Bearer {TOKEN}"}),
            ("/api/state", {"X-Token": TOKEN}),
            # Another path's signature, a changed signature, a later expiry.
            ("/api/state?" + other.partition("?")[2], {}),
            (url.replace(sig, sig[:-1] + ("0" if sig[-1] != "0" else "1")), {}),
            (url.replace("expires=", "expires=9"), {}),
            ("/api/state?expires=99999999999&sig=" + "0" * 64, {}),
        ]
        async with aiohttp.ClientSession() as session:
            for target, headers in bad_requests:
                async with session.get(running.url + target, headers=headers) as response:
                    body = await response.text()
                    assert response.status == 401, target
                    assert running.daemon.device.id not in body
                    assert "signed URL" in body
            async with session.get(running.url + url) as response:
                assert response.status == 200
                assert "relays" in await response.json()
            for path in API_PATHS:
                signed = (await link.call("sign_url", {"path": path}))["url"]
                async with session.get(running.url + signed) as response:
                    # Signed: the answer, or 404 for media that does not exist.
                    assert response.status in (200, 404), path
        for bad in ({"path": "/health"}, {"path": "/api/state?x=1"}, {"path": 7}, {}):
            answer = await link.call("sign_url", bad)
            assert (answer["ok"], answer["error"]) == (False, "invalid_argument"), bad
        await link.shutdown()


async def test_sign_url_bounds_and_methods(tmp_path: Path) -> None:
    """docs/protocol.md, sign_url: a path under /api/, no query, at most 256 characters;
    good for GET and HEAD of that path for 60 s."""
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        link = await raw_client(running.port)
        longest = "/api/media/" + "a" * (256 - len("/api/media/"))
        answer = await link.call("sign_url", {"path": longest})
        assert answer["ok"] is True
        assert answer["expires_in_s"] == 60.0
        for bad in (longest + "a", "/api/state#x", "/api/state\n", "/apix/state", "api/state"):
            refused = await link.call("sign_url", {"path": bad})
            assert (refused["ok"], refused["error"]) == (False, "invalid_argument"), bad
        url = (await link.call("sign_url", {"path": "/api/state"}))["url"]
        async with aiohttp.ClientSession() as session:
            async with session.head(running.url + url) as response:
                assert response.status == 200
            async with session.post(running.url + url, json={}) as response:
                assert response.status == 405
        await link.shutdown()


async def test_signed_media_paths_answer_as_documented(tmp_path: Path) -> None:
    """docs/protocol.md, HTTP: /api/media/<id> and .../latest/photo|video answer the file
    with its type, or 404 when there is none; a signed URL is for its one path."""
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        link = await raw_client(running.port)

        async def get(path: str) -> tuple[int, str, bytes]:
            url = (await link.call("sign_url", {"path": path}))["url"]
            async with aiohttp.ClientSession() as session, session.get(running.url + url) as got:
                return got.status, got.content_type, await got.read()

        assert (await get("/api/media/latest/photo"))[0] == 404
        assert (await get("/api/media/latest/video"))[0] == 404
        assert (await get("/api/media/latest/thumbnail"))[0] == 404
        assert (await get("/api/media/photo-20261125T175500Z-a1b2c3"))[0] == 404
        photo = await link.call("take_photo", {})
        assert photo["url"] == f"/api/media/{photo['id']}"
        for path in (photo["url"], "/api/media/latest/photo"):
            status, content_type, data = await get(path)
            assert (status, content_type) == (200, "image/jpeg"), path
            assert len(data) == photo["size"]
        assert (await get("/api/media/latest/video"))[0] == 404
        await link.shutdown()


async def test_signed_urls_expire(tmp_path: Path) -> None:
    from pi_daemon.signed_urls import UrlSigner

    now = [1000.0]
    signer = UrlSigner(ttl_s=60, clock=lambda: now[0])
    url = signer.sign("/api/state")
    query = dict(part.split("=", 1) for part in url.partition("?")[2].split("&"))
    assert signer.verify("/api/state", query)
    assert not signer.verify("/api/device", query)
    now[0] += 61
    assert not signer.verify("/api/state", query)
    # Another daemon process (or a restart) has another key.
    assert not UrlSigner(clock=lambda: 1000.0).verify("/api/state", query)


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
        sio, _initiator, _challenge = await challenged(running.port)
        await sio.call("auth_proof", {"proof": TOKEN}, timeout=5)
        await sio.shutdown()
        link = await raw_client(running.port)
        await link.call("set_relay", {"relay": "heater", "on": True, "token": TOKEN})
        await link.call("no_such_request", {"token": TOKEN})
        await link.sio.call("set_relay", {"token": TOKEN}, timeout=5)
        await link.shutdown()
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
    assert "wrong proof" in logged
    assert TOKEN[:8] not in logged  # ... without any piece of the token
    assert len(caplog.records) >= 4


async def connect_error_of(port: int) -> object:
    error, _ = await refused_with(port, Initiator(TOKEN, Role.CONTROLLER).connect_auth())
    return error


async def test_connection_limit_refuses_the_next_client_with_busy(tmp_path: Path) -> None:
    config = sim_config(tmp_path / "data", **{"server.max_clients": 2})
    async with running_daemon(config) as running:
        first = await raw_client(running.port)
        second = await raw_client(running.port)
        assert await connect_error_of(running.port) == {"message": "busy"}
        # The clients inside are still served.
        assert (await second.call("get_state", {}, timeout_s=5))["ok"] is True
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
        assert (await third.call("get_state", {}, timeout_s=5))["ok"] is True
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
            await abuser.call("set_relay", huge, timeout_s=3)
        await asyncio.wait_for(dropped.wait(), 10)
        # The oversized command did nothing; everyone else is still served.
        assert running.daemon.hardware.relays["heater"].is_on is False
        answer = await bystander.call("set_relay", {"relay": "heater", "on": True}, timeout_s=5)
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
            await sio.call("set_relay", {"relay": "cooler", "on": False}, timeout_s=5)
            for _ in range(20)
        ]
        limited = [a for a in answers if a.get("error") == "rate_limited"]
        # A burst of 5 passes, then about two a second.
        assert answers[0]["ok"] is True
        assert len(limited) >= 10, answers
        assert all(a["message"] for a in limited)
        reads = [await sio.call("get_state", {}, timeout_s=5) for _ in range(100)]
        assert all(r["ok"] for r in reads)
        # Limits are per client: another client still gets through.
        answer = await other.call("set_relay", {"relay": "cooler", "on": False}, timeout_s=5)
        assert answer["ok"] is True
        # And the limited client recovers once it slows down.
        await asyncio.sleep(1.1)
        answer = await sio.call("set_relay", {"relay": "heater", "on": True}, timeout_s=5)
        assert answer["ok"] is True
        await sio.shutdown()
        await other.shutdown()


async def _closed_after(reader: asyncio.StreamReader, opened: float) -> tuple[bytes, float]:
    """Everything the daemon sends until it closes the connection, and when it closed it."""
    data = await asyncio.wait_for(reader.read(), 10)
    return data, asyncio.get_running_loop().time() - opened


async def test_an_idle_http_connection_is_closed_a_busy_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/protocol.md, HTTP: an idle connection is closed 30 s after it opened or after its
    last answer (half a request's headers count as none); a WebSocket is not idle. The time
    is shortened here to see it act; the documented one is checked first, for the web
    service's port too."""
    from pi_daemon.server import IDLE_TIMEOUT_S
    from web_extras.app import IDLE_TIMEOUT_S as WEB_IDLE_TIMEOUT_S

    text = " ".join(PROTOCOL_MD.read_text().split())
    found = re.search(r"has sent no request (\d+) s after it opened", text)
    assert found is not None, "docs/protocol.md no longer states when idle HTTP is closed"
    assert float(found[1]) == IDLE_TIMEOUT_S == WEB_IDLE_TIMEOUT_S
    assert "closes its idle connections after the same" in text
    idle_s = 0.5
    monkeypatch.setattr("pi_daemon.app.IDLE_TIMEOUT_S", idle_s)
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        link = await raw_client(running.port)  # socket.io over a WebSocket
        loop = asyncio.get_running_loop()
        opened = loop.time()
        silent, _ = await asyncio.open_connection("127.0.0.1", running.port)
        half, half_writer = await asyncio.open_connection("127.0.0.1", running.port)
        half_writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        kept, kept_writer = await asyncio.open_connection("127.0.0.1", running.port)
        kept_writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for reader in (silent, half):
            data, closed_s = await _closed_after(reader, opened)
            assert data == b""
            assert idle_s * 0.9 <= closed_s < idle_s + 3
        data, closed_s = await _closed_after(kept, opened)
        assert data.startswith(b"HTTP/1.1 200 ")  # answered, kept alive, then closed
        assert idle_s * 0.9 <= closed_s < idle_s + 3
        for writer in (half_writer, kept_writer):
            writer.close()
        # The socket.io link outlived them all.
        assert (await link.call("get_state", {}, timeout_s=5))["ok"] is True
        await link.shutdown()
