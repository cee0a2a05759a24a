"""Class 4: cross-site requests (issue 14).

A page on another port of the same host is "same-site" (SameSite cookies
ignore ports), and with no login configured (the demo, a LAN install) any site
may try. Such a page used to switch relays with a ``text/plain`` POST that the
API parsed as JSON, and to open ``/live`` and the daemon's socket.io. Now unsafe
methods need an allowed ``Origin`` and JSON, and both socket.io servers check
``Origin``; programs that send no ``Origin`` (the BeerPi client, Home Assistant,
a daemon dialling out, curl) work as before. Real daemon, real service
processes, Debian's Chromium; the attacker's page is served on another port.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from beerpi_devtools.harness import WebService
from beerpi_protocol.client import BeerPiClient
from tests.browser.conftest import launched_chromium, wait_for_devices
from tests.support.daemon import TOKEN, DaemonProcess, daemon_process
from tests.web.service import (
    service_process,
)

USER, PASSWORD = "brewer", "wort-and-hops-and-yeast"

# Run in the attacker's page: what a hostile web page can do with fetch and WebSocket.
ATTACK = """
async ([service, daemon, device]) => {
  const results = {};
  try {
    await fetch(`${service}/api/devices/${device}/relays/heater`, {
      method: "POST", mode: "no-cors", credentials: "include",
      headers: {"Content-Type": "text/plain"}, body: JSON.stringify({on: true}),
    });
    await fetch(`${service}/api/devices/${device}/thermostat`, {
      method: "POST", mode: "no-cors", credentials: "include",
      body: JSON.stringify({mode: "heat", target: 35}),
    });
    results.posted = true;
  } catch (error) {
    results.posted = String(error);
  }
  const socketOpens = (url, hello) => new Promise((resolve) => {
    const seen = {open: false, messages: []};
    const ws = new WebSocket(url);
    ws.onopen = () => { seen.open = true; if (hello) ws.send(hello); };
    ws.onmessage = (message) => { seen.messages.push(String(message.data)); };
    const done = () => { ws.close(); resolve(seen); };
    ws.onerror = done;
    setTimeout(done, 4000);
  });
  results.live = await socketOpens(
    `${service.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`, "40/live,");
  results.daemon = await socketOpens(
    `${daemon.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`, null);
  return results;
}
"""


class _Blank(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>Totally not evil</title><p>Free hops!"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def attacker() -> Iterator[str]:
    """Another web site on another port of the same host."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Blank)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    with daemon_process(tmp_path_factory.mktemp("cross-site") / "daemon") as running:
        yield running


def _service(
    tmp: Path, daemon: DaemonProcess, *extra: str
) -> contextlib.AbstractContextManager[WebService]:
    return service_process(
        "--data-dir", str(tmp), "--daemon", f"ws://127.0.0.1:{daemon.port}",
        "--daemon-token", TOKEN, *extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def open_service(
    tmp_path_factory: pytest.TempPathFactory, daemon: DaemonProcess
) -> Iterator[WebService]:
    """No login configured: the demo, a LAN install."""
    with _service(tmp_path_factory.mktemp("open"), daemon) as service:
        yield service


@pytest.fixture(scope="module")
def login_service(
    tmp_path_factory: pytest.TempPathFactory, daemon: DaemonProcess
) -> Iterator[WebService]:
    tmp = tmp_path_factory.mktemp("login")
    (tmp / "password").write_text(PASSWORD)
    with _service(
        tmp / "web", daemon, "--user", USER, "--password-file", str(tmp / "password")
    ) as service:
        yield service


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def daemon_state(daemon: DaemonProcess) -> dict[str, Any]:
    """The state as the daemon itself reports it, over its own (protocol 2) link."""

    async def read() -> dict[str, Any]:
        client = BeerPiClient("127.0.0.1", daemon.port, TOKEN)
        await client.connect()
        try:
            return (await client.get_state()).to_dict()
        finally:
            await client.disconnect()

    # Playwright's sync API keeps an event loop on this thread: use another one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, read()).result(timeout=30)


def assert_refused(results: dict[str, Any], daemon: DaemonProcess) -> None:
    state = daemon_state(daemon)
    assert state["relays"]["heater"]["on"] is False, "a page of another site switched the heater"
    assert state["thermostat"]["mode"] == "off", "a page of another site set the thermostat"
    live = results["live"]
    assert not live["open"], f"/live opened from another site: {live}"
    assert not live["messages"], f"/live answered another site: {live}"
    daemon_socket = results["daemon"]
    assert not daemon_socket["open"], "the daemon's socket.io opened from another site"


@pytest.mark.browser
@pytest.mark.parametrize("logged_in", [False, True], ids=["no-login", "logged-in"])
def test_a_page_of_another_site_cannot_steer_the_beer(
    chromium: Any,
    attacker: str,
    daemon: DaemonProcess,
    open_service: WebService,
    login_service: WebService,
    logged_in: bool,
) -> None:
    service = login_service if logged_in else open_service
    (device,) = (
        wait_for_devices(service.port) if not logged_in else wait_for_devices(open_service.port)
    )
    context = chromium.new_context()
    page = context.new_page()
    try:
        if logged_in:
            # The brewer is logged in: SameSite=Strict still sends the cookie to a
            # page on another port of the same host.
            page.goto(f"{service.url}/")
            status = page.evaluate(
                """async ([user, password]) => (await fetch("api/login", {method: "POST",
                    headers: {"Content-Type": "application/json"},
                    body: JSON.stringify({username: user, password})})).status""",
                [USER, PASSWORD],
            )
            assert status == 200
        page.goto(f"{attacker}/")
        results = page.evaluate(ATTACK, [service.url, f"http://127.0.0.1:{daemon.port}", device])
    finally:
        context.close()
    assert_refused(results, daemon)


@pytest.mark.browser
def test_the_pages_own_requests_still_work(
    chromium: Any, daemon: DaemonProcess, open_service: WebService
) -> None:
    """Same origin: the page's fetch and /live are accepted (Origin and JSON as expected)."""
    (device,) = wait_for_devices(open_service.port)
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.goto(f"{open_service.url}/")
        page.wait_for_selector("body[data-ready]")
        page.wait_for_selector("#live-status[data-mode=live]")
        status = page.evaluate(
            """async (device) => (await fetch(`api/devices/${device}/thermostat`, {
                method: "POST", headers: {"Content-Type": "application/json"},
                body: JSON.stringify({mode: "off"})})).status""",
            device,
        )
        assert status == 200
    finally:
        context.close()
