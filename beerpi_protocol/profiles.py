"""The step rules of a fermentation profile, shared by everyone who checks one.

The daemon checks a profile before it runs it; the web service checks a saved
profile with the same rules, so a profile the service keeps is one a daemon
with the default target range will start. A profile is a name and steps:
``{"kind": "hold", "target": C, "hours": H}`` (or ``"days": D``) and
``{"kind": "ramp", "target": C, "hours": H}``, which ramps linearly from the
previous step's target. A hold may end on gravity (``until_sg``, or
``stable_within`` with ``stable_hours``); its hours are then the most it runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from .const import SG_RANGE
from .models import ProfileStep
from .numbers import finite, has_control

MAX_STEPS: Final = 50
MAX_STEP_HOURS: Final = 24 * 365.0
MAX_NAME_LEN: Final = 64
KINDS: Final = ("hold", "ramp")
MAX_STABLE_WITHIN: Final = 0.050
# The longest "stable for H hours" window a profile step may ask for.
MAX_STABLE_HOURS: Final = 72.0
# The target range of a daemon whose configuration does not set one (°C).
DEFAULT_TARGET_RANGE_C: Final = (-2.0, 35.0)
_GRAVITY_FIELDS: Final = ("until_sg", "stable_within", "stable_hours", "hydrometer")


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field} must be a number")
    number = finite(value)
    if number is None:
        raise ValueError(f"{field} must be a finite number")
    return number


def _hours(raw: Mapping[object, object], where: str) -> float:
    has_hours, has_days = "hours" in raw, "days" in raw
    if has_hours == has_days:
        raise ValueError(f"{where} needs exactly one of hours or days")
    key = "hours" if has_hours else "days"
    field = f"{where}.{key}"
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{field} must be a positive number")
    number = finite(value)
    hours = math.inf if number is None else number * (24.0 if key == "days" else 1.0)
    if not math.isfinite(hours) or hours > MAX_STEP_HOURS:
        raise ValueError(f"{field} must be at most {MAX_STEP_HOURS:g} hours")
    return hours


def _step(raw: object, index: int, min_c: float, max_c: float) -> ProfileStep:
    where = f"steps[{index}]"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be an object")
    kind = raw.get("kind", "hold")
    if kind not in KINDS:
        raise ValueError(f"{where}.kind must be one of: {', '.join(KINDS)}")
    if index == 0 and kind == "ramp":
        raise ValueError(f"{where} cannot be a ramp: a ramp starts from the previous target")
    if "target" not in raw:
        raise ValueError(f"{where}.target is missing")
    target = _number(raw["target"], f"{where}.target")
    if not min_c <= target <= max_c:
        raise ValueError(f"{where}.target must be between {min_c:g} and {max_c:g} °C")
    unknown = set(raw) - {"kind", "target", "hours", "days", *_GRAVITY_FIELDS}
    if unknown:
        raise ValueError(f"{where} has unknown fields: {', '.join(sorted(map(str, unknown)))}")
    step = ProfileStep(kind=str(kind), target=target, hours=_hours(raw, where))
    if any(key in raw for key in _GRAVITY_FIELDS):
        step = _gravity(raw, where, step)
    return step


def _gravity(raw: Mapping[object, object], where: str, step: ProfileStep) -> ProfileStep:
    """The step with its gravity end; hours/days stay its maximum (the fallback)."""
    if step.kind != "hold":
        raise ValueError(f"{where}: only a hold can end on gravity")
    until_sg = stable_within = stable_hours = None
    if raw.get("until_sg") is not None:
        until_sg = _number(raw["until_sg"], f"{where}.until_sg")
        low, high = SG_RANGE
        if not low <= until_sg <= high:
            raise ValueError(f"{where}.until_sg must be between {low:g} and {high:g}")
    has_within = raw.get("stable_within") is not None
    has_hours = raw.get("stable_hours") is not None
    if has_within != has_hours:
        raise ValueError(f"{where}: give stable_within and stable_hours together")
    if has_within:
        stable_within = _number(raw["stable_within"], f"{where}.stable_within")
        if not 0 < stable_within <= MAX_STABLE_WITHIN:
            raise ValueError(
                f"{where}.stable_within must be more than 0 and at most {MAX_STABLE_WITHIN:g}"
            )
        stable_hours = _number(raw["stable_hours"], f"{where}.stable_hours")
        if not 0 < stable_hours <= MAX_STABLE_HOURS:
            raise ValueError(
                f"{where}.stable_hours must be more than 0 and at most {MAX_STABLE_HOURS:g}"
            )
    if until_sg is None and stable_within is None:
        raise ValueError(f"{where}: give until_sg, or stable_within with stable_hours")
    hydrometer = raw.get("hydrometer")
    if hydrometer is not None and (
        not isinstance(hydrometer, str) or not 1 <= len(hydrometer) <= MAX_NAME_LEN
    ):
        raise ValueError(f"{where}.hydrometer must be a text of 1 to {MAX_NAME_LEN} characters")
    if hydrometer is not None and has_control(hydrometer):
        raise ValueError(f"{where}.hydrometer must not hold control characters")
    return ProfileStep(
        kind=step.kind,
        target=step.target,
        hours=step.hours,
        until_sg=until_sg,
        stable_within=stable_within,
        stable_hours=stable_hours,
        hydrometer=hydrometer,
    )


def check_profile(
    data: object, *, min_c: float, max_c: float
) -> tuple[str, tuple[ProfileStep, ...]]:
    """A profile's name and checked steps from JSON; ValueError names the bad field."""
    if not isinstance(data, Mapping):
        raise ValueError("profile must be an object with name and steps")
    name = data.get("name", "profile")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LEN:
        raise ValueError(f"name must be a non-empty text of at most {MAX_NAME_LEN} characters")
    if has_control(name):
        raise ValueError("name must not hold control characters (a newline, ESC...)")
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise ValueError("steps must be a list")
    if not steps:
        raise ValueError("steps must not be empty")
    if len(steps) > MAX_STEPS:
        raise ValueError(f"steps must have at most {MAX_STEPS} entries")
    return name.strip(), tuple(_step(s, i, min_c, max_c) for i, s in enumerate(steps))
