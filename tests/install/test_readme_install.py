"""The README's install steps, followed literally from a wheel `make dist` builds.

A Pi and a server are stood in for by fresh venvs on Python 3.11 (Raspberry Pi
OS Bookworm's; the running interpreter when there is none). The commands come
from the README: its venv line, its wheel name (checked against the one `make
dist` builds), its extras, `--init-config` and `beerpi-web`'s command line.
Changed on purpose: `pip install` runs as `uv pip install` on the same venv
(uv's cache, offline when it has everything, so no index is needed), paths
move to a temporary directory, every server listens on 127.0.0.1 on a free
port, and zeroconf is off. There is no hardware here, so the installed daemon
runs `--simulate` with the camera off (a Pi install carries no `sim` extra).
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.install.process import free_port, get, get_json, running
from tests.install.readme import ROOT, command, commands, section
from tests.support.daemon import TOKEN, daemon_process

UV = ROOT / ".tools" / "bin" / "uv"
OPT = "/opt/beerpi/venv"  # the Pi's: the daemon's venv
WEB_OPT = "/opt/beerpi-web/venv"  # a server's

pytestmark = pytest.mark.timeout(300)


def pi_python() -> str:
    found = subprocess.run(
        [str(ROOT / "scripts" / "find-python"), "3.11"], capture_output=True, text=True
    )
    return found.stdout.strip() if found.returncode == 0 else sys.executable


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pi = section("Install the daemon on a Raspberry Pi")
    assert ["make", "dist"] in [words[:2] for words in commands(pi)]
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(["make", "-s", "dist", f"DIST={out}"], cwd=ROOT, check=True, timeout=180)
    (built,) = out.glob("*.whl")
    return built


def install(text: str, wheel: Path, home: Path, extra: str, opt: str = OPT) -> Path:
    """The section's venv line and pip line, in ``home`` where the wheel was copied."""
    venv_line = command(text, "python3", "-m", "venv")
    assert venv_line[-1] == opt
    venv = home / "venv"
    subprocess.run([pi_python(), *venv_line[1:-1], str(venv)], check=True, timeout=120)
    pip_install(text, wheel, home, venv, extra, opt)
    return venv


def pip_install(text: str, wheel: Path, home: Path, venv: Path, extra: str, opt: str) -> None:
    """The section's one ``{opt}/bin/pip install`` line, into ``venv``."""
    pip_line = command(text, f"{opt}/bin/pip", "install")
    assert pip_line[2:] == [f"./{wheel.name}[{extra}]"], "the README names another wheel"
    if not (home / wheel.name).exists():
        shutil.copy(wheel, home / wheel.name)
    uv_pip = [str(UV), "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
    done = subprocess.run(
        [*uv_pip, "--offline", *pip_line[2:]], cwd=home, capture_output=True, text=True
    )
    if done.returncode != 0:  # uv's cache lacks a package: fetch it from PyPI
        print(f"offline install failed, going online: {done.stderr[-500:]}")
        subprocess.run([*uv_pip, *pip_line[2:]], cwd=home, check=True, timeout=300)


def test_pi_install_from_the_wheel(wheel: Path, tmp_path: Path) -> None:
    pi = section("Install the daemon on a Raspberry Pi")
    scp = command(pi, "scp")
    assert scp[1] == f"dist/{wheel.name}", "the README copies another wheel than make dist builds"
    started = time.monotonic()
    venv = install(pi, wheel, tmp_path, "daemon")
    print(f"Pi venv with the daemon extra: {time.monotonic() - started:.1f} s")

    init = command(pi, f"{OPT}/bin/beerpi-daemon", "--init-config")
    assert init[2] == "/etc/beerpi/daemon.toml"
    config = tmp_path / "daemon.toml"
    program = str(venv / "bin" / "beerpi-daemon")
    done = subprocess.run([program, init[1], str(config)], check=True, capture_output=True)
    # The hint names the program in full: a venv's bin is not on PATH.
    assert f"  {program} --config {config}\n" in done.stdout.decode()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert 'token = "' in config.read_text()
    with config.open("a") as handle:
        handle.write("\n[camera]\nenabled = false\n")

    port = free_port()
    argv = [str(venv / "bin" / "beerpi-daemon"), "--config", str(config), "--simulate"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--no-zeroconf"]
    argv += ["--data-dir", str(tmp_path / "data")]
    url = f"http://127.0.0.1:{port}/health"
    with running(argv, cwd=tmp_path, ready_url=url):
        health = get_json(url)
    assert health["status"] == "ok"
    assert wheel.name.startswith(f"beerpi-{health['version']}-")
    listed = subprocess.run(
        [str(UV), "pip", "list", "--python", str(venv / "bin" / "python"), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert {"beerpi", "gpiozero", "w1thermsensor"} <= names
    extras = {"pillow", "av", "pymongo", "apprise", "pydantic"}
    assert not names & extras, "a Pi install carries extras"


def test_web_service_from_the_wheel(wheel: Path, tmp_path: Path) -> None:
    web = section("The web service")
    venv = install(web, wheel, tmp_path, "web", WEB_OPT)
    run = command(web, f"{WEB_OPT}/bin/beerpi-web", "--host")
    assert "http://127.0.0.1:8080/" in web
    token_file = tmp_path / "daemon.token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    port = free_port()
    swap = {
        "0.0.0.0": "127.0.0.1",  # loopback only in tests
        "8080": str(port),
        "/etc/beerpi/daemon.token": str(token_file),
    }
    with daemon_process(tmp_path / "daemon") as daemon:
        swap["ws://beerpi.local:8765"] = f"ws://127.0.0.1:{daemon.port}"
        argv = [str(venv / "bin" / "beerpi-web"), *(swap.get(word, word) for word in run[1:])]
        assert not set(swap) & set(argv), "the README's beerpi-web line changed"
        base = f"http://127.0.0.1:{port}"
        with running(argv, cwd=tmp_path, ready_url=f"{base}/health") as service:
            status, content_type, page = get(f"{base}/")
            assert (status, content_type) == (200, "text/html")
            assert "BeerPi" in page
            # --public-read: the readings of the daemon it dialled in to, without a login.
            deadline = time.monotonic() + 30
            devices: list[dict[str, object]] = []
            while not devices and time.monotonic() < deadline:
                devices = [d for d in get_json(f"{base}/api/devices") if d.get("online")]
                time.sleep(0.3)
            assert devices, service.tail(3000)


def test_the_web_extra_on_the_pi_keeps_the_daemons_venv(wheel: Path, tmp_path: Path) -> None:
    # Re-creating the daemon's venv without --system-site-packages would hide apt's
    # lgpio and picamera2 from the daemon: the web section adds to it instead.
    pi, web = section("Install the daemon on a Raspberry Pi"), section("The web service")
    assert command(pi, "python3", "-m", "venv")[1:-1] == ["-m", "venv", "--system-site-packages"]
    web_venvs = [w[-1] for w in commands(web) if "venv" in w and "-m" in w]
    assert OPT not in web_venvs, "the web section re-creates the daemon's venv"
    venv = install(pi, wheel, tmp_path, "daemon")
    pip_install(web, wheel, tmp_path, venv, "daemon,web", OPT)
    config = (venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = true" in config, config
    base_site = subprocess.run(
        [pi_python(), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    seen = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys; print('\\n'.join(sys.path))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert base_site in seen, "the daemon's venv no longer sees the system's packages"
    for program in ("beerpi-daemon", "beerpi-web"):
        done = subprocess.run(
            [str(venv / "bin" / program), "--help"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr[-2000:]
