"""How the browser tests start Chromium: headless, and nothing of its own on the network.

Shared by tests/browser (the pages) and tests/ha_demo (Home Assistant's frontend).
"""

from __future__ import annotations

CHROMIUM_ARGS: list[str] = [
    "--headless",
    "--no-sandbox",  # the test machines run as root in containers
    "--disable-gpu",
    # No update checks or field trials: the tests talk to 127.0.0.1 only.
    "--disable-background-networking",
    "--disable-component-update",
]
