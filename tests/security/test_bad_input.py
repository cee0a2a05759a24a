"""Class 7 (bad input): no 5xx on malformed requests, CSV that no spreadsheet runs, HSTS.

Deeply nested JSON and dates past the year 9999 used to give 500, a CSV
export kept cells that start with ``=``, ``+``, ``-`` or ``@`` (a spreadsheet
runs them as formulas), and HTTPS answers had no HSTS.
"""

from __future__ import annotations

import csv
import io
import shutil
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.daemon import running_daemon, sim_config
from tests.support.tls import make_cert
from tests.web.service import API_TOKEN, RunningService, running_service, web_config
from web_extras.store import StoredReading

DEVICE = "fermenter"
HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}
NESTED = "[" * 50_000 + "]" * 50_000
DEEP_OBJECT = '{"steps": ' + "[" * 3000 + "]" * 3000 + "}"
BIG_INT = "1" * 5000


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RunningService]:
    async with running_service(web_config(tmp_path / "web", api_token=API_TOKEN)) as running:
        now = datetime.now(UTC)
        await running.store.add_readings(
            [StoredReading(DEVICE, "beer", now - timedelta(minutes=m), 18.0) for m in range(10)]
        )
        await running.hub.load_known()
        yield running


READINGS = f"/api/devices/{DEVICE}/readings"
MALFORMED: list[tuple[str, str, str | None]] = [
    ("POST", f"/api/devices/{DEVICE}/thermostat", NESTED),
    ("PUT", f"/api/devices/{DEVICE}/profile", DEEP_OBJECT),
    ("POST", "/api/login", NESTED),
    ("POST", f"/api/devices/{DEVICE}/thermostat", '{"target": ' + BIG_INT + "}"),
    ("POST", f"/api/devices/{DEVICE}/thermostat", '{"target": 1e999}'),
    ("POST", f"/api/devices/{DEVICE}/video", '{"seconds": -1e999}'),
    ("POST", f"/api/devices/{DEVICE}/relays/heater", '{"on": "yes"}'),
    ("GET", f"{READINGS}?end=0001-01-01T00:00:00Z", None),
    ("GET", f"{READINGS}?start=9999-12-31T23:00:00-05:00", None),
    ("GET", f"{READINGS}?end=9999-12-31T23:59:59-14:00", None),
    ("GET", f"{READINGS}?start=0001-01-01T00:00:00%2B14:00", None),
    ("GET", f"{READINGS}?start=0001-01-01T00:00:00Z&end=9999-12-31T23:59:59Z", None),
    ("GET", f"{READINGS}?buckets={BIG_INT}", None),
    ("GET", f"{READINGS}?buckets=-1", None),
    ("GET", f"{READINGS}.csv?start=0001-01-01T00:00:00Z&end=9999-12-31T23:59:59Z", None),
    ("GET", f"/api/devices/{DEVICE}/events?end=0001-01-01T00:00:00.000001Z", None),
    ("GET", f"/api/devices/{DEVICE}/events?start=2026-13-45T99:00:00Z", None),
    ("GET", f"/api/devices/{DEVICE}/media/..%2F..%2Fetc%2Fpasswd", None),
    ("GET", f"/api/devices/{'x' * 5000}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), MALFORMED, ids=lambda v: str(v)[:60])
async def test_malformed_requests_get_a_clear_4xx_never_a_5xx(
    service: RunningService, method: str, path: str, body: str | None
) -> None:
    headers = {**HEADERS, "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, service.url + path, data=body) as response,
    ):
        text = await response.text()
        assert response.status < 500, (response.status, text[:300])
        # The README: a malformed request gets 400. The whole range a datetime holds is
        # a fine (empty) range, and a device id of 5,000 characters is no device.
        expected = 200 if "0001-01-01T00:00:00Z&end=9999" in path else 400
        expected = 404 if "x" * 100 in path else expected
        assert response.status == expected, (response.status, text[:300])
        if response.status >= 400 and response.content_type == "application/json":
            answer: dict[str, Any] = await response.json()
            assert answer["message"]


FORMULAS = ["=1+2", "+SUM(A1:A9)", "-2+3", "@cmd", "\tx", "\rx", '=HYPERLINK("http://x")']


async def test_csv_cells_never_start_a_formula(service: RunningService) -> None:
    now = datetime.now(UTC)
    # Stored before ids were checked at ingest, say: the export must still be safe.
    await service.store.add_readings(
        [StoredReading(DEVICE, probe, now - timedelta(seconds=i + 1), 20.0) for i, probe in
         enumerate(FORMULAS)]
    )  # fmt: skip
    async with (
        aiohttp.ClientSession(headers=HEADERS) as http,
        http.get(f"{service.url}/api/devices/{DEVICE}/readings.csv") as response,
    ):
        text = await response.text()
    rows = list(csv.reader(io.StringIO(text)))
    probes = {row[1] for row in rows[1:]}
    assert len(probes) == len(FORMULAS) + 1
    for probe in probes - {"beer"}:
        assert probe.startswith("'"), probe
        assert probe[1:] in FORMULAS
    assert {row[0] for row in rows[1:]} == {DEVICE}
    # Numbers stay numbers (a negative temperature is not a formula).
    assert all(float(row[3]) for row in rows[1:])


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
async def test_https_answers_carry_hsts(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path)
    trusting = ssl.create_default_context(cafile=str(cert))
    daemon_config = sim_config(
        tmp_path / "daemon", **{"server.tls_cert": str(cert), "server.tls_key": str(key)}
    )
    web = web_config(tmp_path / "web", tls_cert=str(cert), tls_key=str(key))
    async with (
        running_daemon(daemon_config) as daemon,
        running_service(web, ssl_context=_server_context(cert, key)) as service,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusting)) as http,
    ):
        for url in (
            f"https://127.0.0.1:{daemon.port}/health",
            f"https://127.0.0.1:{service.port}/",
        ):
            async with http.get(url) as response:
                assert response.status == 200, url
                assert response.headers["Strict-Transport-Security"].startswith("max-age="), url


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
