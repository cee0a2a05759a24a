"""Headers on every response, and the cross-site check on requests that change things.

Every response says ``nosniff`` and carries a Content-Security-Policy (the
pages set their own, richer one): a byte a device chose can never run as a
script in this origin, even if it reached a response. HTTPS responses add HSTS.

POST/PUT/DELETE/PATCH to the API come from a page of this service or from a
program. A browser marks its requests (``Origin``, ``Sec-Fetch-Site``); such a
request must come from an allowed origin (``beerpi_guard.origins``) and say
``Content-Type: application/json``, which no HTML form can send and which a
page of another origin can only send after a CORS preflight that this service
never grants (an ``Origin: null`` from a sandboxed page is refused as well).
A body in any other type is refused too: a ``text/plain`` body is never parsed
as JSON. A program that sends no ``Origin`` and no body (curl -X POST) is not a
browser: its credential is checked as always.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from beerpi_guard.origins import OriginPolicy

from .errors import Handler, error_response

# Everything that is not a page: JSON, files, scripts. Nothing in it may run,
# load anything, or be framed.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Photos and videos: shown as they are, sandboxed when opened on their own.
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
HSTS = "max-age=31536000"
UNSAFE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_BROWSER_SITES_OK = frozenset({"same-origin", "none"})


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    headers.setdefault("Referrer-Policy", "same-origin")
    if headers["Content-Security-Policy"] == DEFAULT_CSP:
        headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/api/"):
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if request.secure:
        headers.setdefault("Strict-Transport-Security", HSTS)


def cross_site_middleware(policy: OriginPolicy) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in UNSAFE_METHODS or not request.path.startswith(
            ("/api/", "/camera/")
        ):
            return await handler(request)
        origin = request.headers.get("Origin")
        site = request.headers.get("Sec-Fetch-Site")
        if origin is not None and not policy.allows(origin, request.scheme, request.headers):
            return error_response(
                403, "cross_site", f"requests from pages of {origin[:100]} are not accepted"
            )
        if origin is None and site is not None and site not in _BROWSER_SITES_OK:
            return error_response(403, "cross_site", "requests from other sites are not accepted")
        browser = origin is not None or site is not None
        if (browser or request.body_exists) and request.content_type != "application/json":
            return error_response(
                415,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            )
        return await handler(request)

    return middleware
