"""What a simulated daemon loads from start to stop: nothing a Pi would not need (issue 18).

A fresh interpreter (this test process has imported everything already) starts
the real daemon, lets it run a few read periods, stops it and lists which of
the watched modules were ever imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pi_daemon
from tests.support.daemon import TOKEN, free_port

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, json, sys
from pi_daemon.app import run
from pi_daemon.config import load_config

config = load_config(None, {
    "simulate": True,
    "server.host": "127.0.0.1",
    "server.port": int(sys.argv[1]),
    "server.token": sys.argv[2],
    "storage.data_dir": sys.argv[3],
    # Enabled, but a loopback-only daemon advertises nothing.
    "zeroconf.enabled": True,
    "camera.enabled": False,
    "sampling.read_interval_s": 0.1,
    "simulation.probe_conversion_s": 0.01,
})

async def main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    await run(config, stop=stop, on_ready=lambda _daemon: loop.call_later(0.5, stop.set))

asyncio.run(main())
watched = sys.argv[4].split(",")
print(json.dumps(sorted(m for m in watched if m in sys.modules)))
"""

# Imported only by the real backends (w1thermsensor, picamera2), for an advertisement
# (zeroconf), for a photo (Pillow, PyAV); pydantic is the web service's alone (the
# daemon's config and requests are plain dataclasses, issue 20). importlib.metadata is
# not on the list: the daemon no longer needs it for its version, but urllib3 (under
# engine.io's client) imports it. gpiozero is loaded: the simulation drives the real
# GpioRelay on gpiozero's mock pins, as a Pi with relays does on its own. bleak (and
# its dbus_fast) is for a real Tilt: the simulated daemon runs its simulated Tilt.
NOT_NEEDED = (
    "zeroconf",
    "w1thermsensor",
    "picamera2",
    "PIL",
    "av",
    "pydantic",
    "bleak",
    "dbus_fast",
)


def test_a_simulated_daemon_that_advertised_nothing_loads_none_of_them(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(free_port()),
            TOKEN,
            str(tmp_path / "data"),
            ",".join(NOT_NEEDED),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == []


def test_the_version_is_the_projects() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert pi_daemon.__version__ == project["version"]
