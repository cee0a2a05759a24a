"""A host that accepts the connection and then says nothing (a Pi that hangs, a proxy
that swallows the upgrade): every client gives up with its own error and keeps trying.

A connect to such a host ends in the websocket library's own TimeoutError, which
python-engineio lets through; it escaped the reconnect loop and ended it for good, so
Home Assistant and the web service never reconnected once the Pi answered again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from beerpi_protocol import BeerPiConnectionError
from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.reconnect import ReconnectLogic
from tests.support.daemon import TOKEN, free_port, running_daemon, sim_config

CONNECT_TIMEOUT_S = 0.5


@contextlib.asynccontextmanager
async def silent_host(port: int) -> AsyncIterator[list[asyncio.StreamWriter]]:
    """Accepts on 127.0.0.1:``port`` and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", port)
    try:
        yield held
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


async def test_a_connect_to_a_silent_host_is_a_connection_error() -> None:
    port = free_port()
    async with silent_host(port) as held:
        client = BeerPiClient("127.0.0.1", port, TOKEN, connect_timeout=CONNECT_TIMEOUT_S)
        with pytest.raises(BeerPiConnectionError):
            async with asyncio.timeout(10):
                await client.connect()
        assert held  # it did reach the host
        await client.disconnect()


async def test_the_reconnect_loop_outlives_a_silent_host_and_connects_once_it_answers(
    tmp_path: Path,
) -> None:
    port = free_port()
    connected = asyncio.Event()

    async def on_connected() -> None:
        connected.set()

    client = BeerPiClient("127.0.0.1", port, TOKEN, connect_timeout=CONNECT_TIMEOUT_S)
    loop = ReconnectLogic(
        client, on_connected=on_connected, min_delay_s=0.05, max_delay_s=0.2, quiet=True
    )
    try:
        async with silent_host(port):
            loop.start()
            async with asyncio.timeout(20):
                while loop.failures < 2:  # noqa: ASYNC110 - the loop announces no failure
                    await asyncio.sleep(0.05)
            assert isinstance(loop.last_error, BeerPiConnectionError)
        async with running_daemon(sim_config(tmp_path / "data", port=port)):
            await asyncio.wait_for(connected.wait(), 20)
            assert client.connected
    finally:
        await loop.stop()
        await client.disconnect()
