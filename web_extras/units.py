"""Temperature units a user may enter through the API; everything is stored in °C.

A request that carries temperatures may say ``"unit": "C"`` (the default) or
``"F"``; the service converts to °C before the daemon sees the request, so the
daemon, the history and every JSON answer stay in °C. The CSV exports, read by
people in a spreadsheet, may be asked in °F (``?unit=F``); their header names
the unit either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from web_extras.errors import bad_request

UNITS = ("C", "F")
# Enough digits that a value typed in °F comes back as typed (68 °F is 20 °C,
# 65 °F is 18.3333 °C), without float noise such as 19.999999999999996.
DIGITS = 4


def fahrenheit_to_celsius(value: float) -> float:
    return round((value - 32.0) * 5.0 / 9.0, DIGITS)


def celsius_to_fahrenheit(value: float) -> float:
    """For exports asked in °F: a probe's 1/16 °C step is 0.1125 °F, kept exactly."""
    return round(value * 9.0 / 5.0 + 32.0, DIGITS)


def unit_of(body: Mapping[str, Any]) -> str:
    """The body's ``unit`` ("C" when absent); 400 for anything else."""
    unit = body.get("unit", "C")
    if unit not in UNITS:
        raise bad_request(
            f'unit must be "C" or "F" (got {str(unit)[:20]!r}); temperatures default to °C'
        )
    return str(unit)


def to_celsius(value: Any, unit: str) -> Any:
    """``value`` in °C if it is a number in ``unit``; else unchanged (checked later)."""
    if unit == "F" and isinstance(value, int | float) and not isinstance(value, bool):
        return fahrenheit_to_celsius(float(value))
    return value
