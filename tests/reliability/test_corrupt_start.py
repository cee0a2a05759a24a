"""A corrupt file at start-up.

A bad config (or device.json, the device's identity) stops `python -m pi_daemon`
with one line saying which file and why, and exit 2: restarting will not help
until it is fixed, and a traceback would bury the line that matters. A damaged
state file (the thermostat's settings, the profile, the gravity, the outbox) does
not: the daemon moves it aside and starts without it, so the beer keeps its
control, and a `storage` fault says what happened.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from beerpi_protocol import BeerPiRequestError
from beerpi_protocol.client import BeerPiClient
from pi_daemon.config import DaemonConfig
from tests.support.daemon import (
    TOKEN,
    connected,
    daemon_process,
    free_port,
    running_daemon,
    sim_config,
    wait_for_state,
)


def start(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "pi_daemon", "--simulate", "--host", "127.0.0.1",
        "--port", str(free_port()), "--token", TOKEN, "--data-dir", str(data_dir),
        "--no-zeroconf", *extra,
    ]  # fmt: skip
    # A daemon that wrongly starts would run for ever: the timeout fails the test.
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def truncated_outbox(data_dir: Path) -> None:
    """A real outbox with readings, cut in half as a failing SD card might leave it."""
    path = data_dir / "outbox.sqlite3"
    data_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE readings (seq INTEGER PRIMARY KEY AUTOINCREMENT, probe TEXT, v REAL)")
    db.executemany("INSERT INTO readings (probe, v) VALUES (?, ?)", [("beer", 1.0)] * 5000)
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size // 2)


CONFIGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "broken toml": ("[server\nport = ", ("is not valid TOML", "beerpi.toml")),
    "unknown key": ("[server]\nprot = 8765\n", ("server.prot", "unknown key")),
    "bad pin": (
        '[[relays]]\nid = "heater"\npin = 99\n',
        ("relays[0].pin", "less than or equal to 27"),
    ),
    "wrong type": ('[server]\nmax_clients = "many"\n', ("server.max_clients",)),
    "not utf-8": ("", ("cannot read config file",)),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_a_bad_config_file_names_the_problem(tmp_path: Path, case: str) -> None:
    text, expected = CONFIGS[case]
    config = tmp_path / "beerpi.toml"
    if case == "not utf-8":
        write(config, b'[server]\nname = "\xff\xfe"\n')
    else:
        write(config, text)
    result = start(tmp_path / "data", "--config", str(config))
    assert result.returncode == 2, result.stderr
    for words in expected:
        assert words in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def heating(data_dir: Path) -> DaemonConfig:
    """A simulated daemon that heats at once when it starts without stored settings."""
    return sim_config(
        data_dir,
        **{
            "thermostat.initial_mode": "heat",
            "thermostat.initial_target": 30.0,
            "thermostat.heater_min_off_s": 0,
        },
    )


# A state file the daemon cannot use -> (how it is damaged, its name, words the
# `storage` fault must say besides the name and where it was moved).
STATE_FILES: dict[str, tuple[Callable[[Path], object], str, tuple[str, ...]]] = {
    "thermostat.json not json": (
        lambda d: write(d / "thermostat.json", '{"mode": "heat", "targ'),
        "thermostat.json",
        ("is unreadable", "started in [thermostat] initial_mode (heat) at initial_target (30"),
    ),
    "thermostat.json wrong shape": (
        lambda d: write(d / "thermostat.json", '["heat", 20]'),
        "thermostat.json",
        ("does not hold thermostat settings", "initial_mode (heat)"),
    ),
    "thermostat.json bad values": (
        lambda d: write(d / "thermostat.json", '{"mode": "boil", "target": "hot"}'),
        "thermostat.json",
        ("mode must be one of", "initial_mode (heat)"),
    ),
    "profile.json not json": (
        lambda d: write(d / "profile.json", '{"name": "Ale", "steps": [{"kind": "ho'),
        "profile.json",
        ("not valid JSON", "no profile runs"),
    ),
    "profile.json binary junk": (
        # Not UTF-8: a different failure from bad JSON inside readable text.
        lambda d: write(d / "profile.json", b"\xa7\xff" + os.urandom(510)),
        "profile.json",
        ("cannot read", "no profile runs"),
    ),
    "gravity.json not json": (
        lambda d: write(d / "gravity.json", '{"version": 1, "hydrometers": {"tilt-red": {"la'),
        "gravity.json",
        ("not valid JSON", "gravity starts anew"),
    ),
    "outbox garbage": (
        lambda d: write(d / "outbox.sqlite3", b"not a database at all\x00" * 200),
        "outbox.sqlite3",
        ("may be corrupt", "a new outbox was started"),
    ),
    "outbox truncated": (truncated_outbox, "outbox.sqlite3", ("a new outbox was started",)),
}


def storage_fault(state: object) -> str | None:
    for fault in getattr(state, "faults", ()):
        if fault.code == "storage":
            return str(fault.message)
    return None


@pytest.mark.parametrize("case", sorted(STATE_FILES))
async def test_a_damaged_state_file_is_moved_aside_and_control_goes_on(
    tmp_path: Path, case: str
) -> None:
    """A failing card (or a downgrade) damaged a file: the beer must not go without
    control while systemd restarts a daemon that refuses to start. The daemon starts
    as it would without the file, keeps the file's bytes under a new name, and a
    `storage` fault names it until the next start."""
    corrupt, name, expected = STATE_FILES[case]
    data_dir = tmp_path / "data"
    corrupt(data_dir)
    damaged = (data_dir / name).read_bytes()
    config = heating(data_dir)
    async with running_daemon(config) as running, connected(running) as client:
        state = await wait_for_state(client, lambda s: s.relays["heater"].on, 10)
        assert state.thermostat.mode == "heat"
        assert state.thermostat.target == 30.0
        message = storage_fault(state)
        assert message is not None, state.faults
        assert str(data_dir / name) in message
        for words in expected:
            assert words in message, message
        kept = sorted(data_dir.glob(f"{name}.damaged-*"))
        assert [path.name for path in kept] == re.findall(r"moved aside to (\S+),", message)
        assert kept[0].read_bytes() == damaged  # nothing lost
        page = await client.readings_since(None, 10)
        assert page is not None  # the new outbox serves the history service
    # The next start is a clean one: the fault was about that start's files.
    async with running_daemon(config) as running, connected(running) as client:
        state = await wait_for_state(client, lambda s: s.relays["heater"].on, 10)
        assert storage_fault(state) is None
        assert len(list(data_dir.glob(f"{name}.damaged-*"))) == 1


def test_a_damaged_device_json_still_stops_the_start(tmp_path: Path) -> None:
    """The device's id is what Home Assistant and the web service know it by: a new
    one would be a new device to both, so the brewer decides, and nothing is changed."""
    data_dir = tmp_path / "data"
    path = write(data_dir / "device.json", '{"id": "beerpi-1a2b')
    result = start(data_dir)
    assert result.returncode == 2, (result.stdout, result.stderr)
    for words in ("device.json", "fix it", "a new device to both"):
        assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) <= 6, result.stderr
    assert path.read_text(encoding="utf-8") == '{"id": "beerpi-1a2b'


async def test_a_stored_target_outside_a_narrowed_range_keeps_the_mode(tmp_path: Path) -> None:
    """The brewer narrowed max_target; the last run's target lies outside it: the
    daemon keeps heating, at the nearest target the config allows, and says why."""
    data_dir = tmp_path / "data"
    stored = '{"mode": "heat", "target": 30.0}\n'
    write(data_dir / "thermostat.json", stored)
    config = sim_config(
        data_dir,
        **{
            "thermostat.max_target": 25.0,
            "thermostat.initial_mode": "off",
            "thermostat.initial_target": 20.0,
        },
    )
    async with running_daemon(config) as running, connected(running) as client:
        state = client.state
        assert state.thermostat.mode == "heat"
        assert state.thermostat.target == 25.0
        message = storage_fault(state)
        assert message is not None
        assert "holds a mode and target this config refuses" in message
        assert "target must be between -2 and 25 °C" in message
        assert (
            "started in its stored mode (heat) at the nearest target the config allows (25 °C)"
            in message
        )
        # The first change of the target is stored as usual.
        await client.set_thermostat(target=21.0)
    (kept,) = data_dir.glob("thermostat.json.damaged-*")
    assert kept.read_text(encoding="utf-8") == stored
    assert '"target": 21.0' in (data_dir / "thermostat.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "damage", ['{"mode": "cool", "targ', '{"mode": "cool"}', '{"target": 4.0}']
)
async def test_with_the_default_config_a_lost_mode_is_said_to_leave_the_beer_alone(
    tmp_path: Path, damage: str
) -> None:
    """The shipped default is initial_mode off: a daemon that lost its stored mode
    heats and cools nothing, and the fault must say so, not that control goes on.
    A file without both keys was not written whole by the daemon: damaged too."""
    data_dir = tmp_path / "data"
    write(data_dir / "thermostat.json", damage)
    async with running_daemon(sim_config(data_dir)) as running, connected(running) as client:
        state = client.state
        assert state.thermostat.mode == "off"
        message = storage_fault(state)
        assert message is not None
        assert "initial_mode (off)" in message
        assert "it heats and cools nothing until a mode is set" in message


async def test_a_second_daemon_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    """Two daemons on one data dir would switch the same relays: the second one stops.

    A brewer who starts one by hand while the service runs (same config, same data
    dir) gets one line naming the running one, and the running one carries on.
    """
    data_dir = tmp_path / "data"
    config = write(tmp_path / "beerpi.toml", "[thermostat]\nheater_min_off_s = 0\n")
    with daemon_process(data_dir, "--config", str(config)) as first:
        client = BeerPiClient("127.0.0.1", first.port, TOKEN)
        await client.connect()
        try:
            await client.set_thermostat(mode="heat", target=30.0)
            await wait_for_state(client, lambda s: s.relays["heater"].on, 10)
            stored = (data_dir / "thermostat.json").read_text(encoding="utf-8")
            # Another port: the lock, not the port, must refuse it.
            second = start(data_dir, "--config", str(config))
            assert second.returncode == 2, (second.stdout, second.stderr)
            assert f"another beerpi-daemon (pid {first.pid})" in second.stderr
            assert str(data_dir) in second.stderr
            assert "Traceback" not in second.stderr + second.stdout
            assert "ready" not in second.stdout
            # The first still runs, heating, with its settings as they were.
            state = await client.get_state()
            assert state.relays["heater"].on
            assert (data_dir / "thermostat.json").read_text(encoding="utf-8") == stored
        finally:
            await client.disconnect()
        code, output = first.terminate()
    assert code == 0, output
    # Once the first has stopped, the data dir is free again.
    with daemon_process(data_dir, "--config", str(config)) as again:
        code, output = again.terminate()
    assert code == 0, output


async def test_a_media_dir_that_cannot_be_made_leaves_control_running(tmp_path: Path) -> None:
    """A file where the media dir should be (or a card too full for a directory): the
    daemon starts and controls; a photo fails saying why, and works once it can."""
    data_dir = tmp_path / "data"
    blocker = write(data_dir / "media", "not a directory")
    config = heating(data_dir)
    async with running_daemon(config) as running, connected(running) as client:
        await wait_for_state(client, lambda s: s.relays["heater"].on, 10)
        with pytest.raises(BeerPiRequestError) as caught:
            await client.take_photo()
        assert caught.value.code == "camera_unavailable"
        assert "photo failed" in caught.value.message
        assert "media" in caught.value.message
        assert blocker.read_text(encoding="utf-8") == "not a directory"
        blocker.unlink()  # the brewer moves it away: the next photo is kept
        photo = await client.take_photo()
        assert (data_dir / "media").is_dir()
        assert photo.id.startswith("photo-")
