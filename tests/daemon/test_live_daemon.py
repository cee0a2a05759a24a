"""The real daemon in simulation on 127.0.0.1 against the real protocol client."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from beerpi_protocol import (
    BeerPiAuthError,
    BeerPiConnectionError,
    BeerPiRequestError,
    DeviceInfo,
    FaultCode,
    FaultInfo,
    MediaInfo,
    State,
)
from beerpi_protocol.client import BeerPiClient
from pi_daemon.app import boot_id, run
from pi_daemon.outbox import NewReading
from pi_daemon.service import Hardware
from tests.support.daemon import TOKEN, connected, running_daemon, sim_config, wait_for_state


@pytest.fixture
def config(tmp_path: Path):  # type: ignore[no-untyped-def]
    return sim_config(tmp_path / "data", **{"storage.record_interval_s": 0.2})


async def test_connect_gets_device_then_state(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        device = client.device
        assert device is not None
        assert [p.id for p in device.probes] == ["beer", "fridge"]
        assert [r.id for r in device.relays] == ["heater", "cooler"]
        assert device.camera is True
        assert device.simulated is True
        assert device.protocol_version == "2.2"
        assert device.thermostat.probe == "beer"
        state = client.state
        assert state is not None
        assert set(state.probes) == {"beer", "fridge"}
        assert state.relays["heater"].on is False


MACHINE_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def test_boot_id_is_the_machines_or_none(tmp_path: Path) -> None:
    if MACHINE_BOOT_ID.exists():
        assert boot_id() == MACHINE_BOOT_ID.read_text().strip()
        assert len(boot_id() or "") == 36  # a UUID
    assert boot_id(tmp_path / "no-such-file") is None
    (tmp_path / "boot_id").write_text("  \n")
    assert boot_id(tmp_path / "boot_id") is None
    wire = DeviceInfo(id="x", boot_id="b-1").to_dict()
    assert DeviceInfo.from_dict(wire).boot_id == "b-1"
    assert DeviceInfo.from_dict({**wire, "boot_id": 7}).boot_id is None  # lenient reader


async def test_device_carries_the_machine_boot_id(config) -> None:  # type: ignore[no-untyped-def]
    """The same on every connection of this boot: a history tells reboots from restarts by it."""
    async with running_daemon(config) as running, connected(running) as client:
        assert client.device is not None
        assert client.device.boot_id == boot_id()


async def test_device_id_is_stable_for_a_data_dir(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        first = client.device.id if client.device else None
    async with running_daemon(config) as running, connected(running) as client:
        assert client.device is not None
        assert client.device.id == first


async def test_state_is_pushed_every_read_period(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        seen: list[State] = []
        client.add_state_listener(seen.append)
        await asyncio.sleep(1.05)
        # 0.1 s read period: about ten pushes a second, each with fresh readings.
        assert len(seen) >= 5
        stamps = {s.probes["beer"].timestamp for s in seen}
        assert len(stamps) >= 5


@pytest.mark.parametrize(
    "token", ["wrong", "", TOKEN + "x"], ids=["wrong", "empty", "token-plus-one"]
)
async def test_wrong_or_missing_token_is_refused(config, token: str) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running:
        client = running.client(token=token)
        with pytest.raises(BeerPiAuthError):
            await client.connect()
        assert client.state is None
        assert client.device is None


async def test_heater_switch_is_pushed_and_drives_the_pin(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_relay("heater", True)
        state = await wait_for_state(client, lambda s: s.relays["heater"].on)
        assert state.relays["heater"].controlled_by is None
        assert running.daemon.hardware.relays["heater"].is_on
        await client.set_relay("heater", False)
        await wait_for_state(client, lambda s: not s.relays["heater"].on)
        assert not running.daemon.hardware.relays["heater"].is_on


async def test_cooler_rests_its_minimum_off_time_after_start(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        with pytest.raises(BeerPiRequestError) as refused:
            await client.set_relay("cooler", True)
        assert refused.value.code == "relay_locked_out"
        assert "minimum off time" in refused.value.message
        assert not running.daemon.hardware.relays["cooler"].is_on
        state = await client.get_state()
        assert state.relays["cooler"].locked_for_s > 500


async def test_relays_are_off_after_exit(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_relay("heater", True)
        relays = running.daemon.hardware.relays
        assert relays["heater"].is_on
        fermenter = running.daemon.hardware.simulation.fermenter
        heater_pin = fermenter.pin_factory.pin(config.relays[0].pin)
        assert heater_pin.state
    assert not heater_pin.state


async def test_take_photo_gives_a_real_jpeg(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        pushed: list[MediaInfo] = []
        client.add_media_listener(pushed.append)
        media = await client.take_photo()
        assert media.kind == "photo"
        assert media.content_type == "image/jpeg"
        data, content_type = await client.fetch(media.url)
        assert content_type == "image/jpeg"
        assert data[:3] == b"\xff\xd8\xff"
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG"
            assert image.size[0] >= 320
        state = await wait_for_state(client, lambda s: s.latest_photo is not None)
        assert state.latest_photo.id == media.id
        await asyncio.sleep(0.1)
        assert [m.id for m in pushed] == [media.id]
        latest, _ = await client.fetch("/api/media/latest/photo")
        assert latest == data


async def test_record_video_answers_at_once_then_pushes_the_file(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        ready: asyncio.Future[MediaInfo] = asyncio.get_running_loop().create_future()
        client.add_media_listener(lambda m: ready.done() or ready.set_result(m))
        answer = await client.call("record_video", {"seconds": 0.5})
        assert answer["ready"] is False
        assert answer["kind"] == "video"
        with pytest.raises(BeerPiRequestError) as busy:
            await client.take_photo()
        assert busy.value.code == "busy"
        media = await asyncio.wait_for(ready, 10)
        assert media.id == answer["id"]
        assert media.kind == "video"
        assert media.content_type == "video/mp4"
        data, content_type = await client.fetch(media.url)
        assert content_type == "video/mp4"
        assert data[4:8] == b"ftyp"  # an MP4 file


async def test_simulated_fault_is_pushed_and_recovers(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        faults: list[FaultInfo] = []
        client.add_fault_listener(faults.append)
        await client.simulate(probe="fridge", fault="disconnected")
        state = await wait_for_state(client, lambda s: s.probes["fridge"].fault is not None)
        assert state.probes["fridge"].temperature is None
        assert state.probes["fridge"].fault is FaultCode.DISCONNECTED
        assert any(f.source == "fridge" for f in state.faults)
        await client.simulate(probe="fridge", clear=True)
        await wait_for_state(
            client, lambda s: s.probes["fridge"].temperature is not None, timeout_s=15
        )
        assert [(f.source, f.active) for f in faults][:1] == [("fridge", True)]
        await asyncio.sleep(0.1)
        assert any(f.source == "fridge" and not f.active for f in faults)
        # docs/protocol.md, fault: on a clear, `since` is the time it cleared.
        raised = next(f for f in faults if f.source == "fridge" and f.active)
        cleared = next(f for f in faults if f.source == "fridge" and not f.active)
        assert raised.since is not None
        assert cleared.since is not None
        assert cleared.since > raised.since


async def test_readings_since_pages_every_reading_once(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        await asyncio.sleep(1.5)
        collected = []
        cursor = None
        while True:
            page = await client.readings_since(cursor, limit=3)
            collected.extend(page.readings)
            cursor = page.cursor
            if not page.more:
                break
        seqs = [r.seq for r in collected]
        assert seqs == sorted(seqs)
        assert len(seqs) == len(set(seqs))
        assert seqs[0] == 1
        assert seqs == list(range(1, len(seqs) + 1))
        assert {r.probe for r in collected} == {"beer", "fridge"}
        assert len(collected) >= 6
        again = await client.readings_since(cursor, limit=100)
        assert all(r.seq > seqs[-1] for r in again.readings)


async def test_a_page_of_up_to_5000_readings_reaches_the_client(tmp_path: Path) -> None:
    """docs/protocol.md: ``limit`` is 1..5000. 5000 readings are far over the 64 KiB
    message cap, which the client enforces on every sealed answer: the daemon cuts the
    page where it fits (``more`` true, cursor at its last reading) and the client pages on.
    """
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        now = running.daemon.clock.now()
        batch = [
            NewReading("fridge", now - timedelta(seconds=3000 - i), 19.875) for i in range(3000)
        ]
        await running.daemon.outbox.append(batch, now)
        async with connected(running) as client:
            first = await client.readings_since(None, limit=5000)
            assert 300 < len(first.readings) < 3000
            assert first.more is True
            assert first.cursor == str(first.readings[-1].seq)
            collected, page = list(first.readings), first
            while page.more:
                page = await client.readings_since(page.cursor, limit=5000)
                collected.extend(page.readings)
    seqs = [r.seq for r in collected]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # each once, in order
    assert sum(r.probe == "fridge" and r.temperature == 19.875 for r in collected) >= 3000


async def test_a_video_longer_than_the_daemons_maximum_is_refused(tmp_path: Path) -> None:
    """docs/protocol.md, record_video: 0 < seconds <= the daemon's maximum, 120 by default
    (the protocol's own ceiling, 600, is what a daemon may be configured up to)."""
    async with (
        running_daemon(sim_config(tmp_path / "data")) as running,
        connected(running) as client,
    ):
        with pytest.raises(BeerPiRequestError) as caught:
            await client.call("record_video", {"seconds": 120.5})
        assert caught.value.code == "invalid_argument"
        assert "at most 120" in caught.value.message
        assert running.daemon.media.latest("video") is None
        # Nothing was started: the camera is free for a photo at once.
        assert (await client.call("take_photo", {}))["ok"] is True


async def test_http_health_is_open_and_api_needs_a_signed_url(config) -> None:  # type: ignore[no-untyped-def]
    async with (
        running_daemon(config) as running,
        connected(running) as client,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{running.url}/health") as response:
            assert response.status == 200
            body = await response.text()
        assert TOKEN not in body
        assert json.loads(body)["status"] == "ok"
        async with http.get(f"{running.url}/api/state") as response:
            assert response.status == 401
        async with http.get(
            f"{running.url}/api/state", headers={"Authorization": "Bearer nope"}
        ) as response:
            assert response.status == 401
        # Protocol 2: the token never goes over HTTP, so it opens nothing there either.
        async with http.get(
            f"{running.url}/api/state", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as response:
            assert response.status == 401
        signed = await client.sign_url("/api/state")
        assert TOKEN not in signed
        async with http.get(f"{running.url}{signed}") as response:
            assert response.status == 200
            assert set((await response.json())["probes"]) == {"beer", "fridge"}
        signed = await client.sign_url("/api/media/../../etc/passwd")
        async with http.get(f"{running.url}{signed}") as response:
            assert response.status in (401, 404)


async def test_recorded_readings_are_pushed_with_their_cursor(config) -> None:  # type: ignore[no-untyped-def]
    async with running_daemon(config) as running, connected(running) as client:
        pages = []
        client.add_readings_listener(pages.append)
        await asyncio.sleep(1.0)
        assert len(pages) >= 2
        pushed = [r for page in pages for r in page.readings]
        assert {r.probe for r in pushed} == {"beer", "fridge"}
        assert all(page.cursor == str(page.readings[-1].seq) for page in pages)
        seqs = [r.seq for r in pushed]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        fetched = await client.readings_since(str(seqs[0] - 1), limit=len(seqs))
        assert [r.seq for r in fetched.readings] == seqs


async def test_a_restarted_fast_simulation_carries_on_its_own_time(tmp_path: Path) -> None:
    config = sim_config(
        tmp_path / "data", **{"simulation.speed": 600.0, "storage.record_interval_s": 30.0}
    )
    async with running_daemon(config) as running, connected(running) as client:
        await asyncio.sleep(1.0)
        first = await client.readings_since(None, limit=5000)
    assert first.readings
    async with running_daemon(config) as running, connected(running) as client:
        await asyncio.sleep(0.5)
        second = await client.readings_since(first.cursor, limit=5000)
    assert second.readings
    # 600x ahead of the wall clock: a restart must not stamp readings in its past.
    assert second.readings[0].timestamp > first.readings[-1].timestamp


async def test_nothing_is_served_before_the_safety_rules_have_judged_the_probes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A beer above its cut-off at start-up: the first manual heater on is refused.

    Start-up work after the server opens (a Bluetooth scanner, zeroconf) once left a
    window in which a manual ON was accepted before the first control step."""

    async def slow_scanner(self: Hardware) -> None:
        await asyncio.sleep(2.0)

    monkeypatch.setattr(Hardware, "start_hydrometers", slow_scanner)
    config = sim_config(
        tmp_path / "data", **{"simulation.initial_beer_c": 45.0, "simulation.room_c": 45.0}
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(config, stop=stop))
    try:
        client = None
        async with asyncio.timeout(20):
            while client is None:
                await asyncio.sleep(0.05)
                candidate = BeerPiClient("127.0.0.1", config.server.port, TOKEN)
                try:
                    await candidate.connect()
                except BeerPiConnectionError:
                    await candidate.disconnect()
                    continue
                client = candidate
        try:
            first = client.state
            assert first is not None
            assert "high_cutoff" in [fault.code.value for fault in first.faults if fault.code]
            with pytest.raises(BeerPiRequestError) as refused:
                await client.set_relay("heater", True)
            assert "cut-off" in refused.value.message
            assert client.state is not None
            assert not client.state.relays["heater"].on
        finally:
            await client.disconnect()
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
