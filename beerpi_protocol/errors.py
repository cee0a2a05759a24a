"""One exception tree for every client of a BeerPi daemon."""

from __future__ import annotations

from .const import ErrorCode


class BeerPiError(Exception):
    """Base of every BeerPi protocol error."""


class BeerPiConnectionError(BeerPiError):
    """The daemon cannot be reached, dropped the link, or did not answer in time."""


class BeerPiAuthError(BeerPiError):
    """The handshake failed: the peer cannot prove it knows our token, or refused our proof.

    Either the token differs on the two sides or the peer is not the device it claims
    to be; retrying with the same token is pointless.
    """


class BeerPiWrongDeviceError(BeerPiError):
    """The peer proved it knows the token, but for another device id than expected.

    Raised before anything is sent to it (no proof, no request).
    """

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"expected device {expected!r}, but the daemon proved it is {actual!r}")
        self.expected = expected
        self.actual = actual


class BeerPiProtocolVersionError(BeerPiError):
    """The daemon speaks another major protocol version."""

    def __init__(self, daemon_version: str, client_version: str) -> None:
        super().__init__(
            f"daemon speaks protocol {daemon_version or 'unknown'}, "
            f"this client speaks {client_version}"
        )
        self.daemon_version = daemon_version
        self.client_version = client_version


class BeerPiRequestError(BeerPiError):
    """The daemon answered a request with ``{"ok": false, ...}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def error_code(self) -> ErrorCode | None:
        return ErrorCode.parse(self.code)


class InvalidArgument(BeerPiRequestError):
    """A request that is not well formed, found before it is sent or acted on.

    The message names the field; the daemon answers with it as ``invalid_argument``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID_ARGUMENT.value, message)
