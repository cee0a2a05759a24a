"""What an iSpindel (or a fork such as GravityMon) posts, checked at the edge.

The firmware's "HTTP" service posts one JSON object per wake-up, e.g.
``{"name": "iSpindel01", "ID": 1234567, "token": "...", "angle": 61.2,
"temperature": 20.5, "temp_units": "C", "battery": 3.9, "gravity": 1.048,
"interval": 900, "RSSI": -71}``; GravityMon adds ``"gravity-unit": "G"|"P"``
(and older GravityMon spells ``temp-units`` and ``rssi``). Everything here is
hostile until checked: the body is capped, must be UTF-8 JSON without NaN or
Infinity and without repeated keys, every number must be finite and in range,
and each refusal names the field. Nothing is stored unless all of it is good.
Unknown fields (forks add their own) are ignored; device-chosen text (name,
ID) is checked for type and length but never kept.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from beerpi_protocol.const import PLATO_RANGE
from beerpi_protocol.numbers import sg_from_plato
from web_extras.errors import bad_request
from web_extras.store.gravity import (
    ANGLE_MAX,
    ANGLE_MIN,
    BATTERY_MAX,
    BATTERY_MIN,
    SG_MAX,
    SG_MIN,
    TEMPERATURE_MAX_C,
    TEMPERATURE_MIN_C,
)

# A real post is about 250 bytes; 4 KiB leaves room for forks' extra fields.
MAX_BODY_BYTES = 4096
# Degrees Plato a hydrometer may report: the SG range the daemons keep, in °P (below
# zero is water with some error). Wider limits once let -5..-2.7 and 44..50 °P through
# to an SG refusal the brewer who sent °P could not place.
PLATO_MIN, PLATO_MAX = PLATO_RANGE
MAX_TEXT = 100
# The longest wake-up interval an iSpindel may say it has (a week).
MAX_INTERVAL_S = 7 * 86_400

GravityUnit = Literal["auto", "SG", "P"]


@dataclass(frozen=True, slots=True)
class IspindelPost:
    sg: float
    temperature_c: float | None
    angle: float | None
    battery: float | None
    interval_s: float | None
    token: str | None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key[:40]!r} appears twice")
        seen[key] = value
    return seen


def parse_body(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; 400 (never a 500) for anything else."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the body must be UTF-8 JSON") from None
    try:
        body = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_no_repeats)
    except RecursionError:
        raise bad_request("the body is nested too deeply") from None
    except ValueError as err:  # JSONDecodeError, a repeated key, NaN, a 5000-digit number
        raise bad_request(f"the body must be one JSON object: {str(err)[:120]}") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be one JSON object")
    return body


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"{name} must be a number, got {str(value)[:40]!r}")
    if not math.isfinite(value):
        raise bad_request(f"{name} must be a finite number")
    return float(value)


def _in_range(value: float | None, name: str, low: float, high: float, unit: str = "") -> None:
    if value is not None and not low <= value <= high:
        raise bad_request(f"{name} must be between {low:g} and {high:g}{unit}, got {value:g}")


def _text(body: dict[str, Any], *names: str) -> str | None:
    """The first of ``names`` present, as text; 400 if it is not short text."""
    for name in names:
        if name in body:
            value = body[name]
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise bad_request(f"{name} must be text of at most {MAX_TEXT} characters")
            return value
    return None


def _celsius(value: float, unit: str) -> float:
    if unit == "F":
        return (value - 32.0) * 5.0 / 9.0
    if unit == "K":
        return value - 273.15
    return value


def parse_post(body: dict[str, Any], configured_unit: GravityUnit) -> IspindelPost:
    """Check every field the formats define; convert gravity to SG and temperatures to °C."""
    _text(body, "name")
    if "ID" in body and not isinstance(body["ID"], str):
        _number(body, "ID")  # the original firmware sends the chip id as a number
    elif "ID" in body:
        _text(body, "ID")
    token = _text(body, "token")

    gravity = _number(body, "gravity")
    if gravity is None:
        raise bad_request("gravity is missing: set a calibration polynomial on the iSpindel")
    unit = _text(body, "gravity-unit", "gravity_unit")
    if unit is not None and unit.upper() not in ("G", "SG", "P"):
        raise bad_request(f'gravity-unit must be "G" or "P", got {unit[:20]!r}')
    plato = unit.upper() == "P" if unit is not None else configured_unit == "P"
    if unit is None and configured_unit == "auto":
        plato = not SG_MIN <= gravity <= SG_MAX
    if plato:
        _in_range(gravity, "gravity", PLATO_MIN, PLATO_MAX, " °P")
        sg = round(sg_from_plato(gravity), 5)
    else:
        sg = gravity
    _in_range(sg, "gravity", SG_MIN, SG_MAX, " SG")

    temperature = _number(body, "temperature")
    temp_unit = _text(body, "temp_units", "temp-units", "temp_unit")
    if temp_unit is not None and temp_unit.upper() not in ("C", "F", "K"):
        raise bad_request(f'temp_units must be "C", "F" or "K", got {temp_unit[:20]!r}')
    temperature_c = None
    if temperature is not None:
        temperature_c = round(_celsius(temperature, (temp_unit or "C").upper()), 4)
        _in_range(temperature_c, "temperature", TEMPERATURE_MIN_C, TEMPERATURE_MAX_C, " °C")

    angle = _number(body, "angle")
    _in_range(angle, "angle", ANGLE_MIN, ANGLE_MAX, "°")
    battery = _number(body, "battery")
    _in_range(battery, "battery", BATTERY_MIN, BATTERY_MAX)
    interval = _number(body, "interval")
    _in_range(interval, "interval", 0, MAX_INTERVAL_S, " s")
    for name in ("RSSI", "rssi"):
        _in_range(_number(body, name), name, -200, 200)
    return IspindelPost(sg, temperature_c, angle, battery, interval, token)
