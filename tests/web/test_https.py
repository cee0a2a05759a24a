"""The web service over HTTPS, and dialling in to a daemon over WSS with its own certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.daemon import TOKEN, free_port, running_daemon, sim_config
from tests.support.tls import make_cert
from tests.web.service import running_service, wait_until, web_config

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
ROOT = Path(__file__).resolve().parents[2]


async def test_the_service_serves_https_to_clients_that_trust_it(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path)
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220 - the service under test, not awaited work
        [
            sys.executable, "-m", "web_extras", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(tmp_path / "web"), "--tls-cert", str(cert), "--tls-key", str(key),
        ],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        trusting = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=str(cert)))
        async with aiohttp.ClientSession(connector=trusting) as http:

            async def healthy() -> bool:
                try:
                    async with http.get(f"https://127.0.0.1:{port}/health") as response:
                        return response.status == 200
                except aiohttp.ClientConnectorError:
                    return False

            await wait_until(healthy)
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await http.get(f"https://127.0.0.1:{port}/health")
            with pytest.raises(aiohttp.ClientError):
                await http.get(f"http://127.0.0.1:{port}/health")
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_dial_in_over_wss_trusts_the_daemons_certificate(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path)
    daemon_config = sim_config(
        tmp_path / "daemon",
        **{
            "server.tls_cert": str(cert),
            "server.tls_key": str(key),
            "storage.record_interval_s": 0.3,
        },
    )
    async with running_daemon(daemon_config) as daemon:
        link = {"url": f"wss://127.0.0.1:{daemon.port}", "token": TOKEN, "ca_file": str(cert)}
        async with running_service(web_config(tmp_path / "web", daemons=[link])) as service:
            device = daemon.daemon.device.id
            await wait_until(lambda: service.store.count(device=device))
            assert service.hub.find(device).online


def test_a_certificate_that_cannot_load_is_a_clear_start_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    result = subprocess.run(
        [
            sys.executable, "-m", "web_extras", "--port", str(free_port()),
            "--data-dir", str(tmp_path / "web"), "--tls-cert", str(missing),
            "--tls-key", str(missing),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot load TLS certificate" in result.stderr
