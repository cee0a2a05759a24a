"""The HTTPS context of a deployable's server (daemon or web service), loaded the same for both."""

from __future__ import annotations

import ssl
from pathlib import Path


def server_context(
    cert: Path | None, key: Path | None, error: type[Exception]
) -> ssl.SSLContext | None:
    """None without a certificate; ``error`` (the caller's ConfigError) when it cannot load."""
    if cert is None or key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as err:
        raise error(f"cannot load TLS certificate/key: {err}") from err
    return context
