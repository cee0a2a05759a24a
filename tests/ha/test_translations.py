"""Every text the integration can show exists: flow aborts, errors, codes, states."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import custom_components.beerpi
from custom_components.beerpi.const import (
    FAULT_CODES,
    MAX_UNAVAILABLE_AFTER_S,
    UNKNOWN_FAULT_CODE,
)
from custom_components.beerpi.coordinator import LinkStatus
from custom_components.beerpi.helpers import _DEVICE_ERRORS, _USER_ERRORS
from custom_components.beerpi.protocol.const import ErrorCode, FaultCode, ThermostatAction

assert custom_components.beerpi

PACKAGE = Path(custom_components.beerpi.__file__).parent
STRINGS: dict[str, Any] = json.loads((PACKAGE / "strings.json").read_text())
SOURCES = "\n".join(p.read_text() for p in PACKAGE.glob("*.py"))


def test_english_translation_is_the_strings_file() -> None:
    assert json.loads((PACKAGE / "translations" / "en.json").read_text()) == STRINGS


def test_every_abort_has_a_text() -> None:
    """Including those Home Assistant's flow manager raises for us (a second discovery of
    a daemon being set up aborts with ``already_in_progress``)."""
    used = set(re.findall(r'reason="(\w+)"', SOURCES))
    inherited = {"already_configured", "already_in_progress", "reauth_successful"}
    inherited |= {"reconfigure_successful"}
    assert used | inherited <= set(STRINGS["config"]["abort"])


def test_every_form_error_has_a_text() -> None:
    used = set(re.findall(r'\{"base": "(\w+)"\}', SOURCES))
    assert used <= set(STRINGS["config"]["error"])


def test_the_setup_form_says_where_the_token_is() -> None:
    """Where the daemon's token usually lives (a file its config names, as the example
    config and the docs have it), not only --token, which the daemon advises against."""
    description = STRINGS["config"]["step"]["user"]["description"]
    assert "token_file" in description
    assert "--token-file" in description


def test_a_refused_token_names_both_causes() -> None:
    """Reconfigure keeps the stored token when its field is left empty: pointed at another
    BeerPi, it is refused all the same, and "Invalid authentication" alone blamed a token
    the user did not type."""
    text = STRINGS["config"]["error"]["invalid_auth"]
    assert "token" in text
    assert "another BeerPi" in text


def test_the_options_form_says_its_range() -> None:
    """Home Assistant's own refusal of a number too large ("Value 99999.0 is too large")
    names no limit: the field's description does."""
    described = STRINGS["options"]["step"]["init"]["data_description"]["unavailable_after"]
    assert f"at most {MAX_UNAVAILABLE_AFTER_S}" in described


def test_every_exception_has_a_text() -> None:
    keys = set(re.findall(r'translation_domain=DOMAIN,\s*translation_key="(\w+)"', SOURCES))
    keys |= _USER_ERRORS | _DEVICE_ERRORS
    assert keys <= set(STRINGS["exceptions"])


def test_every_error_code_is_placed() -> None:
    """Each documented error code is the user's mistake, the device's, or "request_failed"."""
    deliberate_generic = {"unknown_request", "unknown_relay", "unknown_probe"}
    deliberate_generic |= {"unknown_media", "unauthorized", "internal_error"}
    # A connect refusal (protocol 2 handshake), never the answer to a request.
    deliberate_generic |= {"protocol_mismatch"}
    placed = _USER_ERRORS | _DEVICE_ERRORS | deliberate_generic
    assert {code.value for code in ErrorCode} <= placed


def test_every_fault_code_has_a_text() -> None:
    assert {code.value for code in FaultCode} <= set(FAULT_CODES)
    codes = {*FAULT_CODES, UNKNOWN_FAULT_CODE}
    assert set(STRINGS["selector"]["fault_code"]["options"]) == codes
    event = STRINGS["entity"]["event"]["fault"]["state_attributes"]
    assert set(event["code"]["state"]) == codes


def test_states_of_attributes_have_texts() -> None:
    climate = STRINGS["entity"]["climate"]["thermostat"]["state_attributes"]
    assert set(climate["thermostat_action"]["state"]) == {a.value for a in ThermostatAction}
    assert set(climate["preset_mode"]["state"]) == {"profile", "manual"}
    link = STRINGS["entity"]["binary_sensor"]["link"]["state_attributes"]
    assert set(link["reason"]["state"]) == {status.value for status in LinkStatus}
