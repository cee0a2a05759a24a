"""The daemon as systemd runs it: a process that stops cleanly on SIGTERM."""

from __future__ import annotations

import time
from pathlib import Path

from beerpi_protocol.client import BeerPiClient
from tests.support.daemon import TOKEN, daemon_process


async def test_sigterm_with_a_connected_client_exits_promptly_with_relays_off(
    tmp_path: Path,
) -> None:
    with daemon_process(tmp_path / "data") as process:
        client = BeerPiClient("127.0.0.1", process.port, TOKEN)
        await client.connect()
        await client.set_relay("heater", True)
        started = time.monotonic()
        code, output = process.terminate(timeout=20)
        took_s = time.monotonic() - started
        await client.disconnect()
    assert code == 0
    assert "relays off" in output
    # A client that keeps its socket open must not hold the exit up (systemd waits).
    assert took_s < 10, f"exit took {took_s:.1f} s"
