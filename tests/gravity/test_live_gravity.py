"""Gravity as a user of the real daemon sees it, over the real client on loopback."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from beerpi_protocol import BeerPiRequestError, State
from beerpi_protocol.errors import InvalidArgument
from beerpi_protocol.requests import ReportGravity
from beerpi_protocol.timestamps import iso
from pi_daemon.gravity import MAX_HYDROMETERS
from tests.support.daemon import connected, running_daemon, sim_config, wait_for_state


def _sg(state: State, hydrometer: str) -> float | None:
    return next((h.sg for h in state.hydrometers if h.id == hydrometer), None)


async def test_the_simulated_tilt_reads_the_fermentation_falling(tmp_path: Path) -> None:
    # 20000x: the ale's fermentation peaks (44 h) about 8 s into the test.
    config = sim_config(tmp_path, **{"simulation.speed": 20000, "camera.enabled": False})
    async with running_daemon(config) as running, connected(running) as client:
        first = await wait_for_state(client, lambda s: _sg(s, "tilt-red") is not None)
        start_sg = _sg(first, "tilt-red")
        assert start_sg is not None
        assert 1.047 <= start_sg <= 1.053  # the wort's OG, 1.050, within the Tilt's noise
        reading = first.hydrometers[0]
        assert reading.temperature_c is not None
        assert abs(reading.temperature_c - first.probes["beer"].temperature) < 1.0  # type: ignore[operator]
        late = await wait_for_state(
            client, lambda s: (_sg(s, "tilt-red") or 2.0) <= 1.030, timeout_s=40
        )
        # Its time is the simulation's, and it moved on with it.
        assert late.hydrometers[0].at > reading.at


async def test_a_daemon_without_the_simulated_tilt_has_no_hydrometers(tmp_path: Path) -> None:
    config = sim_config(tmp_path, **{"gravity.simulated_tilt": False, "camera.enabled": False})
    async with running_daemon(config) as running, connected(running) as client:
        await asyncio.sleep(0.3)
        assert (await client.get_state()).hydrometers == ()


@pytest.fixture
def config(tmp_path: Path) -> Any:
    return sim_config(tmp_path, **{"gravity.simulated_tilt": False, "camera.enabled": False})


async def test_a_reported_reading_shows_in_the_state(config: Any) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        now = running.daemon.clock.now()
        reading = ReportGravity(
            hydrometer="ispindel-1", sg=1.021, at=iso(now), temperature_c=18.5, angle=40.2
        )
        assert await client.report_gravity(reading) is True
        state = await wait_for_state(client, lambda s: _sg(s, "ispindel-1") == 1.021)
        shown = state.hydrometers[0]
        assert (shown.temperature_c, shown.angle, shown.battery) == (18.5, 40.2, None)
        # An older one (a late report) is kept but is not the latest.
        older = ReportGravity(hydrometer="ispindel-1", sg=1.030, at=iso(now - timedelta(minutes=9)))
        assert await client.report_gravity(older) is False
        assert _sg(await client.get_state(), "ispindel-1") == 1.021


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        (timedelta(hours=-3), "at is 180 min ago; readings older than 120 min are refused"),
        (timedelta(minutes=30), "at is 30 min ahead of this BeerPi's clock"),
    ],
)
async def test_a_stale_or_future_reading_is_refused_and_changes_nothing(
    config: Any, shift: timedelta, message: str
) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        at = iso(running.daemon.clock.now() + shift)
        with pytest.raises(BeerPiRequestError) as caught:
            await client.report_gravity(ReportGravity(hydrometer="i", sg=1.01, at=at))
        assert caught.value.code == "invalid_argument"
        assert caught.value.message == message
        assert (await client.get_state()).hydrometers == ()


async def test_bad_fields_are_refused_by_the_daemon_too(config: Any) -> None:
    """A client other than ours (no model) sends what it likes: the daemon checks again."""
    async with running_daemon(config) as running, connected(running) as client:
        at = iso(running.daemon.clock.now())
        for payload, message in [
            ({"hydrometer": "i", "sg": 1.5, "at": at}, "sg must be between 0.99 and 1.2, got 1.5"),
            ({"hydrometer": "i", "sg": "1.01", "at": at}, "sg must be a number, got a string"),
            ({"hydrometer": "i", "sg": 1.01}, "at is required"),
        ]:
            with pytest.raises(BeerPiRequestError) as caught:
                await client.call("report_gravity", payload)
            assert (caught.value.code, caught.value.message) == ("invalid_argument", message)
        with pytest.raises(InvalidArgument):  # our client does not even send it
            ReportGravity(hydrometer="i", sg=float("nan"), at=at)
        assert (await client.get_state()).hydrometers == ()


async def test_at_most_16_hydrometers(config: Any) -> None:
    async with running_daemon(config) as running, connected(running) as client:
        at = iso(running.daemon.clock.now())
        for index in range(MAX_HYDROMETERS):
            await client.report_gravity(ReportGravity(hydrometer=f"h{index}", sg=1.01, at=at))
            await asyncio.sleep(0.11)  # under the control rate limit
        with pytest.raises(BeerPiRequestError) as caught:
            await client.report_gravity(ReportGravity(hydrometer="one-more", sg=1.01, at=at))
        assert caught.value.message == "this BeerPi keeps at most 16 hydrometers"
        ids = [h.id for h in (await client.get_state()).hydrometers]
        assert len(ids) == MAX_HYDROMETERS
        assert "one-more" not in ids


async def test_a_tilt_without_a_bluetooth_adapter_does_not_stop_the_daemon(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """This machine has no Bluetooth: the listener says so and control goes on."""
    config = sim_config(
        tmp_path,
        **{"camera.enabled": False, "tilts": [{"colour": "blue", "id": "fv1"}]},
    )
    async with running_daemon(config) as running, connected(running) as client:
        await wait_for_state(client, lambda s: _sg(s, "tilt-red") is not None)
        await asyncio.sleep(0.5)
        state = await client.get_state()
        assert state.probes["beer"].temperature is not None
        assert [h.id for h in state.hydrometers] == ["tilt-red"]  # the simulated one only
    assert "Tilt: cannot scan Bluetooth LE" in caplog.text
