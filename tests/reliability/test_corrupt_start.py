"""A corrupt file at start-up: `python -m pi_daemon` says which and why, and exits 2.

Exit code 2 tells systemd (and the brewer) that restarting will not help until
the file is fixed; a traceback would bury the one line that matters.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from beerpi_protocol.client import BeerPiClient
from tests.support.daemon import TOKEN, daemon_process, free_port, wait_for_state


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


STATE_FILES: dict[str, tuple[Callable[[Path], object], tuple[str, ...]]] = {
    "thermostat.json not json": (
        lambda d: write(d / "thermostat.json", '{"mode": "heat", "targ'),
        ("thermostat.json", "fix or remove it"),
    ),
    "thermostat.json wrong shape": (
        lambda d: write(d / "thermostat.json", '["heat", 20]'),
        ("thermostat.json", "fix or remove it"),
    ),
    "thermostat.json bad values": (
        lambda d: write(d / "thermostat.json", '{"mode": "boil", "target": "hot"}'),
        ("thermostat.json", "mode must be one of", "fix or remove the file"),
    ),
    "profile.json not json": (
        lambda d: write(d / "profile.json", '{"name": "Ale", "steps": [{"kind": "ho'),
        ("profile.json", "fix or remove it"),
    ),
    "profile.json binary junk": (
        # Not UTF-8: a different failure from bad JSON inside readable text.
        lambda d: write(d / "profile.json", b"\xa7\xff" + os.urandom(510)),
        ("profile.json", "fix or remove it"),
    ),
    "gravity.json not json": (
        lambda d: write(d / "gravity.json", '{"version": 1, "hydrometers": {"tilt-red": {"la'),
        ("gravity.json", "fix or remove it"),
    ),
    "device.json not json": (
        lambda d: write(d / "device.json", '{"id": "beerpi-1a2b'),
        ("device.json", "fix it", "a new device to both"),
    ),
    "outbox garbage": (
        lambda d: write(d / "outbox.sqlite3", b"not a database at all\x00" * 200),
        ("outbox", "corrupt"),
    ),
    "outbox truncated": (truncated_outbox, ("outbox",)),
}


@pytest.mark.parametrize("case", sorted(STATE_FILES))
def test_a_corrupt_state_file_is_a_clear_message_and_exit_2(tmp_path: Path, case: str) -> None:
    corrupt, expected = STATE_FILES[case]
    data_dir = tmp_path / "data"
    corrupt(data_dir)
    before = {path: path.read_bytes() for path in data_dir.iterdir()}
    result = start(data_dir)
    assert result.returncode == 2, (result.stdout, result.stderr)
    for words in expected:
        assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    # One short message for the journal, not a dump.
    assert len(result.stderr.strip().splitlines()) <= 6, result.stderr
    # Nothing lost: the file is left as it was, for the brewer to fix or move away.
    assert {path: path.read_bytes() for path in before} == before


def test_a_stored_target_outside_a_narrowed_range_names_the_file(tmp_path: Path) -> None:
    """The brewer narrowed max_target; the last run's target lies outside it."""
    data_dir = tmp_path / "data"
    stored = write(data_dir / "thermostat.json", '{"mode": "heat", "target": 30.0}\n')
    config = write(tmp_path / "beerpi.toml", "[thermostat]\nmax_target = 25\n")
    result = start(data_dir, "--config", str(config))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"{stored} holds a mode and target this config refuses" in result.stderr
    assert "target must be between -2 and 25 °C" in result.stderr
    assert "fix or remove the file" in result.stderr
    assert stored.read_text(encoding="utf-8") == '{"mode": "heat", "target": 30.0}\n'


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
