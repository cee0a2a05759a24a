"""Browser tests: Debian's Chromium, driven headless by Playwright, against the
real web service (``python -m web_extras``) linked to a real simulated daemon.

``playwright install`` cannot download a browser here, so the tests use
``/usr/bin/chromium`` (Debian's ``chromium`` package, listed in
.ci/apt-packages.txt). Without it, or without the ``playwright`` package, the
tests are skipped and say why. Screenshots go to tests/artifacts/ (not committed).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from beerpi_devtools.browser import CHROMIUM_ARGS
from beerpi_devtools.harness import WebService
from beerpi_protocol.client import BeerPiClient
from tests.support.daemon import TOKEN, DaemonProcess, daemon_process

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# The simulated fermenter runs 600 times faster than real time: an hour of
# readings (one a minute per probe) arrives in six seconds.
SIM_ARGS = ("--sim-speed", "600", "--record-interval", "60")

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Route


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if sync_playwright is None:
        return "browser tests need the 'playwright' Python package (dev group: make env)"
    if not CHROMIUM.exists():
        return (
            "browser tests need Debian's Chromium at /usr/bin/chromium "
            "(apt-get install chromium; CI installs it from .ci/apt-packages.txt)"
        )
    return None


def get_json(url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def send_json(url: str, method: str, body: Any = None) -> Any:
    """A JSON request to the service, as another browser or a script would send it."""
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read()
    return json.loads(text) if text else None


def hold_gets(page: Page, url: str | re.Pattern[str], *, as_now: bool = False) -> list[Any]:
    """Holds the page's GETs of ``url`` to be answered later (other methods go through):
    each as its route, or with ``as_now`` as (route, the answer fetched now), an answer
    from before whatever the test changes meanwhile."""
    held: list[Any] = []

    def hold(route: Route) -> None:
        if route.request.method != "GET":
            route.continue_()
        else:
            held.append((route, route.fetch()) if as_now else route)

    page.route(url, hold)
    return held


def wait_for_held(page: Page, held: Sized, count: int = 1, timeout_s: float = 15) -> None:
    """Until ``count`` requests are in ``held`` (appended by a ``page.route`` handler).

    The page sends a request at once, but Playwright's sync API calls the route's
    handler only while the test waits in one of its calls: a plain ``assert held``
    may run first. This waits in the page, so the handler gets its turn.
    """
    deadline = time.monotonic() + timeout_s
    while len(held) < count:
        assert time.monotonic() < deadline, f"{len(held)} of {count} requests held"
        page.wait_for_timeout(20)


@dataclass
class Stack:
    daemon: DaemonProcess
    web: subprocess.Popen[bytes]
    web_port: int
    device_id: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def daemon_state(self) -> dict[str, Any]:
        """The relay and probe state as the daemon itself reports it (over its own link)."""
        state: dict[str, Any] = self.daemon_request("get_state")["state"]
        return state

    def daemon_request(self, name: str, **payload: Any) -> dict[str, Any]:
        """One socket.io request to the daemon (e.g. ``simulate``), from its own client."""

        async def call() -> dict[str, Any]:
            client = BeerPiClient("127.0.0.1", self.daemon.port, TOKEN)
            await client.connect()
            try:
                return await client.call(name, payload)
            finally:
                await client.disconnect()

        # Playwright's sync API keeps an event loop on this thread: use another one.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, call()).result(timeout=30)


@contextlib.contextmanager
def web_service(tmp: Path, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``python -m web_extras`` (the beerpi-web CLI) on a free port, stopped at exit."""
    options = ["--data-dir", str(tmp / "web"), "--log-level", "WARNING", *args]
    with WebService(None, options, tmp / "web.log") as web:
        assert web.process is not None
        yield web.process, web.port


def wait_for_devices(port: int, count: int = 1) -> list[str]:
    """Ids of the devices online in the service, once ``count`` of them are."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        devices = get_json(f"http://127.0.0.1:{port}/api/devices")
        online = [str(d["id"]) for d in devices if d.get("online") and d.get("state")]
        if len(online) >= count:
            return online
        time.sleep(0.2)
    raise TimeoutError(f"fewer than {count} devices came online in the web service")


@contextlib.contextmanager
def beside_the_stack(stack: Stack, tmp: Path, second_port: int) -> Iterator[tuple[int, str]]:
    """A web service of its own for the stack's daemon and a second one on ``second_port``.

    Yields the service's port and the second daemon's device id, once both are online.
    """
    with web_service(
        tmp,
        "--db",
        str(tmp / "history.sqlite"),
        "--daemon",
        f"ws://127.0.0.1:{stack.daemon.port}",
        "--daemon",
        f"ws://127.0.0.1:{second_port}",
        "--daemon-token",
        TOKEN,
    ) as (_, port):
        devices = wait_for_devices(port, 2)
        yield port, next(device for device in devices if device != stack.device_id)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("browser")
    with (
        daemon_process(tmp / "daemon", *SIM_ARGS) as daemon,
        web_service(
            tmp,
            "--db",
            str(tmp / "history.sqlite"),
            "--daemon",
            f"ws://127.0.0.1:{daemon.port}",
            "--daemon-token",
            TOKEN,
        ) as (web, port),
    ):
        (device_id,) = wait_for_devices(port)
        # Let some history build up for the trend page (about 2 h of sim time).
        time.sleep(12)
        yield Stack(daemon, web, port, device_id)


@contextlib.contextmanager
def launched_chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (CHROMIUM_ARGS), closed after; skips when it cannot run."""
    if reason := browser_missing():
        pytest.skip(reason)
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with launched_chromium() as browser:
        from playwright.sync_api import expect

        # CI machines are shared and slow at times: give assertions more than 5 s.
        expect.set_options(timeout=15_000)
        yield browser


@dataclass
class Console:
    errors: list[str] = field(default_factory=list)

    def on_message(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "assert"):
            self.errors.append(f"console.{message.type}: {message.text} ({message.location})")

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")


@pytest.fixture
def console() -> Console:
    return Console()


@contextlib.contextmanager
def watched_page(browser: Browser, console: Console, **context_options: Any) -> Iterator[Page]:
    """A page of its own new context (desktop-sized unless ``viewport`` is given) whose
    console errors and uncaught exceptions go to ``console``; the context closes after."""
    context = browser.new_context(**{"viewport": {"width": 1366, "height": 900}, **context_options})
    page = context.new_page()
    page.on("console", console.on_message)
    page.on("pageerror", console.on_page_error)
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A desktop-sized page; the test fails if the page logs any console error."""
    with watched_page(browser, console) as page:
        yield page
    assert console.errors == [], "\n".join(console.errors)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass
class LoginService:
    process: subprocess.Popen[bytes]
    port: int
    user: str
    password: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="package")
def login_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoginService]:
    """The web service with a user and password (no daemon linked)."""
    tmp = tmp_path_factory.mktemp("login")
    password_file = tmp / "password"
    password_file.write_text("hop-and-malt-2026\n")
    with web_service(tmp, "--user", "brewer", "--password-file", str(password_file)) as (
        process,
        port,
    ):
        yield LoginService(process, port, "brewer", "hop-and-malt-2026")
