"""Class 7 (secrets): strong tokens, kept off command lines; ``--public-read`` shows only readings.

Any token length used to be accepted, the example config's placeholder too;
tokens were passed on command lines (every local user sees those in ``ps``);
and ``--public-read`` also exposed photos, fault messages and the version.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.models import DeviceInfo, FaultInfo, MediaInfo, State
from tests.support.daemon import free_port
from tests.web.service import API_TOKEN, live_client, running_service, wait_until, web_config
from web_extras.store import Event, EventKind, MediaKind, StoredReading
from web_extras.store import MediaInfo as StoredMedia

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
for name in ("BEERPI_TOKEN", "BEERPI_API_TOKEN", "BEERPI_DAEMON_TOKEN", "BEERPI_SERVER_TOKEN"):
    ENV.pop(name, None)
# The old demo token and the example config's old placeholder.
WEAK = ["beerpi-demo", "change-me-to-a-long-random-secret"]
# --token T, --api-token T, ... (the --*-token-file options are fine).
SECRET_OPTION = re.compile(r"--[a-z-]*token(?!s?-file)\b|--password(?!-file)\b")


def daemon_args(tmp: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "pi_daemon", "--simulate", "--host", "127.0.0.1",
        "--port", str(port), "--data-dir", str(tmp / "daemon"), "--no-zeroconf",
    ]  # fmt: skip


def web_args(tmp: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "web_extras", "--host", "127.0.0.1", "--port", str(port),
        "--data-dir", str(tmp / "web"),
    ]  # fmt: skip


def refused(command: Sequence[str], env: dict[str, str] | None = None) -> str:
    """Run a server that must refuse to start; its message (stderr)."""
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=30, cwd=ROOT, env=env or ENV
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"started with a weak secret: {' '.join(command)}")
    assert result.returncode == 2, result.stdout + result.stderr
    return result.stderr


@pytest.mark.parametrize("token", WEAK)
def test_weak_tokens_are_refused_at_start_with_a_clear_message(tmp_path: Path, token: str) -> None:
    port = free_port()
    for command in (
        [*daemon_args(tmp_path, port), "--token", token],
        [*web_args(tmp_path, port), "--api-token", token],
        [*web_args(tmp_path, port), "--daemon", "ws://127.0.0.1:1", "--daemon-token", token],
        [*web_args(tmp_path, port), "--device-token", f"pi-1={token}"],
        [
            *daemon_args(tmp_path, port), "--token", secrets.token_hex(16),
            "--server", "http://127.0.0.1:1", "--server-token", token,
        ],
    ):  # fmt: skip
        message = refused(command)
        assert "too weak" in message, message
        assert "secrets.token_urlsafe" in message  # and how to make a good one
        assert token not in message.split("Generate")[0]  # a refused secret is not echoed


@contextmanager
def running(command: list[str], ready: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        for line in process.stdout:
            lines.append(line)
            if ready in line:
                break
            if time.monotonic() > deadline:
                break
        else:
            pytest.fail(f"did not start: {''.join(lines)}")
        yield process
    finally:
        process.terminate()
        process.wait(20)


def command_line_of(process: subprocess.Popen[str]) -> str:
    """What `ps` shows every local user."""
    return Path(f"/proc/{process.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


async def test_tokens_come_from_files_or_the_environment(tmp_path: Path) -> None:
    token = secrets.token_hex(16)
    token_file = tmp_path / "daemon.token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    api_token = secrets.token_hex(16)
    for how in ("file", "environment"):
        port, web_port = free_port(), free_port()
        env = dict(ENV)
        daemon_cmd = daemon_args(tmp_path / how, port)
        web_cmd = [*web_args(tmp_path / how, web_port), "--daemon", f"ws://127.0.0.1:{port}"]
        if how == "file":
            daemon_cmd += ["--token-file", str(token_file)]
            api_file = tmp_path / "api.token"
            api_file.write_text(api_token)
            web_cmd += ["--daemon-token-file", str(token_file), "--api-token-file", str(api_file)]
        else:
            env.update(BEERPI_TOKEN=token, BEERPI_DAEMON_TOKEN=token, BEERPI_API_TOKEN=api_token)
        with (
            running(daemon_cmd, "BeerPi daemon ready", env) as daemon,
            running(web_cmd, "BeerPi web service on", env) as web,
        ):
            for process in (daemon, web):
                assert token not in command_line_of(process)
                assert api_token not in command_line_of(process)
            client = BeerPiClient("127.0.0.1", port, token)
            await client.connect()
            await client.disconnect()
            headers = {"Authorization": f"Bearer {api_token}"}
            async with aiohttp.ClientSession(headers=headers) as http:

                async def linked(url: str = f"http://127.0.0.1:{web_port}/api/devices") -> bool:
                    try:
                        async with http.get(url) as response:
                            devices = await response.json() if response.status == 200 else []
                    except aiohttp.ClientConnectionError:
                        return False  # still starting
                    return any(d["online"] for d in devices)

                await wait_until(linked, timeout_s=30)


@pytest.mark.parametrize(
    "token",
    ["short-token", "aaaaaaaaaaaaaaaaaaaaaaaa", "0123456789abcdefghij", "changeme-please-now-123"],
)
def test_the_strength_rule_refuses_short_repetitive_and_placeholder_tokens(token: str) -> None:
    from beerpi_guard.tokens import token_problem

    assert token_problem(token) is not None
    for _ in range(1000):  # what the docs tell people to run always passes
        assert token_problem(secrets.token_urlsafe(24)) is None


def test_readme_and_deploy_examples_keep_secrets_off_command_lines() -> None:
    readme = (ROOT / "README.md").read_text()
    # Every fenced block with its language (a closing fence must never open the next one).
    fenced = re.findall(r"^ *```(\w*)\n(.*?)^ *```", readme, re.S | re.M)
    blocks = [text for lang, text in fenced if lang in ("", "sh", "bash", "console")]
    assert blocks, "the README shows no shell commands"
    inline = re.findall(r"`(beerpi-(?:daemon|web) [^`]*)`", readme)
    for text in [*blocks, *inline]:
        assert not SECRET_OPTION.search(text), text
    for unit in (ROOT / "deploy").glob("*.service"):
        exec_lines = [line for line in unit.read_text().splitlines() if "ExecStart" in line]
        assert not any(SECRET_OPTION.search(line) for line in exec_lines), unit.name
    for example in (ROOT / "deploy").glob("*.toml"):
        # Secrets are files the config names, not values in it.
        values = re.findall(r'^\s*(?:token|api_token)\s*=\s*"', example.read_text(), re.M)
        assert not values, example.name


def test_make_demo_starts_with_a_strong_token_and_says_how_to_connect(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "scripts.demo", "--data-dir", str(tmp_path / "demo"),
            "--seconds", "2", "--daemon-port", str(free_port()), "--web-port", str(free_port()),
        ],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "BeerPi demo is running" in result.stdout
    shown = re.search(r"Its token:\s+(\S+)", result.stdout)
    assert shown is not None, result.stdout
    assert shown.group(1) == (tmp_path / "demo" / "token").read_text().strip()
    assert (tmp_path / "demo" / "token").stat().st_mode & 0o077 == 0
    assert "Home Assistant" in result.stdout
    # A brew session in the simulated fermenter, its OG the simulated wort's.
    assert "Brew session:               Demo Pale Ale, OG 1.050, started now" in result.stdout


class _Link:
    kind = "dial-in"


async def test_public_read_shows_readings_and_live_state_only(tmp_path: Path) -> None:
    device = "fermenter"
    now = datetime.now(UTC)
    config = web_config(tmp_path / "web", api_token=API_TOKEN, public_read=True)
    async with running_service(config) as service, aiohttp.ClientSession() as anonymous:
        store = service.store
        await store.add_readings([StoredReading(device, "beer", now - timedelta(minutes=1), 19.5)])
        fault = FaultInfo(source="beer", code=None, message="read /sys/bus/w1/... failed")
        await store.add_event(Event(device, now, EventKind.FAULT_RAISED, fault.to_dict()))
        photo = StoredMedia(device, "p1", now, MediaKind.PHOTO, "image/jpeg", 10, "/x")
        await store.add_media(photo)
        info = DeviceInfo(id=device, name="Fermenter", sw_version="0.1.0", protocol_version="1.0")
        await service.hub.attach(device, _Link(), info)
        state = State(faults=(fault,), latest_photo=MediaInfo(id="p1"))
        await service.hub.set_state(device, state)

        base = f"{service.url}/api/devices/{device}"
        async with anonymous.get(f"{base}/readings") as response:
            assert response.status == 200
            assert (await response.json())["probes"]["beer"]
        async with anonymous.get(base) as response:
            entry = await response.json()
        assert (
            entry["state"]["faults"][0]["code"] is None or "message" in entry["state"]["faults"][0]
        )
        assert entry["state"]["faults"][0]["message"] == ""
        assert entry["state"]["latest_photo"] is None
        assert entry["device"]["sw_version"] == entry["device"]["protocol_version"] == ""
        async with anonymous.get(f"{base}/events") as response:
            events = await response.json()
        assert events
        assert all("message" not in e["data"] for e in events)
        for path in ("/media", "/media/p1"):
            async with anonymous.get(base + path) as response:
                assert response.status == 401, path
        async with anonymous.get(f"{service.url}/health") as response:
            assert "version" not in await response.text()

        # /live: the same rule for the pushes.
        async with live_client(service.url) as (_sio, got):
            await wait_until(lambda: got)
            await service.hub.set_state(device, state)
            await wait_until(lambda: any(e == "state" for e, _ in got))
        pushed = [d for e, d in got if e in ("devices", "state")]
        assert "0.1.0" not in str(pushed)
        assert "failed" not in str(pushed)

        # With the token: everything.
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        async with anonymous.get(base, headers=headers) as response:
            entry = await response.json()
        assert entry["state"]["faults"][0]["message"] == fault.message
        assert entry["device"]["sw_version"] == "0.1.0"
