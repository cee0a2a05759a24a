"""The README's "Try it without a Pi" and "From Python", run as written on loopback.

The commands come from the README itself, so the test breaks when the README
drifts; only the port (a free one), the data dir (the test's) and zeroconf
(off: nothing leaves loopback) are changed.
"""

from __future__ import annotations

import asyncio
import re
import stat
import subprocess
import sys
from pathlib import Path

from beerpi_protocol.client import BeerPiClient
from tests.install.process import free_port, get_json, running
from tests.install.readme import README, blocks, command, line, section

# The programs of the environment running the tests (.venv, or .venv311 in test-311).
BIN = Path(sys.executable).parent


def test_every_python_block_in_the_readme_compiles() -> None:
    snippets = blocks(README.read_text(), "python")
    assert snippets, "the README has no Python block"
    for number, snippet in enumerate(snippets, 1):
        # Without PyCF_ALLOW_TOP_LEVEL_AWAIT a bare `await` is a SyntaxError here.
        compile(snippet, f"README.md python block {number}", "exec")


def test_try_it_then_the_python_snippet(tmp_path: Path) -> None:
    try_it = section("Try it without a Pi")
    assert command(try_it, "make", "env")
    subprocess.run(["bash", "-c", line(try_it, "> token")], cwd=tmp_path, check=True)
    token_file = tmp_path / "token"
    token = token_file.read_text().strip()
    assert len(token) >= 32
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    daemon = command(try_it, ".venv/bin/beerpi-daemon")
    assert daemon[daemon.index("--host") + 1] == "127.0.0.1"
    data = daemon.index("--data-dir") + 1
    daemon[data] = str(tmp_path / "data")
    port = free_port()
    argv = [str(BIN / "beerpi-daemon"), *daemon[1:], "--port", str(port), "--no-zeroconf"]

    health_url = re.search(r"curl (http://127\.0\.0\.1:8765/health)", try_it)
    assert health_url, "Try it names no /health address"
    url = health_url.group(1).replace("8765", str(port))
    with running(argv, cwd=tmp_path, ready_url=url) as daemon_run:
        assert get_json(url)["status"] == "ok"

        snippets = blocks(section("From Python"), "python")
        assert len(snippets) == 1
        assert '"127.0.0.1", 8765' in snippets[0]
        (tmp_path / "show.py").write_text(snippets[0].replace("8765", str(port)))
        result = subprocess.run(
            [sys.executable, "show.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        printed = {}
        for out_line in result.stdout.splitlines():
            _name, probe, temperature = out_line.rsplit(" ", 2)
            printed[probe] = float(temperature)
        assert set(printed) == {"beer", "fridge"}
        assert all(0 < t < 40 for t in printed.values()), printed

        async def thermostat() -> tuple[object, object]:
            client = BeerPiClient("127.0.0.1", port, token)
            state = (await client.connect(), await client.get_state())[1]
            await client.disconnect()
            return state.thermostat.mode, state.thermostat.target

        mode, target = asyncio.run(thermostat())
        assert (mode, target) == ("heat_cool", 19.0), daemon_run.tail()
