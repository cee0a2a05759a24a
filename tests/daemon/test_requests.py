"""Every request and every error code of docs/protocol.md, against the live daemon."""

from __future__ import annotations

import asyncio
import base64
import math
from pathlib import Path
from typing import Any

import pytest

from beerpi_protocol import BeerPiRequestError, ThermostatAction, ThermostatMode
from tests.support.daemon import connected, running_daemon, sim_config, wait_for_state


@pytest.fixture
def config(tmp_path: Path):  # type: ignore[no-untyped-def]
    return sim_config(tmp_path / "data")


async def _error(client: Any, request: str, payload: Any) -> BeerPiRequestError:
    with pytest.raises(BeerPiRequestError) as caught:
        await client.call(request, payload)
    assert caught.value.message
    return caught.value


@pytest.mark.parametrize(
    ("request_name", "payload", "code"),
    [
        ("no_such_request", {}, "unknown_request"),
        ("set_relay", {"relay": "heater"}, "invalid_argument"),
        ("set_relay", {"relay": "heater", "on": "yes"}, "invalid_argument"),
        ("set_relay", {"relay": "heater", "on": 1}, "invalid_argument"),
        ("set_relay", {"relay": 5, "on": True}, "invalid_argument"),
        ("set_relay", {"relay": "kettle", "on": True}, "unknown_relay"),
        ("set_relay", [1, 2], "invalid_argument"),
        ("set_relay", "heater", "invalid_argument"),
        ("set_thermostat", {}, "invalid_argument"),
        ("set_thermostat", {"mode": "boil"}, "invalid_argument"),
        ("set_thermostat", {"target": "20"}, "invalid_argument"),
        ("set_thermostat", {"target": math.nan}, "invalid_argument"),
        ("set_thermostat", {"target": math.inf}, "invalid_argument"),
        ("set_thermostat", {"target": 99}, "invalid_argument"),
        ("set_thermostat", {"target": True}, "invalid_argument"),
        ("set_thermostat", {"profile": {"steps": []}}, "invalid_argument"),
        ("set_thermostat", {"profile": "ale"}, "invalid_argument"),
        (
            "set_thermostat",
            {"profile": {"steps": [{"kind": "hold", "target": 18, "hours": -1}]}},
            "invalid_argument",
        ),
        ("record_video", {}, "invalid_argument"),
        ("record_video", {"seconds": 0}, "invalid_argument"),
        ("record_video", {"seconds": 100000}, "invalid_argument"),
        ("readings_since", {"cursor": "not-a-cursor"}, "invalid_argument"),
        ("readings_since", {"cursor": None, "limit": 0}, "invalid_argument"),
        ("readings_since", {"cursor": "99999999"}, "invalid_argument"),
        ("simulate", {}, "invalid_argument"),
        ("simulate", {"probe": "beer", "fault": "melted"}, "invalid_argument"),
        ("simulate", {"probe": "hop", "fault": "crc"}, "unknown_probe"),
        ("simulate", {"ambient": 500}, "invalid_argument"),
        ("simulate", {"relay": "heater"}, "invalid_argument"),
        ("simulate", {"broken": True}, "invalid_argument"),
        ("simulate", {"relay": "heater", "broken": "yes"}, "invalid_argument"),
        ("simulate", {"relay": "heater", "broken": True, "ambient": 20}, "invalid_argument"),
        ("simulate", {"relay": "kettle", "broken": True}, "unknown_relay"),
    ],
)
async def test_bad_requests_get_a_clear_error_and_change_nothing(
    config: Any, request_name: str, payload: Any, code: str
) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        before = await client.get_state()
        error = await _error(client, request_name, payload)
        assert error.code == code
        after = await client.get_state()
        # locked_for_s counts down by itself; what a request could change is on/owner.
        assert {k: (r.on, r.controlled_by) for k, r in after.relays.items()} == {
            k: (r.on, r.controlled_by) for k, r in before.relays.items()
        }
        assert (after.thermostat.mode, after.thermostat.target, after.thermostat.profile) == (
            before.thermostat.mode,
            before.thermostat.target,
            before.thermostat.profile,
        )


async def test_a_request_with_a_bad_field_changes_none_of_the_good_ones(config: Any) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        error = await _error(client, "set_thermostat", {"mode": "heat", "target": 500})
        assert error.code == "invalid_argument"
        state = await client.get_state()
        assert state.thermostat.mode is ThermostatMode.OFF


async def test_unknown_fields_are_ignored(config: Any) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        answer = await client.call("set_relay", {"relay": "heater", "on": True, "colour": "red"})
        assert answer == {"ok": True, "relay": "heater", "on": True}


