"""Where the servers listen unless told otherwise (README: *The web service*, *Install*).

The web service serves the pages on port 8080 of 127.0.0.1 only: `--host 0.0.0.0`
(or `host` in the config) opens them to the LAN. The daemon listens on port 8765
of every interface, for Home Assistant and the web service elsewhere on the LAN.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from beerpi_devtools.harness import Child, ready_url
from pi_daemon.config import load_config
from web_extras.cli import parse


def _health(host: str, port: int) -> int:
    with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=5) as response:
        return int(response.status)


def test_the_web_service_answers_on_loopback_only_by_default(tmp_path: Path) -> None:
    """Started with no --host (only a port, to be free here): 127.0.0.2 finds nobody."""

    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "web_extras", "--port", str(port),
            "--data-dir", str(tmp_path / "web"),
        ]  # fmt: skip

    with Child(command, tmp_path / "web.log", ready=ready_url("/health")) as web:
        assert _health("127.0.0.1", web.port) == 200
        # Another address of this machine (Linux routes all of 127/8 to lo).
        with pytest.raises(urllib.error.URLError) as refused:
            _health("127.0.0.2", web.port)
        assert isinstance(refused.value.reason, ConnectionRefusedError)


def test_the_web_service_defaults_to_port_8080_and_host_opens_it(tmp_path: Path) -> None:
    config, _ = parse(["--data-dir", str(tmp_path)])
    assert (config.host, config.port) == ("127.0.0.1", 8080)
    config, _ = parse(["--data-dir", str(tmp_path), "--host", "0.0.0.0"])
    assert config.host == "0.0.0.0"
    (tmp_path / "web.toml").write_text('host = "0.0.0.0"\n')
    config, _ = parse(["--config", str(tmp_path / "web.toml"), "--data-dir", str(tmp_path)])
    assert (config.host, config.port) == ("0.0.0.0", 8080)


def test_the_daemon_listens_on_port_8765_of_every_interface() -> None:
    config = load_config(None, {"simulate": True, "server.token": "t"})
    assert (config.server.host, config.server.port) == ("0.0.0.0", 8765)
