"""Turn BeerPi client errors into Home Assistant's, with translations."""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN
from .protocol.const import ErrorCode
from .protocol.errors import BeerPiConnectionError, BeerPiError, BeerPiRequestError

# Refusals caused by what the user asked, not by a broken daemon or link.
_USER_ERRORS = {
    ErrorCode.RELAY_UNDER_THERMOSTAT_CONTROL,
    ErrorCode.RELAY_LOCKED_OUT,
    ErrorCode.INVALID_ARGUMENT,
    ErrorCode.CAMERA_UNAVAILABLE,
    ErrorCode.BUSY,
}


def translate_error(err: BeerPiError) -> HomeAssistantError:
    """The Home Assistant error to raise for a failed BeerPi request."""
    if isinstance(err, BeerPiRequestError):
        code = err.error_code
        placeholders = {"code": err.code, "message": err.message}
        if code in _USER_ERRORS:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=str(code),
                translation_placeholders=placeholders,
            )
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="request_failed",
            translation_placeholders=placeholders,
        )
    if isinstance(err, BeerPiConnectionError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="communication_error",
            translation_placeholders={"error": str(err)},
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="request_failed",
        translation_placeholders={"code": type(err).__name__, "message": str(err)},
    )


async def call_daemon[T](request: Awaitable[T]) -> T:
    """Await one daemon request, raising Home Assistant's error if it fails."""
    try:
        return await request
    except BeerPiError as err:
        raise translate_error(err) from err
