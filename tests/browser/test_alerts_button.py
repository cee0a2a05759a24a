"""The current page's "Send test notification" button: needs a login, like the controls,
and the notification reaches a loopback endpoint (Apprise's json:// target)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, expect

from .conftest import Console, web_service
from .test_pages import wait_until

PASSWORD = "hop-and-malt-2026"


@pytest.fixture
def endpoint() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


def test_test_notification_needs_a_login_then_arrives(
    browser: Browser,
    console: Console,
    endpoint: tuple[int, list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    port, received = endpoint
    (tmp_path / "password").write_text(PASSWORD + "\n")
    config = tmp_path / "web.toml"
    config.write_text(
        f'[alerts.targets]\nphone = "json://127.0.0.1:{port}/phone"\n'
        '[[alerts.rules]]\nkind = "fault"\n'
    )
    args = ["--config", str(config), "--user", "brewer", "--password-file"]
    with web_service(tmp_path, *args, str(tmp_path / "password")) as (_, web):
        context = browser.new_context()
        page = context.new_page()
        page.on("console", console.on_message)
        page.on("pageerror", console.on_page_error)
        try:
            page.goto(f"http://127.0.0.1:{web}/")
            expect(page.get_by_role("heading", name="Log in to BeerPi")).to_be_visible()
            # Without the login the service refuses to send, as it refuses control.
            refused = page.request.post(f"http://127.0.0.1:{web}/api/alerts/test", data={})
            assert refused.status == 401
            assert received == []
            page.get_by_label("User name").fill("brewer")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_selector("body[data-ready]")
            expect(page.locator("#alerts-summary")).to_have_text(
                "Alerts go to phone (1 rule, at most 3 per rule and fermenter in 30 min)."
            )
            page.get_by_role("button", name="Send test notification").click()
            expect(page.locator("#alerts-status")).to_have_text("Test notification sent to phone.")
            wait_until(lambda: received, what="the notification")
            assert received[0]["title"] == "BeerPi: test notification"
        finally:
            context.close()
    assert console.errors == [], "\n".join(console.errors)
