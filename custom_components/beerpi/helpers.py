"""Turn BeerPi client errors into Home Assistant's, with translations; round readings."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Awaitable, Mapping

from homeassistant.const import UnitOfTemperature
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util.unit_conversion import TemperatureConverter

from .const import DOMAIN, FAULT_CODES, PROBE_RESOLUTION_C, UNKNOWN_FAULT_CODE
from .protocol.const import ThermostatMode
from .protocol.errors import BeerPiConnectionError, BeerPiError, BeerPiRequestError
from .protocol.models import DeviceInfo as BeerPiDeviceInfo
from .protocol.models import FaultInfo, ThermostatInfo

# Refusals caused by what the user asked (fix the request and it works), by their code.
# "interlock" (one relay on by hand while the other is on) comes with the safety work.
_USER_ERRORS = frozenset(
    {"relay_under_thermostat_control", "relay_locked_out", "invalid_argument", "interlock"}
)
# Refusals with their own text that are not the user's doing: a busy camera, a camera
# that failed, a client sending too fast, a file larger than a client reads. Anything
# else is "request_failed".
_DEVICE_ERRORS = frozenset({"busy", "camera_unavailable", "rate_limited", "too_large"})


# A time the daemon refuses, in its own words (pi_daemon/requests.py, report_gravity):
# "at is 3636124 min ago; readings older than 120 min are refused", "at is 12 min ahead
# of this BeerPi's clock". tests/ha/test_gravity_action.py runs the daemon that says it.
_TOO_OLD = re.compile(r"(\w+) is (\d+) min ago; readings older than ([\d.]+) min are refused")
_AHEAD = re.compile(r"(\w+) is (\d+) min ahead of this BeerPi's clock")
# The key a daemon's refusal starts with: "sg must be between 0.99 and 1.2, got 1.5".
_LEADING_KEY = re.compile(r"(\w+)\b(.*)", re.DOTALL)
# An item of a list, counted from 0: "steps[1].until_sg must be ...", "steps[0]: ...".
_LEADING_ITEM = re.compile(r"(\w+)\[(\d+)\](\.?)(.*)", re.DOTALL)


def translate_error(
    err: BeerPiError, fields: Mapping[str, str] | None = None
) -> HomeAssistantError:
    """The Home Assistant error to raise for a failed BeerPi request.

    ``fields`` maps the daemon's keys to the action's fields where they differ (an
    action's ``gravity`` is the daemon's ``sg``): a refusal of a value names the field
    the user typed, not the daemon's key, which the web service and docs/protocol.md use.
    A key ending in ``[]`` names a list's items, counted from 1 as the action counts
    them: with ``{"steps[]": "step"}``, "steps[1].until_sg must be ..." reads "step 2's
    until_sg must be ...".
    """
    if isinstance(err, BeerPiRequestError):
        if err.code == "invalid_argument" and fields:
            return _field_error(err.message, fields)
        placeholders = {"code": err.code, "message": err.message}
        if err.code in _USER_ERRORS:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=err.code,
                translation_placeholders=placeholders,
            )
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=err.code if err.code in _DEVICE_ERRORS else "request_failed",
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


def _field_error(message: str, fields: Mapping[str, str]) -> ServiceValidationError:
    """An ``invalid_argument`` refusal, with the action's field names and readable times."""
    if (match := _TOO_OLD.fullmatch(message)) and match[1] in fields:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="time_too_old",
            translation_placeholders={
                "field": fields[match[1]],
                "age": readable_minutes(float(match[2])),
                "limit": readable_minutes(float(match[3])),
            },
        )
    if (match := _AHEAD.fullmatch(message)) and match[1] in fields:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="time_ahead",
            translation_placeholders={
                "field": fields[match[1]],
                "ahead": readable_minutes(float(match[2])),
            },
        )
    if (match := _LEADING_ITEM.fullmatch(message)) and f"{match[1]}[]" in fields:
        item = f"{fields[match[1] + '[]']} {int(match[2]) + 1}"
        message = f"{item}'s {match[4]}" if match[3] else item + match[4]
    elif (match := _LEADING_KEY.fullmatch(message)) and match[1] in fields:
        message = fields[match[1]] + match[2]
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_argument",
        translation_placeholders={"code": "invalid_argument", "message": message},
    )


