"""relays.json cannot be written: the brewer sees a `storage` fault, and it clears once it can.

While the relay history is not kept a restart knows less than it should, so the
failure is a fault a client sees, not only a line in the log. Making the path a
directory stops the write even as root (where chmod would not).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from pathlib import Path

import pytest

from beerpi_protocol import FaultInfo
from beerpi_protocol.errors import BeerPiRequestError
from tests.support.daemon import connected, running_daemon, sim_config, wait_for_state


def history_faults(state: object) -> list[FaultInfo]:
    return [
        f
        for f in getattr(state, "faults", ())
        if f.source == "storage" and f.code == "storage" and "relay history" in f.message
    ]


async def test_an_unwritable_relay_history_is_a_storage_fault_until_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    config = sim_config(data_dir)
    history = data_dir / "relays.json"
    async with running_daemon(config) as running, connected(running) as client:
        faults: list[FaultInfo] = []
        client.add_fault_listener(faults.append)
        history.unlink(missing_ok=True)
        history.mkdir()
        (history / "in-the-way").write_text("x")  # the atomic rename onto it fails

        with caplog.at_level(logging.WARNING, logger="pi_daemon.service"):
            await client.set_relay("heater", True)
            state = await wait_for_state(client, lambda s: bool(history_faults(s)), 10)
            await asyncio.sleep(0.5)  # several more steps retry the write and fail
        fault = history_faults(state)[0]
        assert "cannot write the relay history" in fault.message
        assert any(f.code == "storage" and f.active for f in faults)  # pushed as an event
        warned = [r for r in caplog.records if "cannot keep the relay history" in r.message]
        assert len(warned) == 1  # once per spell, not once per step
        # Control goes on meanwhile.
        await client.set_relay("heater", False)
        assert not running.daemon.hardware.relays["heater"].is_on

        shutil.rmtree(history)
        await wait_for_state(client, lambda s: not history_faults(s), 10)
        assert any(f.code == "storage" and not f.active for f in faults)
        assert history.is_file()


def settings_faults(state: object) -> list[FaultInfo]:
    return [
        f
        for f in getattr(state, "faults", ())
        if f.code == "storage" and "thermostat settings" in f.message
    ]


async def test_mode_off_switches_off_even_when_the_settings_cannot_be_stored(
    tmp_path: Path,
) -> None:
    """Off is always allowed at once, also to a person whose data dir refuses writes (a
    full or failing SD card): a heater the thermostat drives is switched off by setting
    its mode to off (a switch by hand is refused: the thermostat drives it), and that
    used to be refused too, leaving the heater on with no way to stop it but the daemon."""
    data_dir = tmp_path / "data"
    config = sim_config(
        data_dir,
        **{
            "thermostat.initial_mode": "heat",
            "thermostat.initial_target": 30.0,
            "thermostat.heater_min_off_s": 0,
        },
    )
    settings = data_dir / "thermostat.json"
    async with running_daemon(config) as running, connected(running) as client:
        await wait_for_state(client, lambda s: s.relays["heater"].on, 10)
        settings.unlink(missing_ok=True)
        settings.mkdir()
        (settings / "in-the-way").write_text("x")  # the atomic rename onto it fails

        await client.set_thermostat(mode="off")  # answered: the thermostat is off
        assert not running.daemon.hardware.relays["heater"].is_on  # at once
        state = await client.get_state()
        assert state.thermostat.mode == "off"
        assert not state.relays["heater"].on
        assert settings_faults(state), state.faults  # the brewer learns it is not stored
        await asyncio.sleep(0.5)  # steps go on: the heater stays off
        assert not running.daemon.hardware.relays["heater"].is_on

        # Any other change still needs the data dir: stored first, or not made.
        for change in ({"mode": "heat"}, {"target": 12.0}):
            with pytest.raises(BeerPiRequestError) as refused:
                await client.set_thermostat(**change)
            assert refused.value.code == "internal_error"
        thermostat = (await client.get_state()).thermostat
        assert (thermostat.mode, thermostat.target) == ("off", 30.0)

        # Once the data dir takes writes again, the off is stored and the fault clears.
        shutil.rmtree(settings)
        await wait_for_state(client, lambda s: not settings_faults(s), 10)
        assert json.loads(settings.read_text())["mode"] == "off"

    # A restart keeps it off.
    async with running_daemon(config) as running, connected(running) as client:
        state = await client.get_state()
        assert state.thermostat.mode == "off"
        assert not state.relays["heater"].on
