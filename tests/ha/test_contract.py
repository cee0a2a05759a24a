"""Contract: the integration's vendored client against the real daemon, per docs/protocol.md.

Every request and every error code the document lists is either exercised here
against a live simulated daemon or named in UNREACHABLE with the reason.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from pathlib import Path

import aiohttp
import pytest
import socketio

import custom_components.beerpi
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.const import ErrorCode, Event, Request
from custom_components.beerpi.protocol.errors import BeerPiAuthError, BeerPiRequestError
from custom_components.beerpi.protocol.models import MediaInfo, State

from .daemon import ROOT, Daemon

assert custom_components.beerpi

PROTOCOL_MD = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
# Error codes a healthy simulated daemon cannot be made to answer. (``unauthorized``
# and ``protocol_mismatch`` are connect refusals and HTTP answers: see the tests below.)
UNREACHABLE = {
    ErrorCode.CAMERA_UNAVAILABLE: "the simulated camera never fails",
    ErrorCode.INTERNAL_ERROR: "only a daemon bug answers it",
}


def _section(title: str) -> str:
    """The text of one '## title' section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", PROTOCOL_MD, re.M | re.S)
    assert match, f"docs/protocol.md has no '## {title}' section"
    return match.group(1)


def _headings(section: str) -> set[str]:
    return set(re.findall(r"^### `(\w+)`", section, re.M))


def _documented_errors() -> set[str]:
    table = _section("Requests (client → daemon)").split("### Error codes", 1)[1]
    return set(re.findall(r"^\| `(\w+)` \|", table, re.M))


def test_docs_and_constants_agree() -> None:
    assert _headings(_section("Events (daemon → client)")) == {e.value for e in Event}
    assert _headings(_section("Requests (client → daemon)")) == {r.value for r in Request}
    assert _documented_errors() == {c.value for c in ErrorCode}


@pytest.fixture
async def client(daemon: Daemon) -> AsyncGenerator[BeerPiClient]:
    beerpi = BeerPiClient(daemon.host, daemon.port, daemon.token)
    await beerpi.connect()
    yield beerpi
    await beerpi.disconnect()


async def _error(call: object) -> str:
    with pytest.raises(BeerPiRequestError) as err:
        await call  # type: ignore[misc]
    return err.value.code


async def test_connect_gets_device_and_state(client: BeerPiClient) -> None:
    assert client.device is not None
    assert client.device.protocol_version.split(".")[0] == "2"
    assert {p.id for p in client.device.probes} == {"beer", "fridge"}
    assert {r.id for r in client.device.relays} == {"heater", "cooler"}
    assert client.device.camera
    assert client.device.thermostat.probe == "beer"
    assert isinstance(client.state, State)


async def test_wrong_token_is_refused(daemon: Daemon) -> None:
    with pytest.raises(BeerPiAuthError):
        await BeerPiClient(daemon.host, daemon.port, "wrong").connect()


async def test_get_state(client: BeerPiClient) -> None:
    state = await client.get_state()
    assert set(state.probes) == {"beer", "fridge"}
    assert set(state.relays) == {"heater", "cooler"}


async def test_set_relay_and_its_errors(client: BeerPiClient) -> None:
    await client.set_relay("heater", True)
    assert (await client.get_state()).relays["heater"].on
    # Heater and cooler are never on together.
    assert await _error(client.set_relay("cooler", True)) == ErrorCode.INTERLOCK
    await client.set_relay("heater", False)
    # Switching off is always allowed; on again must wait out the minimum off time.
    assert await _error(client.set_relay("heater", True)) == ErrorCode.RELAY_LOCKED_OUT
    assert await _error(client.set_relay("pump", True)) == ErrorCode.UNKNOWN_RELAY
    assert (
        await _error(client.call(Request.SET_RELAY, {"relay": "heater", "on": "yes"}))
        == ErrorCode.INVALID_ARGUMENT
    )
    await client.set_thermostat(mode="heat_cool", target=20)
    assert (
        await _error(client.set_relay("cooler", True)) == ErrorCode.RELAY_UNDER_THERMOSTAT_CONTROL
    )


async def test_set_thermostat_and_profile(client: BeerPiClient) -> None:
    await client.set_thermostat(mode="heat", target=19.5)
    thermostat = (await client.get_state()).thermostat
    assert (thermostat.mode, thermostat.target) == ("heat", 19.5)
    await client.set_thermostat(
        profile={"name": "Ale", "steps": [{"kind": "hold", "target": 18, "days": 2}]}
    )
    profile = (await client.get_state()).thermostat.profile
    assert profile is not None
    assert profile.name == "Ale"
    await client.set_thermostat(clear_profile=True)
    assert (await client.get_state()).thermostat.profile is None
    assert await _error(client.set_thermostat(target=500)) == ErrorCode.INVALID_ARGUMENT
    assert await _error(client.set_thermostat(mode="boil")) == ErrorCode.INVALID_ARGUMENT


