"""Which web pages may talk to a server from a browser: the ``Origin`` allowlist.

Browsers attach ``Origin`` to websocket handshakes and to cross-origin (and, in
current browsers, same-origin) POST/PUT/DELETE requests, and a page cannot
forge it. A request whose ``Origin`` is neither the server's own origin nor a
configured one (Home Assistant's URL, a reverse proxy's public URL) comes from
another site's page and is refused. A request without ``Origin`` does not come
from a page's script (the BeerPi client, Home Assistant, a daemon dialling out,
curl), so the Origin check lets it through; its credentials are checked as
always.

The server's own origin is the scheme and ``Host`` of the request, or the
``X-Forwarded-Proto``/``X-Forwarded-Host`` a reverse proxy sets. Trusting those
here is safe: a page cannot add them to a websocket handshake, and adding them
to a cross-origin fetch needs a CORS preflight that BeerPi never grants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def normalize_origin(text: str) -> str | None:
    """``scheme://host[:port]`` in canonical form (lower case, no default port), or None."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def check_origins(origins: Iterable[str]) -> list[str]:
    """Configured origins in canonical form; ValueError names one that is not an origin."""
    result = []
    for origin in origins:
        if origin == "*":
            raise ValueError('"*" would let every web site in; list the origins instead')
        normal = normalize_origin(origin)
        if normal is None:
            raise ValueError(f"{origin!r} is not an origin like https://homeassistant.local:8123")
        result.append(normal)
    return result


def _first(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(",")[0].strip() or None


class OriginPolicy:
    """Same origin, plus the configured ``extra`` origins."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self._extra = frozenset(check_origins(extra))

    def own_origins(self, scheme: str, headers: Mapping[str, str]) -> set[str]:
        """The origins this request was addressed to (directly or through a proxy)."""
        hosts = {h for h in (headers.get("Host"), _first(headers.get("X-Forwarded-Host"))) if h}
        schemes = {s for s in (scheme, _first(headers.get("X-Forwarded-Proto"))) if s}
        own = set()
        for each_scheme in schemes:
            for host in hosts:
                normal = normalize_origin(f"{each_scheme.lower()}://{host}")
                if normal is not None:
                    own.add(normal)
        return own

    def allows(self, origin: str | None, scheme: str, headers: Mapping[str, str]) -> bool:
        """True when ``origin`` is absent (not a page), our own, or configured."""
        if origin is None:
            return True
        normal = normalize_origin(origin)
        if normal is None:  # "null" (a sandboxed or file: page), garbage
            return False
        return normal in self._extra or normal in self.own_origins(scheme, headers)

    def socketio_check(self, origin: str | None, environ: Mapping[str, Any]) -> bool:
        """For python-engineio's ``cors_allowed_origins`` (a callable gets the environ).

        ``cors_allowed_origins=[]`` would turn the check off, and its default
        (None) compares with ``wsgi.url_scheme``, which the aiohttp driver
        sets to "http" even under TLS; this reads the aiohttp request instead.
        """
        request = environ.get("aiohttp.request")
        if request is None:
            return False
        return self.allows(origin, str(request.scheme), request.headers)
