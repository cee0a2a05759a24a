"""A full disk under the daemon: control goes on, a `storage` fault says why, and clears.

The data dir sits on a tiny tmpfs that the test really fills (as root, chmod
would not stop a write), so SQLite meets ENOSPC exactly as on a full SD card.
"""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from beerpi_protocol import BeerPiRequestError, FaultInfo, ReadingsPage
from beerpi_protocol.client import BeerPiClient
from tests.support.daemon import connected, running_daemon, sim_config, wait_for_state


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False, timeout=30)


def fill(directory: Path) -> Path:
    """Write until the filesystem refuses; returns the filler file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(10_000):  # far more than the 4 MiB disk holds
            try:
                os.write(fd, b"\0" * 65536)
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise
                return filler
        pytest.fail("the small disk never filled")
    finally:
        os.close(fd)


def storage_faults(state: object) -> list[FaultInfo]:
    return [f for f in getattr(state, "faults", ()) if f.code == "storage"]


async def test_full_disk_raises_a_storage_fault_and_control_goes_on(small_disk: Path) -> None:
    config = sim_config(small_disk / "data", **{"storage.record_interval_s": 0.05})
    async with running_daemon(config) as running, connected(running) as client:
        faults: list[FaultInfo] = []
        client.add_fault_listener(faults.append)
        await asyncio.sleep(0.3)  # a few batches recorded while there is room
        count_before = await running.daemon.outbox.count()
        assert count_before > 0
        assert not storage_faults(client.state)

        filler = fill(small_disk)
        state = await wait_for_state(client, lambda s: bool(storage_faults(s)), 10)
        fault = storage_faults(state)[0]
        assert fault.source == "storage"
        assert "full" in fault.message  # SQLite's "database or disk is full"
        assert any(f.code == "storage" and f.active for f in faults)  # pushed as an event

        # The thermostat side is untouched: relays switch, reads are answered.
        await client.set_relay("heater", True)
        await wait_for_state(client, lambda s: s.relays["heater"].on)
        assert running.daemon.hardware.relays["heater"].is_on
        await client.set_relay("heater", False)
        assert not running.daemon.hardware.relays["heater"].is_on
        page = await client.readings_since(None, 10)
        assert page.readings
        assert not running.task.done()

        # Space comes back: the next batch is stored and the fault clears.
        filler.unlink()
        state = await wait_for_state(client, lambda s: not storage_faults(s), 10)
        assert any(f.code == "storage" and not f.active for f in faults)
        await asyncio.sleep(0.3)
        assert await running.daemon.outbox.count() > count_before
        print(f"\ndisk full: {len([f for f in faults if f.code == 'storage'])} fault edges seen")


async def test_thermostat_change_on_a_full_disk_never_strands_a_relay(small_disk: Path) -> None:
    config = sim_config(
        small_disk / "data",
        **{
            "thermostat.initial_mode": "heat",
            "thermostat.initial_target": 30.0,
            "thermostat.heater_min_off_s": 0,
        },
    )
    async with running_daemon(config) as running, connected(running) as client:
        await wait_for_state(client, lambda s: s.relays["heater"].on, 10)
        fill(small_disk)
        # thermostat.json cannot be written now. Whatever the answer, a heater the
        # thermostat lets go of must not stay on with nobody controlling it.
        try:
            await client.set_thermostat(mode="off")
            answered = "ok"
        except BeerPiRequestError as err:
            answered = err.code
        state = await client.get_state()
        heater = state.relays["heater"]
        print(f"\nset mode off on a full disk: {answered}, mode {state.thermostat.mode}")
        if state.thermostat.mode == "off":
            assert not heater.on, "heater left on, no longer controlled by the thermostat"
            assert not running.daemon.hardware.relays["heater"].is_on
        else:
            # Refused: nothing changed, the thermostat still drives the heater.
            assert answered != "ok"
            assert heater.controlled_by == "thermostat"


async def test_the_storage_fault_stays_until_every_store_is_written_again(
    small_disk: Path,
) -> None:
    """The outbox and relays.json both fail; the outbox recovering does not clear the
    fault while the relay history still cannot be written."""

    def messages(state: object) -> str:
        return " | ".join(f.message for f in storage_faults(state))

    data_dir = small_disk / "data"
    config = sim_config(data_dir, **{"storage.record_interval_s": 0.05})
    history = data_dir / "relays.json"
    async with running_daemon(config) as running, connected(running) as client:
        faults: list[FaultInfo] = []
        client.add_fault_listener(faults.append)
        # A directory in its place: the atomic rename onto it fails, however much room
        # there is. The daemon may rename a new relays.json in between: try again.
        for _ in range(50):
            history.unlink(missing_ok=True)
            try:
                history.mkdir()
                break
            except FileExistsError:
                await asyncio.sleep(0.01)
        assert history.is_dir()
        (history / "in-the-way").write_text("x")
        filler = fill(small_disk)
        await client.set_relay("heater", True)
        # One fault for the data dir, saying both (in whichever order they failed:
        # the heater's switch may write relays.json before the outbox's next batch).
        state = await wait_for_state(
            client, lambda s: "relay history" in messages(s) and "outbox" in messages(s), 10
        )
        assert len(storage_faults(state)) == 1

        filler.unlink()  # the outbox takes readings again; relays.json still cannot be written
        state = await wait_for_state(client, lambda s: "outbox" not in messages(s), 10)
        assert messages(state).startswith("cannot write the relay history:")
        await asyncio.sleep(0.3)
        assert storage_faults(client.state)
        assert [f.active for f in faults if f.code == "storage"] == [True]  # no clear yet

        shutil.rmtree(history)
        await wait_for_state(client, lambda s: not storage_faults(s), 10)
        assert [f.active for f in faults if f.code == "storage"] == [True, False]
        assert not running.task.done()


async def test_a_daemon_restarted_on_a_full_disk_starts_and_controls(small_disk: Path) -> None:
    """A power cut on a Pi whose card filled up: the daemon comes back and holds the beer."""
    data_dir = small_disk / "data"
    config = sim_config(
        data_dir,
        **{
            "thermostat.initial_mode": "heat",
            "thermostat.initial_target": 30.0,
            "thermostat.heater_min_off_s": 0,
        },
    )
    async with running_daemon(config):
        pass  # the data dir as a first run leaves it (outbox, thermostat.json, daemon.lock)
    (data_dir / "daemon.lock").write_text("")  # its pid cannot be written now either
    (data_dir / "outbox.sqlite3-wal").unlink(missing_ok=True)  # as after a clean stop
    fill(small_disk)
    async with running_daemon(config) as running, connected(running) as client:
        state = await wait_for_state(client, lambda s: s.relays["heater"].on, 10)
        assert state.thermostat.mode == "heat"
        assert running.daemon.hardware.relays["heater"].is_on
        # The brewer is told, and the history service still gets the readings.
        fault = storage_faults(state)[0]
        assert "kept in memory only until a restart" in fault.message
        page = await wait_for_page(client)
        assert page.readings
        await asyncio.sleep(0.3)
        assert storage_faults(client.state), "an append to memory cleared the file's fault"


async def wait_for_page(client: BeerPiClient) -> ReadingsPage:
    for _ in range(100):
        page = await client.readings_since(None, 10)
        if page.readings:
            return page
        await asyncio.sleep(0.05)
    return page
