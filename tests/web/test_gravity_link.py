"""Gravity both ways between a real simulated daemon and the real service on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.daemon import RunningDaemon, connected, running_daemon, sim_config
from tests.web.service import API_TOKEN, dial_in_config, live_client, running_service, wait_until
from web_extras.config import WebConfig

HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}
SPINDEL_TOKEN = "red-spindel-Vq3xN8pLk2RtY7wZ"


def linked_config(tmp_path: Path, daemon: RunningDaemon, *, spindel: bool = True) -> WebConfig:
    """The service dialling in to ``daemon``, with the iSpindel "red" posting for it."""
    hydrometers = {"red": {"device": daemon.daemon.device.id, "token": SPINDEL_TOKEN}}
    return dial_in_config(
        tmp_path / "web",
        daemon.port,
        api_token=API_TOKEN,
        **({"hydrometers": hydrometers} if spindel else {}),
    )


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def get_json_auth(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url, headers=HEADERS) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_a_daemons_tilt_is_stored_once_per_reading(tmp_path: Path) -> None:
    """The simulated Tilt in the daemon's state lands in the history, each reading once."""
    daemon_config = sim_config(tmp_path / "daemon", **{"simulation.speed": 600.0})
    async with running_daemon(daemon_config) as daemon:
        device = daemon.daemon.device.id
        config = linked_config(tmp_path, daemon, spindel=False)
        async with (
            running_service(config) as service,
            aiohttp.ClientSession(headers=HEADERS) as http,
        ):
            await wait_until(lambda: service.store.count(device=device))
            url = f"{service.url}/api/devices/{device}/gravity"

            async def tilts() -> list[dict[str, Any]]:
                answer = await get_json(http, url)
                return [h for h in answer["hydrometers"] if h["source"] == "tilt"]

            [tilt] = await wait_until(tilts)
            hydrometer = tilt["hydrometer"]
            assert hydrometer in {r.id for r in daemon.daemon.gravity.readings()}
            assert 0.990 <= tilt["sg"] <= 1.200
            # Several states carry each reading (a state per read, a Tilt reading per
            # many reads): one bucket over all time counts each stored reading once.
            await wait_until(lambda: len(daemon.daemon.gravity.history(hydrometer)) >= 4)
            query = "start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z&buckets=1"
            series = await get_json(http, f"{url}/series?{query}&hydrometer={hydrometer}")
            [bucket] = [b for b in series["hydrometers"][hydrometer] if b.get("count")]
            taken = len(daemon.daemon.gravity.history(hydrometer))
            assert 2 <= bucket["count"] <= taken + 1, (bucket, taken)


async def test_an_ispindel_post_reaches_the_daemons_profile(tmp_path: Path) -> None:
    """An iSpindel's gravity is handed to its fermenter's Pi (report_gravity)."""
    daemon_config = sim_config(tmp_path / "daemon", **{"gravity.simulated_tilt": False})
    async with running_daemon(daemon_config) as daemon:
        device = daemon.daemon.device.id
        config = linked_config(tmp_path, daemon)
        async with running_service(config) as service, aiohttp.ClientSession() as http:
            await wait_until(lambda: service.store.count(device=device))
            post = {
                "name": "iSpindel01",
                "angle": 50.1,
                "temperature": 19.5,
                "temp_units": "C",
                "battery": 3.9,
                "gravity": 1.0321,
                "interval": 900,
            }
            url = f"{service.url}/api/hydrometers/ispindel?token={SPINDEL_TOKEN}"
            async with http.post(url, json=post) as response:
                assert response.status == 200, await response.text()
                assert (await response.json())["stored"] is True
            async with connected(daemon) as client:

                async def red() -> Any:
                    state = await client.get_state()
                    return next((h for h in state.hydrometers if h.id == "red"), None)

                reading = await wait_until(red)
            assert reading.sg == 1.0321
            assert reading.temperature_c == 19.5

            # The daemon's states carry it back to the service: it keeps it once, as
            # the iSpindel reading it is (it was once stored again, as a Tilt's).
            async def carried_back() -> bool:
                answer = await get_json_auth(http, f"{service.url}/api/devices/{device}")
                hydrometers = (answer.get("state") or {}).get("hydrometers") or []
                return any(h.get("id") == "red" for h in hydrometers)

            await wait_until(carried_back)
            await asyncio.sleep(0.5)  # the gravity listener's write, after the state
            gravity = f"{service.url}/api/devices/{device}/gravity"
            async with http.get(gravity, headers=HEADERS) as response:
                hydrometers = (await response.json())["hydrometers"]
            assert [(h["hydrometer"], h["source"]) for h in hydrometers] == [("red", "ispindel")]
            query = "start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z&buckets=1"
            async with http.get(f"{gravity}/series?{query}", headers=HEADERS) as response:
                series = (await response.json())["hydrometers"]
            assert [b["count"] for b in series["red"] if b.get("count")] == [1]


