"""docs/protocol.md, versioning: what the real client does facing another major version.

A client refuses a daemon of another major version; a protocol 2 daemon refuses a
client of another major version with ``protocol_mismatch``; a protocol 1 daemon
refuses a protocol 2 client (no token) as ``unauthorized``, which the client reports
as "the daemon speaks protocol 1.x", not as a wrong token. Real daemon on loopback,
real client; the protocol 1 daemon is a python-socketio server that wants a token.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import socketio
from aiohttp import web

from beerpi_protocol.auth import Initiator
from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.errors import BeerPiProtocolVersionError
from tests.support.daemon import free_port, running_daemon, sim_config


async def test_a_client_refuses_a_daemon_of_another_major_version(tmp_path: Path) -> None:
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        daemon = running.daemon
        daemon.device = dataclasses.replace(daemon.device, protocol_version="3.0")
        client = running.client()
        with pytest.raises(BeerPiProtocolVersionError) as caught:
            await client.connect()
        assert (caught.value.daemon_version, caught.value.client_version) == ("3.0", "2.2")
        assert client.connected is False
        # A newer minor of the same major is spoken to.
        daemon.device = dataclasses.replace(daemon.device, protocol_version="2.9")
        client = running.client()
        await client.connect()
        assert client.connected is True
        await client.disconnect()


async def test_a_daemon_refusing_the_clients_major_version_is_a_version_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def speaks_3(self: Initiator) -> dict[str, str]:
        return {"protocol": "3.0", "nonce": self.nonce}

    monkeypatch.setattr(Initiator, "connect_auth", speaks_3)
    async with running_daemon(sim_config(tmp_path / "data")) as running:
        client = running.client()
        with pytest.raises(BeerPiProtocolVersionError) as caught:
            await client.connect()
        assert caught.value.daemon_version == "2.2"
        assert client.connected is False


async def test_a_protocol_1_daemon_is_reported_as_one_not_as_a_wrong_token() -> None:
    seen: list[Any] = []
    sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False)

    async def connect(sid: str, environ: object, auth: object = None) -> None:
        seen.append(auth)
        if not (isinstance(auth, dict) and auth.get("token") == "secret-token"):
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")

    sio.on("connect", connect)
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        client = BeerPiClient("127.0.0.1", port, "secret-token", connect_timeout=5)
        with pytest.raises(BeerPiProtocolVersionError) as caught:
            await client.connect()
        assert caught.value.daemon_version == "1.x"
        assert client.connected is False
        # It asked with a nonce, and the token went nowhere.
        assert len(seen) == 1
        assert set(seen[0]) == {"protocol", "nonce"}
        assert "secret-token" not in repr(seen)
    finally:
        await sio.shutdown()
        await runner.cleanup()