async def test_thermostat_takes_its_relays_and_refuses_manual_switching(config: Any) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_relay("heater", True)
        await client.set_thermostat(mode="heat_cool", target=19.0)
        state = await wait_for_state(
            client, lambda s: s.relays["heater"].controlled_by == "thermostat"
        )
        assert state.relays["cooler"].controlled_by == "thermostat"
        assert state.thermostat.mode is ThermostatMode.HEAT_COOL
        assert state.thermostat.target == 19.0
        assert state.thermostat.reason
        error = await _error(client, "set_relay", {"relay": "heater", "on": False})
        assert error.code == "relay_under_thermostat_control"
        await client.set_thermostat(mode="off")
        state = await wait_for_state(client, lambda s: s.relays["heater"].controlled_by is None)
        assert state.thermostat.action is ThermostatAction.OFF
        assert not state.relays["heater"].on
        assert not state.relays["cooler"].on
        # By hand again; off is always allowed, on waits out the heater's rest.
        await client.set_relay("heater", False)
        error = await _error(client, "set_relay", {"relay": "heater", "on": True})
        assert error.code == "relay_locked_out"
        assert "minimum off time" in error.message


async def test_thermostat_heats_a_cold_beer(tmp_path: Path) -> None:
    config = sim_config(tmp_path / "data", **{"simulation.initial_beer_c": 14.0})
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="heat", target=20.0)
        state = await wait_for_state(client, lambda s: s.relays["heater"].on)
        assert state.thermostat.action is ThermostatAction.HEATING
        assert not state.relays["cooler"].on


async def test_mode_target_and_profile_survive_a_restart(config: Any) -> None:
    profile = {
        "name": "Ale",
        "steps": [
            {"kind": "hold", "target": 18.0, "days": 5},
            {"kind": "ramp", "target": 21.0, "hours": 24},
        ],
    }
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_thermostat(mode="cool", profile=profile)
        state = await wait_for_state(client, lambda s: s.thermostat.profile is not None)
        assert state.thermostat.profile.name == "Ale"
        assert state.thermostat.profile.step == 0
        assert state.thermostat.target == 18.0
    async with running_daemon(config) as running, connected(running) as client:
        state = await wait_for_state(client, lambda s: s.thermostat.profile is not None)
        assert state.thermostat.mode is ThermostatMode.COOL
        assert state.thermostat.profile.name == "Ale"
        assert state.thermostat.profile.total_time_left_s > 5 * 86400
        await client.set_thermostat(clear_profile=True)
        await client.set_thermostat(target=17.5)
    async with running_daemon(config) as running, connected(running) as client:
        state = await client.get_state()
        assert state.thermostat.profile is None
        assert state.thermostat.target == 17.5


async def test_simulate_is_refused_on_hardware_like_requests(config: Any) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        answer = await client.simulate(ambient=28.0)
        assert answer["ok"] is True
        running.daemon.hardware.simulation = None
        error = await _error(client, "simulate", {"ambient": 20.0})
        assert error.code == "invalid_argument"


async def test_no_camera_answers_camera_unavailable(tmp_path: Path) -> None:
    config = sim_config(tmp_path / "data", **{"camera.enabled": False})
    async with running_daemon(config) as running, connected(running) as client:
        assert client.device is not None
        assert client.device.camera is False
        assert (await _error(client, "take_photo", {})).code == "camera_unavailable"
        assert (await _error(client, "record_video", {"seconds": 2})).code == "camera_unavailable"


async def test_failing_camera_answers_camera_unavailable_and_daemon_lives(config: Any) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        running.daemon.hardware.camera.fail(True)  # type: ignore[union-attr]
        assert (await _error(client, "take_photo", {})).code == "camera_unavailable"
        running.daemon.hardware.camera.fail(False)  # type: ignore[union-attr]
        assert (await client.take_photo()).kind == "photo"


async def test_a_media_folder_that_fails_raises_the_camera_fault(
    config: Any, tmp_path: Path
) -> None:
    """Storage that refuses the capture (and its clean-up) is the camera's fault, told."""
    media = tmp_path / "data" / "media"
    async with running_daemon(config) as running, connected(running) as client:
        faults: list[Any] = []
        raised = asyncio.Event()
        client.add_fault_listener(lambda fault: (faults.append(fault), raised.set()))
        media.rename(media.with_name("media.moved"))
        media.write_text("not a folder")
        error = await _error(client, "take_photo", {})
        assert error.code == "camera_unavailable"
        assert "photo failed" in error.message
        await client.record_video(1)
        await asyncio.wait_for(raised.wait(), 30)
        assert faults[0].source == "camera"
        assert faults[0].active
        assert "video failed" in faults[0].message
        # The camera lock was released: the next capture is served once storage is back.
        media.unlink()
        media.with_name("media.moved").rename(media)
        assert (await client.take_photo()).kind == "photo"


