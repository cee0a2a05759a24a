"""Gravity readings from hydrometers (iSpindel over HTTP, Tilt through a daemon).

A reading is identified by (device, hydrometer, timestamp), like a temperature
reading by (device, probe, timestamp): storing it twice keeps the first copy.
``device`` is the fermenter the hydrometer floats in. Values are checked here,
so neither store can hold a gravity no hydrometer could read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from beerpi_protocol.const import HYDROMETER_ID
from beerpi_protocol.timestamps import parse_iso

from .base import utc

# Plausible bounds: below 0.990 nothing ferments, above 1.200 is syrup; an
# iSpindel tilts 0-90 degrees (180 allowed for one upside down); the battery is
# volts (iSpindel) or weeks since changed (Tilt Pro).
SG_MIN, SG_MAX = 0.990, 1.200
TEMPERATURE_MIN_C, TEMPERATURE_MAX_C = -30.0, 110.0
ANGLE_MIN, ANGLE_MAX = 0.0, 180.0
BATTERY_MIN, BATTERY_MAX = 0.0, 1000.0


class GravitySource(StrEnum):
    ISPINDEL = "ispindel"
    TILT = "tilt"


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _optional(value: object, name: str, low: float, high: float) -> float | None:
    return None if value is None else _number(value, name, low, high)


@dataclass(frozen=True, slots=True)
class GravityReading:
    device: str
    hydrometer: str
    timestamp: datetime  # aware; kept in UTC to the millisecond
    sg: float
    temperature_c: float | None = None
    angle: float | None = None
    battery: float | None = None
    source: GravitySource = GravitySource.ISPINDEL

    def __post_init__(self) -> None:
        for name in ("device", "hydrometer"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        if not HYDROMETER_ID.fullmatch(self.hydrometer):
            raise ValueError(
                f"hydrometer {self.hydrometer[:80]!r} must match {HYDROMETER_ID.pattern}"
            )
        if not isinstance(self.timestamp, datetime):
            raise ValueError(f"timestamp must be a datetime, got {self.timestamp!r}")
        object.__setattr__(self, "timestamp", utc(self.timestamp))
        object.__setattr__(self, "sg", _number(self.sg, "sg", SG_MIN, SG_MAX))
        object.__setattr__(
            self,
            "temperature_c",
            _optional(self.temperature_c, "temperature_c", TEMPERATURE_MIN_C, TEMPERATURE_MAX_C),
        )
        object.__setattr__(self, "angle", _optional(self.angle, "angle", ANGLE_MIN, ANGLE_MAX))
        object.__setattr__(
            self, "battery", _optional(self.battery, "battery", BATTERY_MIN, BATTERY_MAX)
        )
        object.__setattr__(self, "source", GravitySource(self.source))

    @classmethod
    def from_daemon(cls, device: str, item: Mapping[str, object]) -> GravityReading:
        """One entry of a daemon state's ``hydrometers`` list (a Tilt the Pi reads).

        ``{"id", "sg", "temperature_c", "battery", "angle", "at"}``, ``at`` an ISO
        8601 time with its offset; ValueError naming the field when one is bad.
        """
        at = item.get("at")
        if not isinstance(at, str):
            raise ValueError(f"at must be an ISO 8601 time, got {at!r}")
        hydrometer = item.get("id")
        if not isinstance(hydrometer, str):
            raise ValueError(f"hydrometer id must be a string, got {hydrometer!r}")
        return cls(
            device,
            hydrometer,
            parse_iso(at),
            item.get("sg"),  # type: ignore[arg-type]  # checked in __post_init__
            item.get("temperature_c"),  # type: ignore[arg-type]
            item.get("angle"),  # type: ignore[arg-type]
            item.get("battery"),  # type: ignore[arg-type]
            GravitySource.TILT,
        )