async def test_pause_resume_and_skip_a_profile_step(client: BeerPiClient) -> None:
    assert await _error(client.pause_profile()) == ErrorCode.INVALID_ARGUMENT
    await client.set_thermostat(
        profile={
            "name": "Ale",
            "steps": [{"target": 18, "days": 2}, {"target": 4, "days": 1}],
        }
    )
    paused = await client.pause_profile()
    assert paused.profile is not None
    assert paused.profile.paused
    assert await _error(client.pause_profile()) == ErrorCode.INVALID_ARGUMENT
    resumed = await client.resume_profile()
    assert resumed.profile is not None
    assert not resumed.profile.paused
    skipped = await client.skip_step(0)
    assert skipped.profile is not None
    assert (skipped.profile.step, skipped.target) == (1, 4.0)
    assert await _error(client.skip_step(0)) == ErrorCode.INVALID_ARGUMENT
    await client.set_thermostat(clear_profile=True)


async def test_take_photo_and_fetch(client: BeerPiClient) -> None:
    photos: list[MediaInfo] = []
    unsubscribe = client.add_media_listener(photos.append)
    photo = await client.take_photo()
    assert photo.kind == "photo"
    data, content_type = await client.fetch(photo.url)
    assert content_type == "image/jpeg"
    assert data.startswith(b"\xff\xd8")
    assert (await client.get_state()).latest_photo == photo
    # The same file over the socket.io link itself (what a service behind NAT uses).
    assert await client.get_media(photo.id) == (data, "image/jpeg")
    assert await _error(client.get_media("photo-none")) == ErrorCode.UNKNOWN_MEDIA
    unsubscribe()


async def test_record_video_and_busy(client: BeerPiClient) -> None:
    video = await client.record_video(2)
    assert video.kind == "video"
    assert await _error(client.take_photo()) == ErrorCode.BUSY
    assert await _error(client.record_video(0)) in {ErrorCode.INVALID_ARGUMENT, ErrorCode.BUSY}


async def test_readings_since(client: BeerPiClient) -> None:
    page = await client.readings_since(None, limit=10)
    assert len(page.readings) <= 10
    assert (
        await _error(client.call(Request.READINGS_SINCE, {"cursor": None, "limit": 0}))
        == ErrorCode.INVALID_ARGUMENT
    )


async def test_simulate_and_its_errors(client: BeerPiClient) -> None:
    await client.simulate(ambient=25.0)
    await client.simulate(probe="beer", fault="crc")
    await client.simulate(probe="beer", clear=True)
    assert await _error(client.simulate(probe="mash", fault="crc")) == ErrorCode.UNKNOWN_PROBE
    assert await _error(client.simulate(probe="beer", fault="melted")) == (
        ErrorCode.INVALID_ARGUMENT
    )


async def test_unknown_request(client: BeerPiClient) -> None:
    assert await _error(client.call("brew_coffee")) == ErrorCode.UNKNOWN_REQUEST


async def test_rate_limited(client: BeerPiClient) -> None:
    codes: set[str] = set()
    # Bounded: the daemon allows a burst of about 20 control requests.
    for _ in range(60):
        try:
            await client.set_relay("heater", False)
        except BeerPiRequestError as err:
            codes.add(err.code)
            break
    assert codes == {ErrorCode.RATE_LIMITED}


async def test_http_needs_a_signed_url(daemon: Daemon, client: BeerPiClient) -> None:
    base = f"http://{daemon.host}:{daemon.port}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/health") as health:
            assert health.status == 200
            assert (await health.json())["status"] in {"ok", "fault"}
        headers = {"Authorization": f"Bearer {daemon.token}"}
        for extra in ({}, headers):
            async with session.get(f"{base}/api/state", headers=extra) as refused:
                assert refused.status == 401
                assert (await refused.json())["error"] == ErrorCode.UNAUTHORIZED
        async with session.get(base + await client.sign_url("/api/state")) as state:
            assert state.status == 200
    assert await _error(client.sign_url("/health")) == ErrorCode.INVALID_ARGUMENT


async def test_protocol_1_connect_is_told_to_upgrade(daemon: Daemon) -> None:
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    refusals: list[object] = []
    sio.on("connect_error", refusals.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(
            f"http://{daemon.host}:{daemon.port}",
            auth={"token": daemon.token},
            transports=["websocket"],
        )
    await sio.shutdown()
    assert len(refusals) == 1
    refusal = refusals[0]
    assert isinstance(refusal, dict)
    assert refusal["message"].startswith("protocol 2 required")
    assert refusal["data"]["error"] == ErrorCode.PROTOCOL_MISMATCH


def test_every_documented_error_is_covered() -> None:
    """Each code is asserted on above (== or in), or named unreachable with a reason."""
    source = Path(__file__).read_text(encoding="utf-8")
    asserted = set(re.findall(r"(?:==|in)\s*[({]*\s*ErrorCode\.(\w+)", source))
    unreachable = {code.name for code in UNREACHABLE}
    assert asserted | unreachable == {code.name for code in ErrorCode}
    assert not asserted & unreachable
