"""`--init-config`: a config a brewer can start from, with a secret nobody else can read."""

from __future__ import annotations

import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pi_daemon.config import ConfigError, load_config
from pi_daemon.hardware.w1_probes import PLACEHOLDER_SENSOR_ID
from pi_daemon.init_config import write_initial_config

ROOT = Path(__file__).resolve().parents[2]


def _bus(tmp_path: Path, *ids: str) -> Path:
    base = tmp_path / "w1"
    for sensor_id in ids:
        (base / sensor_id).mkdir(parents=True)
        (base / sensor_id / "w1_slave").write_text(
            "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n"
        )
    base.mkdir(exist_ok=True)
    return base


def test_found_probes_go_in_and_the_file_is_private(tmp_path: Path) -> None:
    base = _bus(tmp_path, "28-0316a2795aff", "28-0416a27f11ff")
    path = tmp_path / "etc" / "daemon.toml"
    token = write_initial_config(path, base_dir=base)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = load_config(path)
    assert config.server.token == token
    assert len(token) >= 24
    assert [(p.id, p.sensor_id) for p in config.probes] == [
        ("beer", "28-0316a2795aff"),
        ("fridge", "28-0416a27f11ff"),
    ]
    assert [r.active_high for r in config.relays] == [False, False]


def test_a_second_token_is_different_and_nothing_is_overwritten(tmp_path: Path) -> None:
    base = _bus(tmp_path)
    first = write_initial_config(tmp_path / "a.toml", base_dir=base)
    second = write_initial_config(tmp_path / "b.toml", base_dir=base)
    assert first != second
    assert "replace these sensor ids" in (tmp_path / "a.toml").read_text()
    result = subprocess.run(
        [sys.executable, "-m", "pi_daemon", "--init-config", str(tmp_path / "a.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2
    assert "not overwriting" in result.stderr
    assert tomllib.loads((tmp_path / "a.toml").read_text())["server"]["token"] == first


def test_a_placeholder_left_in_is_named_before_the_daemon_runs_blind(tmp_path: Path) -> None:
    """No probe on the bus: both placeholders say which to replace, and how to find the ids."""
    write_initial_config(tmp_path / "a.toml", base_dir=_bus(tmp_path))
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "a.toml")
    lines = str(caught.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == [
        "probes[0].sensor_id",
        "probes[1].sensor_id",
    ]
    assert all("placeholder --init-config writes" in line for line in lines)
    assert all("beerpi-daemon --list-probes" in line for line in lines)


def test_a_placeholder_is_no_problem_for_a_simulation(tmp_path: Path) -> None:
    """The README's try-it-without-a-Pi path: --init-config's file runs with --simulate."""
    write_initial_config(tmp_path / "a.toml", base_dir=_bus(tmp_path))
    config = load_config(tmp_path / "a.toml", overrides={"simulate": True})
    assert [p.sensor_id for p in config.probes] == [PLACEHOLDER_SENSOR_ID] * 2
