"""SIGTERM while the thermostat heats: exit 0, relays off; the next start begins with them off."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from beerpi_protocol.client import BeerPiClient
from tests.support.daemon import TOKEN, daemon_process, wait_for_state

HEATING = """
[thermostat]
heater_min_off_s = 0
"""


async def test_sigterm_switches_off_and_restart_starts_off(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config = tmp_path / "beerpi.toml"
    config.write_text(HEATING, encoding="utf-8")
    with daemon_process(data_dir, "--config", str(config)) as process:
        client = BeerPiClient("127.0.0.1", process.port, TOKEN)
        await client.connect()
        await client.set_thermostat(mode="heat", target=30.0)  # stored in the data dir
        state = await wait_for_state(client, lambda s: s.relays["heater"].on, 10)
        assert state.relays["heater"].controlled_by == "thermostat"
        code, output = process.terminate(timeout=20)
        await client.disconnect()
    assert code == 0, output
    assert "relays off" in output
    assert TOKEN not in output

    # Same data dir: the thermostat still wants heat (its mode was kept), yet the
    # heater the last run left on starts off.
    with daemon_process(data_dir) as process:
        client = BeerPiClient("127.0.0.1", process.port, TOKEN)
        await client.connect()
        try:
            first = client.state
            assert first is not None
            assert first.thermostat.mode == "heat"
            assert first.relays["heater"].on is False
            assert first.relays["cooler"].on is False
        finally:
            await client.disconnect()
        code, output = process.terminate(timeout=20)
    assert code == 0, output
    assert "relays off" in output


# Every signal the README names besides SIGTERM (spelt out, not read from the daemon's
# STOP_SIGNALS, so that dropping one there fails here).
OTHER_ENDING_SIGNALS = ["SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM"]


@pytest.mark.parametrize("name", OTHER_ENDING_SIGNALS)
async def test_other_ending_signals_also_switch_the_relays_off_first(
    tmp_path: Path, name: str
) -> None:
    """SIGHUP comes when the terminal of a foreground run closes: it killed the daemon
    with the heater on (no shutdown, relays.json still on), like the other signals whose
    default is to end the process."""
    signum = getattr(signal, name)
    data_dir = tmp_path / "data"
    with daemon_process(data_dir) as process:
        client = BeerPiClient("127.0.0.1", process.port, TOKEN)
        await client.connect()
        await client.set_relay("heater", True)
        await wait_for_state(client, lambda s: s.relays["heater"].on, 10)
        await client.disconnect()
        assert process.process is not None
        process.process.send_signal(signum)
        code = process.process.wait(timeout=20)
        output = process.output()
    assert code == 0, output
    assert "relays off; shutting down" in output
    relays = json.loads((data_dir / "relays.json").read_text())["relays"]
    assert relays["heater"]["on"] is False
