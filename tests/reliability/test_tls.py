"""HTTPS/WSS with a self-signed certificate: a client that trusts it works, others are refused."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from beerpi_protocol import BeerPiAuthError, BeerPiConnectionError
from beerpi_protocol.client import BeerPiClient
from tests.support.daemon import TOKEN, RunningDaemon, running_daemon, sim_config
from tests.support.tls import make_cert

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.fixture
async def tls_daemon(tmp_path: Path) -> AsyncIterator[tuple[RunningDaemon, Path]]:
    cert, key = make_cert(tmp_path)
    config = sim_config(
        tmp_path / "data", **{"server.tls_cert": str(cert), "server.tls_key": str(key)}
    )
    async with running_daemon(config) as running:
        yield running, cert


def trusting(cert: Path) -> aiohttp.ClientSession:
    """What a user does with a self-signed daemon: trust exactly its certificate."""
    context = ssl.create_default_context(cafile=str(cert))
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))


async def test_a_client_that_trusts_the_cert_talks_over_wss_and_https(
    tls_daemon: tuple[RunningDaemon, Path],
) -> None:
    running, cert = tls_daemon
    async with trusting(cert) as session:
        client = BeerPiClient("127.0.0.1", running.port, TOKEN, session=session, use_ssl=True)
        assert client.base_url.startswith("https://")
        device = await client.connect()
        try:
            assert device.id == running.daemon.device.id
            await client.set_relay("heater", True)
            assert running.daemon.hardware.relays["heater"].is_on
            body, content_type = await client.fetch("/api/state")
            assert content_type == "application/json"
            assert b'"heater"' in body
        finally:
            await client.disconnect()
        # TLS does not replace the token.
        wrong = BeerPiClient("127.0.0.1", running.port, "wrong", session=session, use_ssl=True)
        with pytest.raises(BeerPiAuthError):
            await wrong.connect()


async def test_a_client_that_does_not_trust_the_cert_is_refused(
    tls_daemon: tuple[RunningDaemon, Path],
) -> None:
    running, _cert = tls_daemon
    async with aiohttp.ClientSession() as session:
        client = BeerPiClient("127.0.0.1", running.port, TOKEN, session=session, use_ssl=True)
        with pytest.raises(BeerPiConnectionError):
            await client.connect()
        assert client.device is None
        with pytest.raises(aiohttp.ClientConnectorCertificateError) as caught:
            await session.get(f"https://127.0.0.1:{running.port}/health")
        assert "certificate verify failed" in str(caught.value)
    # No plaintext fallback on the TLS port.
    async with aiohttp.ClientSession() as session:
        client = BeerPiClient("127.0.0.1", running.port, TOKEN, session=session)
        with pytest.raises(BeerPiConnectionError):
            await client.connect()
    assert running.daemon.hardware.relays["heater"].is_on is False


async def test_a_cert_for_another_host_is_refused(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path, ip="192.0.2.1")
    config = sim_config(
        tmp_path / "data", **{"server.tls_cert": str(cert), "server.tls_key": str(key)}
    )
    async with running_daemon(config) as running, trusting(cert) as session:
        # Trusted issuer, but the certificate names 192.0.2.1, not the daemon's address.
        with pytest.raises(aiohttp.ClientConnectorCertificateError) as caught:
            await session.get(f"https://127.0.0.1:{running.port}/health")
        assert "IP address mismatch" in str(caught.value)
