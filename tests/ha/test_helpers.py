"""Client errors become Home Assistant errors with translation keys."""

from __future__ import annotations

import pytest
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

import custom_components.beerpi
from custom_components.beerpi.helpers import translate_error
from custom_components.beerpi.protocol.errors import (
    BeerPiConnectionError,
    BeerPiError,
    BeerPiRequestError,
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
