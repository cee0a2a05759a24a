"""Client errors become Home Assistant errors with translation keys."""

from __future__ import annotations

import pytest
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

import custom_components.beerpi
from custom_components.beerpi.helpers import readable_minutes, translate_error
from custom_components.beerpi.protocol.errors import (
    BeerPiConnectionError,
    BeerPiError,
    BeerPiRequestError,
    InvalidArgument,
)

assert custom_components.beerpi


@pytest.mark.parametrize(
    ("error", "kind", "key"),
    [
        (
            BeerPiRequestError("relay_locked_out", "rest"),
            ServiceValidationError,
            "relay_locked_out",
        ),
        # A busy camera is not the user's mistake: it is worth retrying as is.
        (BeerPiRequestError("busy", "recording"), HomeAssistantError, "busy"),
        (
            BeerPiRequestError("camera_unavailable", "no camera"),
            HomeAssistantError,
            "camera_unavailable",
        ),
        (BeerPiRequestError("rate_limited", "slow down"), HomeAssistantError, "rate_limited"),
        # The heater/cooler interlock (the safety work's code): the user's to resolve.
        (BeerPiRequestError("interlock", "cooler is on"), ServiceValidationError, "interlock"),
        (BeerPiRequestError("invalid_argument", "?"), ServiceValidationError, "invalid_argument"),
        (BeerPiRequestError("internal_error", "oops"), HomeAssistantError, "request_failed"),
        (BeerPiRequestError("from_the_future", "?"), HomeAssistantError, "request_failed"),
        (BeerPiConnectionError("gone"), HomeAssistantError, "communication_error"),
        (BeerPiError("odd"), HomeAssistantError, "request_failed"),
    ],
)
def test_translate_error(error: BeerPiError, kind: type[HomeAssistantError], key: str) -> None:
    translated = translate_error(error)
    assert type(translated) is kind
    assert translated.translation_key == key
    assert translated.translation_domain == "beerpi"


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (1.5, "1.5 min"),
        (45, "45 min"),
        (120, "2 h"),
        (150, "2.5 h"),
        (1440, "24 h"),
        (4320, "3 days"),
        (3636124, "2,525 days"),
    ],
)
def test_readable_minutes(minutes: float, text: str) -> None:
    """A span from the daemon's minutes as a person reads it (a limit of 90 s, 7 days)."""
    assert readable_minutes(minutes) == text


def test_a_refusal_of_a_key_the_action_does_not_name_is_left_as_it_is() -> None:
    """Only a refusal that starts with a mapped key is renamed ("sgx" is not "sg")."""
    fields = {"sg": "gravity"}
    for message in ("sgx must be a number", "hydrometer must be letters"):
        error = translate_error(InvalidArgument(message), fields)
        assert error.translation_placeholders == {"code": "invalid_argument", "message": message}
    renamed = translate_error(InvalidArgument("sg must be a finite number"), fields)
    assert renamed.translation_placeholders is not None
    assert renamed.translation_placeholders["message"] == "gravity must be a finite number"


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("steps[0] cannot be a ramp: a ramp starts", "step 1 cannot be a ramp: a ramp starts"),
        ("steps[9].hydrometer must not hold", "step 10's hydrometer must not hold"),
        ("steps must not be empty", "steps must not be empty"),
        ("name must be a non-empty text", "name must be a non-empty text"),
    ],
)
def test_a_list_item_is_counted_from_1(message: str, text: str) -> None:
    error = translate_error(InvalidArgument(message), {"steps[]": "step"})
    assert error.translation_placeholders == {"code": "invalid_argument", "message": text}
