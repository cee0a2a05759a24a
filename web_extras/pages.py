"""The two web pages: the current page (``/``) and the trend page (``/trend``).

The HTML lives in ``web_extras/templates/``; the pages' JavaScript, CSS and the
vendored libraries (D3, jQuery, socket.io client) in ``web_extras/static/``,
which the service serves at ``/static/``. All data comes from the JSON API and
the ``/live`` socket.io namespace (the trend page also carries the API's answers
to its first requests, when the service can tell what they are: trend_preload.py),
so no template engine is needed. The markup both pages share (top bar, login form)
lives once in ``templates/parts/`` and is put in where a page says
``<!--#include parts/NAME.html -->``; the page's own link in the navigation is
marked ``aria-current="page"``. Every URL in them is relative, so the service also
works behind a reverse proxy under a sub-path.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from web_extras.trend_preload import SESSION_PRELOADS, first_data, first_requests

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# Where the trend page's preloads go when the service cannot guess its first data, and
# where that data goes when it can (see trend_preload.py).
PRELOAD_MARK = "  <!--#trend-preload -->\n"
FIRST_MARK = "  <!--#trend-first -->\n"
# Route -> template and the page's own href in the shared navigation.
PAGES = {"/": ("current.html", "./"), "/trend": ("trend.html", "trend")}
INCLUDE = re.compile(r"^( *)<!--#include (parts/[a-z_]+\.html) -->\n", re.MULTILINE)

# The pages load only their own scripts, styles and images from this service;
# the socket.io connection goes back to it as well.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def render(template: str, own_href: str) -> str:
    """The page with its shared parts put in (indented as the directive is)."""

    def part(match: re.Match[str]) -> str:
        indent, name = match.groups()
        lines = (TEMPLATES / name).read_text(encoding="utf-8").splitlines(keepends=True)
        return "".join(indent + line if line.strip() else line for line in lines)

    html = INCLUDE.sub(part, (TEMPLATES / template).read_text(encoding="utf-8"))
    own = f'<a href="{own_href}" data-keep-device>'
    return html.replace(own, f'<a href="{own_href}" aria-current="page" data-keep-device>')


HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _page(template: str, own_href: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        # Read on each request: the files are small, and an upgrade needs no restart.
        text = render(template, own_href)
        if FIRST_MARK not in text:
            return web.Response(
                text=text, content_type="text/html", charset="utf-8", headers=HEADERS
            )
        device, wanted = await first_requests(request)
        head, tail = text.split(FIRST_MARK)
        head = head.replace(PRELOAD_MARK, "" if wanted else SESSION_PRELOADS)
        # In two parts: the browser asks for the page's styles and scripts and lays
        # the page out while the service works out the first data.
        response = web.StreamResponse(headers=HEADERS)
        response.content_type = "text/html"
        response.charset = "utf-8"
        await response.prepare(request)
        await response.write(head.encode())
        await response.write((await first_data(request, device, wanted) + tail).encode())
        await response.write_eof()
        return response

    return handler


def register_pages(app: web.Application) -> None:
    """Add ``GET /`` (current page) and ``GET /trend`` (trend page) to ``app``."""
    for route, (template, own_href) in PAGES.items():
        handler = _page(template, own_href)
        app.router.add_get(route, handler, name=f"page:{template.split('.')[0]}")