def readable_minutes(minutes: float) -> str:
    """A span as a person says it: 45 min, 2 h, 36 h, 2,525 days."""
    if minutes < 120:
        return f"{shown(minutes)} min"
    if minutes < 72 * 60:
        return f"{shown(round(minutes / 60, 1))} h"
    return f"{minutes / (24 * 60):,.0f} days"


async def call_daemon[T](request: Awaitable[T], fields: Mapping[str, str] | None = None) -> T:
    """Await one daemon request, raising Home Assistant's error if it fails.

    ``fields``: the daemon's keys that an action names otherwise (see translate_error).
    """
    try:
        return await request
    except BeerPiError as err:
        raise translate_error(err, fields) from err


def runnable_modes(info: ThermostatInfo) -> list[ThermostatMode]:
    """Off and the modes the thermostat's relays can carry out: a fermenter with a heat
    belt alone (no cooler) or a fridge alone (no heater) lacks the others."""
    modes = [ThermostatMode.OFF]
    if info.heater is not None:
        modes.append(ThermostatMode.HEAT)
    if info.cooler is not None:
        modes.append(ThermostatMode.COOL)
    if info.heater is not None and info.cooler is not None:
        modes.append(ThermostatMode.HEAT_COOL)
    return modes


def probe_celsius(value: float | None) -> float | None:
    """A reading at the probe's resolution (1/16 °C), so noise below it writes no state."""
    if value is None:
        return None
    return round(value / PROBE_RESOLUTION_C) * PROBE_RESOLUTION_C


def range_in_unit(low_c: float, high_c: float, unit: str) -> tuple[float, float]:
    """A range the daemon gives in °C, in ``unit`` (Home Assistant's), to a tenth of a
    degree and rounded inwards: every value in it is one the daemon takes."""
    low = TemperatureConverter.convert(low_c, UnitOfTemperature.CELSIUS, unit)
    high = TemperatureConverter.convert(high_c, UnitOfTemperature.CELSIUS, unit)
    # The margin keeps conversion noise (28.400000000000002 °F) from a tenth's rounding.
    return math.ceil(low * 10 - 1e-6) / 10, math.floor(high * 10 + 1e-6) / 10


def range_placeholders(low_c: float, high_c: float, unit: str) -> dict[str, str]:
    """{min}, {max} and {unit} of a refusal for a value outside the daemon's °C range,
    in Home Assistant's ``unit``: the unit the user typed the value in."""
    low, high = range_in_unit(low_c, high_c, unit)
    return {"min": shown(low), "max": shown(high), "unit": unit}


def shown(value: float) -> str:
    """A number for a message as a person writes it: 100 (not 100.0), 28.4, to a hundredth."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def fault_code(fault: FaultInfo) -> str:
    """The fault's code as Home Assistant shows it; a code it does not know is "unknown"."""
    code = None if fault.code is None else fault.code.value
    return code if code in FAULT_CODES else UNKNOWN_FAULT_CODE


def printable(text: str) -> str:
    """A device's text without control characters (a newline, ESC, NUL), for a name."""
    return "".join(char for char in text if unicodedata.category(char) != "Cc")


# A device's message in a repair issue: enough for four files' worth of reasons.
ISSUE_TEXT_MAX = 1000


def issue_text(text: str) -> str:
    """A device's text for a repair issue, whose description Home Assistant renders as
    Markdown: it goes inside a code span there (text, never a link or an image), so
    it may hold no backquote, no line break, and is cut to a readable length."""
    text = printable(text).replace("`", "'")
    return text if len(text) <= ISSUE_TEXT_MAX else text[: ISSUE_TEXT_MAX - 1] + "…"


def device_info(device: BeerPiDeviceInfo) -> DeviceInfo:
    """Home Assistant's device, from the daemon's ``device`` event."""
    return DeviceInfo(
        identifiers={(DOMAIN, device.id)},
        manufacturer=printable(device.manufacturer),
        model=printable(device.model) or None,
        name=printable(device.name),
        sw_version=printable(device.sw_version) or None,
    )
