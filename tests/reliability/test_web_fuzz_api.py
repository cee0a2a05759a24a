"""Schemathesis over the service's own OpenAPI file, against the real service.

The service runs as a process on loopback with a dial-in link to a simulated
daemon, so control calls reach a real daemon (and its refusals come back).
Every operation gets valid (positive) and invalid (negative) cases, once for
any device id and once for the linked device's id, with the API token; then
every control operation once more with a wrong token. Checked on each answer:
no 5xx other than the documented 503 of an offline device, status code,
content type and body as the OpenAPI file says, and every error body is
``{"error": CODE, "message": TEXT}``. The service's log of the whole run,
refused attempts included, holds no credential.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from beerpi_devtools.harness import WebService
from tests.support.daemon import TOKEN, daemon_process, free_port

API_TOKEN = "fuzz-api-token-0123456789"
PASSWORD = "fuzz correct horse battery"
OPENAPI = Path(__file__).resolve().parents[2] / "web_extras" / "openapi.json"
# Cases per operation, per generation mode, per device-id choice: bounded.
EXAMPLES = 12
CONTROL_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class Fuzzed:
    web: WebService
    device: str
    session: requests.Session

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(
            urllib.request.Request(
                self.web.url + path, headers={"Authorization": f"Bearer {API_TOKEN}"}
            ),
            timeout=10,
        ) as answer:
            return json.loads(answer.read())


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    root = tmp_path_factory.mktemp("fuzz-api")
    password = root / "password"
    password.write_text(PASSWORD + "\n")
    with daemon_process(root / "daemon", "--record-interval", "1") as daemon:
        web = WebService(
            free_port(),
            [
                "--data-dir",
                str(root / "web"),
                "--daemon",
                f"ws://127.0.0.1:{daemon.port}",
                "--daemon-token",
                TOKEN,
                "--api-token",
                API_TOKEN,
                "--user",
                "brewer",
                "--password-file",
                str(password),
                "--log-level",
                "DEBUG",
            ],
            root / "web.log",
        )
        web.start()
        try:
            device = json.loads((root / "daemon" / "device.json").read_text())["id"]
            with requests.Session() as session:
                fuzzed = Fuzzed(web, device, session)
                deadline = time.monotonic() + 20
                while not any(d["online"] for d in fuzzed.get("/api/devices")):
                    assert time.monotonic() < deadline, web.log_text()
                    time.sleep(0.1)
                yield fuzzed
        finally:
            web.stop()


def error_body_is_clear(response: Any) -> None:
    """``response``: a schemathesis Response (headers lower-cased, values in lists)."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])
    assert content_type[0].startswith("application/json"), (
        response.status_code,
        response.text[:200],
    )
    body = json.loads(response.text)
    assert isinstance(body, dict)
    assert set(body) == {"error", "message"}, body
    assert isinstance(body["error"], str)
    assert body["error"]
    assert isinstance(body["message"], str)
    assert body["message"]


def run_operation(
    fuzzed: Fuzzed,
    operation: Any,
    mode: GenerationMode,
    headers: dict[str, str],
    statuses: Counter[int],
    *,
    path_parameters: dict[str, str] | None = None,
    examples: int = EXAMPLES,
) -> int:
    """Fuzz one operation; returns how many cases ran."""
    ran = 0
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def one(case: schemathesis.Case) -> None:
        nonlocal ran
        ran += 1
        merged = {**(case.headers or {}), **headers}
        response = case.call(base_url=fuzzed.web.url, session=fuzzed.session, headers=merged)
        statuses[response.status_code] += 1
        where = f"{case.method} {case.formatted_path} -> {response.status_code}"
        # 503 is documented: the daemon went away, or its media stay on the Pi.
        assert response.status_code < 500 or response.status_code == 503, (
            where,
            response.text[:300],
        )
        error_body_is_clear(response)
        if mode is GenerationMode.POSITIVE or response.status_code < 400:
            # Negative cases may be refused with any 4xx the schema lists; positive
            # ones and every success must match the schema exactly.
            case.validate_response(response, checks=CHECKS, headers=merged)
        else:
            case.validate_response(
                response, checks=[content_type_conformance, status_code_conformance]
            )

    try:
        one()
    except Unsatisfiable:
        # No parameter or body to get wrong (GET /health): no negative case exists.
        assert mode is GenerationMode.NEGATIVE
    return ran


def operations() -> list[Any]:
    schema = schemathesis.openapi.from_path(str(OPENAPI))
    return [result.ok() for result in schema.get_all_operations()]


def test_schemathesis_over_the_openapi(fuzzed: Fuzzed) -> None:
    good = {"Authorization": f"Bearer {API_TOKEN}"}
    statuses: Counter[int] = Counter()
    cases = 0
    ops = operations()
    for operation in ops:
        has_id = any(p.name == "id" for p in operation.path_parameters)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            cases += run_operation(fuzzed, operation, mode, good, statuses)
            if has_id and mode is GenerationMode.POSITIVE:
                cases += run_operation(
                    fuzzed, operation, mode, good, statuses, path_parameters={"id": fuzzed.device}
                )
    # The service is still up and the daemon still linked.
    assert any(d["online"] for d in fuzzed.get("/api/devices"))
    print(f"\nschemathesis: {len(ops)} operations, {cases} cases, statuses {dict(statuses)}")
    assert cases >= len(ops) * EXAMPLES
    assert 200 in statuses


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token-0123456789", f"Bearer {API_TOKEN}x", f"Basic {API_TOKEN}"],
)
def test_every_control_operation_refuses_a_wrong_credential(
    fuzzed: Fuzzed, header: str | None
) -> None:
    """Every POST/PUT/DELETE of the OpenAPI file, fuzzed bodies, linked device: always 401."""
    headers = {} if header is None else {"Authorization": header}
    heater_before = fuzzed.get(f"/api/devices/{fuzzed.device}")["state"]["relays"]
    cases = 0
    for operation in operations():
        if operation.method.upper() not in CONTROL_METHODS or operation.path in (
            "/api/login",
            "/api/logout",
        ):
            continue
        ids = {"id": fuzzed.device} if "{id}" in operation.path else None
        strategy = operation.as_strategy(path_parameters=ids)

        @settings(
            max_examples=4,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def refused(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            merged = {k: v for k, v in (case.headers or {}).items() if k != "Authorization"}
            merged.update(headers)
            response = case.call(base_url=fuzzed.web.url, session=fuzzed.session, headers=merged)
            assert response.status_code == 401, (case.method, case.formatted_path)
            assert response.json()["error"] == "unauthorized"

        refused()
    assert cases >= 7 * 4
    after = fuzzed.get(f"/api/devices/{fuzzed.device}")["state"]["relays"]
    assert {k: v["on"] for k, v in after.items()} == {k: v["on"] for k, v in heater_before.items()}


def test_no_credential_in_the_log(fuzzed: Fuzzed) -> None:
    """After the fuzz and the refused attempts (the module's other tests), and a bad login."""
    answer = fuzzed.session.post(
        fuzzed.web.url + "/api/login", json={"username": "brewer", "password": PASSWORD + "x"}
    )
    assert answer.status_code == 401
    log = fuzzed.web.log_text()
    assert log
    for secret in (API_TOKEN, PASSWORD, TOKEN, API_TOKEN[:12], PASSWORD + "x"):
        assert secret not in log
