"""The two web pages: the current page (``/``) and the trend page (``/trend``).

The HTML lives in ``web_extras/templates/``; the pages' JavaScript, CSS and the
vendored libraries (D3, jQuery, socket.io client) in ``web_extras/static/``,
which the service serves at ``/static/``. The pages are static files: all
data comes from the JSON API and the ``/live`` socket.io namespace, so no
template engine is needed. Every URL in them is relative, so the service also
works behind a reverse proxy under a sub-path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

PAGES = {"/": "current.html", "/trend": "trend.html"}

# The pages load only their own scripts, styles and images from this service;
# the socket.io connection goes back to it as well.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _page(template: str) -> Handler:
    path = TEMPLATES / template

    async def handler(request: web.Request) -> web.StreamResponse:
        # Read on each request: the files are small, and an upgrade needs no restart.
        return web.Response(
            text=path.read_text(encoding="utf-8"),
            content_type="text/html",
            charset="utf-8",
            headers={
                "Cache-Control": "no-cache",
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
            },
        )

    return handler


def register_pages(app: web.Application) -> None:
    """Add ``GET /`` (current page) and ``GET /trend`` (trend page) to ``app``."""
    for route, template in PAGES.items():
        app.router.add_get(route, _page(template), name=f"page:{template.split('.')[0]}")