async def test_a_client_reads_no_more_of_a_file_than_its_cap(config: Any) -> None:
    """Whatever the daemon sends, a client stops at its cap instead of filling its memory."""
    async with running_daemon(config) as running, connected(running) as client:
        photo = await client.take_photo()
        whole, _ = await client.fetch(photo.url)
        with pytest.raises(BeerPiRequestError) as caught:
            await client.fetch(photo.url, max_bytes=len(whole) - 1)
        assert caught.value.code == "too_large"
        pieces: list[bytes] = []

        async def keep(chunk: bytes) -> None:
            pieces.append(chunk)

        assert await client.download(photo.url, keep, max_bytes=len(whole)) == "image/jpeg"
        assert b"".join(pieces) == whole


async def test_get_media_hands_over_a_file_in_chunks(config: Any) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        media = await client.take_photo()
        over_http, _ = await client.fetch(media.url)
        over_socket, content_type = await client.get_media(media.id)
        assert over_socket == over_http
        assert content_type == "image/jpeg"
        pieces, offset = [], 0
        while True:
            part = await client.call(
                "get_media", {"id": media.id, "offset": offset, "length": 4096}
            )
            pieces.append(base64.b64decode(part["data"]))
            offset += len(pieces[-1])
            if part["eof"]:
                break
        assert len(pieces) > 2
        assert b"".join(pieces) == over_http
        first = await client.call("get_media", {"id": media.id, "length": 100})
        assert first["eof"] is False
        assert first["size"] == len(over_http)
        last = await client.call("get_media", {"id": media.id, "offset": len(over_http) - 10})
        assert last["eof"] is True
        assert (await _error(client, "get_media", {"id": "photo-nope"})).code == "unknown_media"
        assert (await _error(client, "get_media", {"id": media.id, "length": 10**6})).code == (
            "invalid_argument"
        )
        assert (await _error(client, "get_media", {"id": "../../etc/passwd"})).code == (
            "unknown_media"
        )


async def test_manual_on_while_the_other_relay_is_on_is_an_interlock(config: Any) -> None:
    """Heater and cooler are never on together, whichever client asks."""
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_relay("heater", True)
        error = await _error(client, "set_relay", {"relay": "cooler", "on": True})
        assert error.code == "interlock"
        assert error.message == "heater is on: switch it off first"
        state = await client.get_state()
        assert state.relays["heater"].on
        assert not state.relays["cooler"].on
        assert not running.daemon.hardware.relays["cooler"].is_on


async def test_manual_on_is_refused_while_the_beer_probe_is_in_fault(config: Any) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        await client.set_relay("heater", True)
        await client.simulate(probe="beer", fault="disconnected")
        state = await wait_for_state(client, lambda s: not s.relays["heater"].on)
        assert state.probes["beer"].fault is not None
        await client.set_relay("heater", False)
        error = await _error(client, "set_relay", {"relay": "heater", "on": True})
        assert error.code == "relay_locked_out"
        assert "beer probe in fault" in error.message


async def test_a_broken_relay_clicks_but_heats_nothing(tmp_path: Path) -> None:
    config = sim_config(
        tmp_path / "data", **{"simulation.speed": 600.0, "thermostat.stale_after_s": 900.0}
    )
    async with running_daemon(config) as running, connected(running) as client:
        fermenter = running.daemon.hardware.simulation.fermenter
        await client.simulate(ambient=fermenter.air_c)  # no drift from the room
        answer = await client.call("simulate", {"relay": "heater", "broken": True})
        assert answer["ok"] is True
        assert fermenter.broken == {"heater"}
        await client.set_relay("heater", True)
        assert running.daemon.hardware.relays["heater"].is_on  # the pin switched
        air_c = fermenter.air_c
        await asyncio.sleep(0.5)  # five simulated minutes
        assert abs(fermenter.air_c - air_c) < 0.1  # ... but no heat reached the air
        await client.call("simulate", {"relay": "heater", "broken": False})
        assert fermenter.broken == frozenset()
        air_c = fermenter.air_c
        await asyncio.sleep(0.5)
        assert fermenter.air_c - air_c > 0.3  # a working 60 W mat warms it
