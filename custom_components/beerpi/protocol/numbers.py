"""Numbers: from JSON, which has no size limit (a finite float or nothing), and gravity
in degrees Plato as specific gravity."""

from __future__ import annotations

import math
import unicodedata


def finite(value: object) -> float | None:
    """``value`` as a finite float; None for a bool, a non-number, NaN, an infinity, or an
    int too large for a float (10**400 is valid JSON, and ``float()`` of it raises)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (newline, ESC, NUL...), which a name
    shown on a page or written to a log line must not carry."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def sg_from_plato(plato: float) -> float:
    """The usual brewing conversion (the pages' units.js uses the same one)."""
    return 1 + plato / (258.6 - (plato / 258.2) * 227.1)
