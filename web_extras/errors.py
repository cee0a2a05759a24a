"""API errors: every failure answers ``{"error": code, "message": text}`` with its status."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from beerpi_protocol.errors import BeerPiConnectionError, BeerPiRequestError

_LOGGER = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str, code: str = "invalid_argument") -> ApiError:
    return ApiError(400, code, message)


def not_found(message: str, code: str = "not_found") -> ApiError:
    return ApiError(404, code, message)


def device_offline(device: str) -> ApiError:
    return ApiError(503, "device_offline", f"device {device} is not connected to this service")


# How a daemon's refusal reads over HTTP: the user's mistake (400), something
# that does not exist (404), or a state that forbids it right now (409).
_DAEMON_STATUS = {
    "invalid_argument": 400,
    "unknown_request": 400,
    "unknown_relay": 404,
    "unknown_probe": 404,
    "not_found": 404,
    "unknown_media": 404,
    "relay_under_thermostat_control": 409,
    "relay_locked_out": 409,
    "interlock": 409,
    "camera_unavailable": 409,
    "busy": 409,
    "rate_limited": 429,
}


def from_daemon(err: BeerPiRequestError | BeerPiConnectionError, device: str) -> ApiError:
    if isinstance(err, BeerPiConnectionError):
        return ApiError(503, "device_offline", f"device {device}: {err}")
    status = _DAEMON_STATUS.get(err.code, 502)
    return ApiError(status, err.code, err.message)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err.status, err.code, err.message, err.headers)
    except web.HTTPException as err:
        if err.status < 400 or not request.path.startswith(("/api/", "/camera/")):
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            err.status, "http_error"
        )
        return error_response(err.status, code, err.reason)
    except (RecursionError, OverflowError) as err:
        # Input too deep or too large for Python to take apart (nesting, a date
        # past year 9999): the request's fault, so a 400, never a 500.
        _LOGGER.info("%s %s: input out of range: %r", request.method, request.path, err)
        return error_response(400, "invalid_argument", "the request holds a value out of range")
