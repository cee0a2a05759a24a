"""The simulation's camera libraries (Pillow, PyAV) are the ``sim`` extra, not the Pi's.

A Pi install (``beerpi[daemon]``) lacks them; a daemon started with ``--simulate``
there must refuse to start and name the extra, not fail on the first photo.
"""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from pathlib import Path

from tests.support.daemon import TOKEN, free_port

ROOT = Path(__file__).resolve().parents[2]

# Runs the real CLI in a Python that cannot import the given top-level packages.
WITHOUT = """
import sys
from importlib.abc import MetaPathFinder

class Hide(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {hidden!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None

sys.meta_path.insert(0, Hide())
from pi_daemon.cli import main
sys.exit(main(sys.argv[1:]))
"""


def daemon_command(hidden: set[str], tmp_path: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        WITHOUT.format(hidden=sorted(hidden)),
        "--simulate",
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        "--token",
        TOKEN,
        "--data-dir",
        str(tmp_path / "data"),
        "--no-zeroconf",
        *args,
    ]


def run_daemon(hidden: set[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = daemon_command(hidden, tmp_path)
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_simulate_without_the_sim_extra_names_it(tmp_path: Path) -> None:
    result = run_daemon({"PIL", "av"}, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Pillow and PyAV (av)" in result.stderr
    assert "'sim' extra" in result.stderr
    assert "pip install 'beerpi[daemon,sim]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_only_the_missing_package_is_named(tmp_path: Path) -> None:
    result = run_daemon({"av"}, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "needs PyAV (av), which" in result.stderr


def test_simulate_without_a_camera_needs_no_sim_extra(tmp_path: Path) -> None:
    config = tmp_path / "no-camera.toml"
    config.write_text("[camera]\nenabled = false\n")
    ready = tmp_path / "ready"
    command = daemon_command(
        {"PIL", "av"}, tmp_path, "--config", str(config), "--ready-file", str(ready)
    )
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        started = ready.exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert started, output
    assert process.returncode == 0, output


def test_an_idle_simulated_camera_imports_neither() -> None:
    # Checked with find_spec: a daemon that never takes a photo never pays for them.
    code = (
        "import sys; from pi_daemon.clock import ManualClock; "
        "from pi_daemon.simulation.camera import SimulatedCamera; "
        "SimulatedCamera(ManualClock()); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'av')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_pi_install_carries_neither_pillow_nor_pyav() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]

    def names(extra: str) -> set[str]:
        return {
            spec.split(">")[0].split("<")[0].split("=")[0].strip().lower() for spec in extras[extra]
        }

    assert not {"pillow", "av"} & names("daemon")
    assert {"pillow", "av"} <= names("sim")
