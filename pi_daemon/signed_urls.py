"""Short-lived signed URLs for the daemon's HTTP API, handed out over an authenticated link.

HTTP never carries the token: a client asks ``sign_url`` over its sealed
socket.io link and gets ``/api/...?expires=E&sig=S``. The signing key is random
per daemon process and never leaves it, and ``expires`` is on the process's
monotonic clock, so a URL is good for one path, for ``ttl_s``, and not after a
restart, whatever the wall clock or another host's clock says.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import urlencode

API_PREFIX: Final = "/api/"
MAX_PATH: Final = 256
DEFAULT_TTL_S: Final = 60.0


class UrlSigner:
    def __init__(
        self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._key = secrets.token_bytes(32)

    @staticmethod
    def signable(path: object) -> bool:
        return (
            isinstance(path, str)
            and path.startswith(API_PREFIX)
            and len(path) <= MAX_PATH
            and path.isprintable()
            and not any(c in path for c in "?#")
        )

    def _sig(self, path: str, expires: str) -> str:
        message = f"{len(path)}:{path}|{expires}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def sign(self, path: str) -> str:
        if not self.signable(path):
            raise ValueError(f"cannot sign {path[:80]!r}")
        expires = str(math.ceil(self._clock() + self.ttl_s))
        return f"{path}?{urlencode({'expires': expires, 'sig': self._sig(path, expires)})}"

    def verify(self, path: str, query: Mapping[str, str]) -> bool:
        expires, sig = query.get("expires", ""), query.get("sig", "")
        if (
            not (expires.isascii() and expires.isdigit())
            or len(expires) > 20
            or int(expires) < self._clock()
        ):
            return False
        return hmac.compare_digest(
            self._sig(path, expires).encode(), sig.encode("utf-8", "replace")
        )