async def test_stored_gravity_is_pushed_to_the_fermenters_watchers(tmp_path: Path) -> None:
    """``gravity`` on /live: an iSpindel's post and the daemon's Tilt, each stored reading once."""
    daemon_config = sim_config(tmp_path / "daemon", **{"simulation.speed": 600.0})
    async with running_daemon(daemon_config) as daemon:
        device = daemon.daemon.device.id
        config = linked_config(tmp_path, daemon)
        async with (
            running_service(config) as service,
            aiohttp.ClientSession() as http,
            live_client(service.url, auth={"token": API_TOKEN}) as (sio, received),
            live_client(service.url, auth={"token": API_TOKEN}) as (other, elsewhere),
        ):
            assert (await sio.call("watch", {"devices": [device]}, namespace="/live"))["ok"]
            assert (await other.call("watch", {"devices": ["fv-9"]}, namespace="/live"))["ok"]
            # The client handles each packet in a task of its own: a push that came before
            # the watch's ack may still be appended after it. A second round trip lets
            # those land first (before the watch it got every device's pushes).
            assert (await other.call("watch", {"devices": ["fv-9"]}, namespace="/live"))["ok"]
            watched_from = len(elsewhere)

            def pushed(source: str) -> list[dict[str, Any]]:
                return [
                    reading
                    for event, data in received
                    if event == "gravity" and data["device"] == device
                    for reading in data["readings"]
                    if reading["source"] == source
                ]

            # The simulated Tilt's readings, stored from the daemon's states.
            await wait_until(lambda: pushed("tilt"))
            url = f"{service.url}/api/hydrometers/ispindel?token={SPINDEL_TOKEN}"
            post = {"name": "iSpindel01", "gravity": 1.0321, "temperature": 19.5}
            async with http.post(url, json=post) as response:
                assert response.status == 200, await response.text()
                answer = await response.json()
            [spindel] = await wait_until(lambda: pushed("ispindel"))
            assert spindel == {key: value for key, value in answer.items() if key != "stored"}
            await wait_until(lambda: len(pushed("tilt")) >= 3)
            assert not [event for event, _ in elsewhere[watched_from:] if event == "gravity"]


async def test_an_ispindel_is_answered_while_its_daemon_is_slow(tmp_path: Path) -> None:
    """The hand-off to the daemon runs in the background (README, "Point an iSpindel at
    BeerPi"): the iSpindel's post is answered while its daemon sits on report_gravity, and
    the reading reaches the daemon once it answers again."""
    daemon_config = sim_config(tmp_path / "daemon", **{"gravity.simulated_tilt": False})
    async with running_daemon(daemon_config) as daemon:
        device = daemon.daemon.device.id
        config = linked_config(tmp_path, daemon)
        async with running_service(config) as service, aiohttp.ClientSession() as http:
            await wait_until(lambda: service.store.count(device=device))
            url = f"{service.url}/api/hydrometers/ispindel?token={SPINDEL_TOKEN}"
            post = {"name": "iSpindel01", "gravity": 1.0412, "temperature": 18.5}
            # The daemon busy with another command: report_gravity waits for it (the
            # service's request to the daemon gives up after 10 s, its request timeout).
            async with daemon.daemon.command_lock:
                async with asyncio.timeout(5), http.post(url, json=post) as response:
                    assert response.status == 200, await response.text()
                    assert (await response.json())["stored"] is True
                # Kept by the service while the daemon has not taken it yet.
                gravity = f"{service.url}/api/devices/{device}/gravity"
                answer = await get_json_auth(http, gravity)
                assert [(h["hydrometer"], h["sg"]) for h in answer["hydrometers"]] == [
                    ("red", 1.0412)
                ]
                assert daemon.daemon.gravity.latest("red") is None
            # The daemon free again: the reading it was handed arrives.
            reading = await wait_until(lambda: daemon.daemon.gravity.latest("red"))
            assert (reading.sg, reading.temperature_c) == (1.0412, 18.5)
