"""How the browser tests start Chromium: headless, and nothing of its own on the network.

Shared by tests/browser (the pages) and tests/ha_demo (Home Assistant's frontend).
"""

from __future__ import annotations

from typing import Any

CHROMIUM_ARGS: list[str] = [
    "--headless",
    "--no-sandbox",  # the test machines run as root in containers
    "--disable-gpu",
    # No update checks or field trials: the tests talk to 127.0.0.1 only.
    "--disable-background-networking",
    "--disable-component-update",
]


def open_trend_untouched(page: Any, url: str, timeout_ms: float = 30_000) -> int:
    """Open the trend page at ``url`` and return when its chart was first drawn
    (``performance.now()`` from the navigation's start, as the page records it).

    Nothing is run in the page until it has drawn: Playwright's selector calls
    (``wait_for_selector``, locators) first inject its selector engine, a large
    script that the page's main thread must compile and run. Injected as soon as
    the page has loaded, it ran before the first draw: 43 and 62 ms of the main
    thread in two Chromium traces of a cold open (load average 2 to 2.5), none
    of it the page's. So this waits for a
    request the page makes only after its first draw (the socket.io client, see
    ``js/vendor.js``), watched from outside the page, and only then reads the time.
    """
    with page.expect_request(lambda request: "socket.io.min.js" in request.url, timeout=timeout_ms):
        page.goto(url, wait_until="commit")
    # Drawn by now; this wait only guards a page that failed to draw.
    page.wait_for_selector("#chart[data-drawn-at]", timeout=timeout_ms)
    return int(page.locator("#chart").get_attribute("data-drawn-at") or 0)
