"""Short human texts for the ``reason`` the state shows."""

from __future__ import annotations

import math


def duration(seconds: float) -> str:
    """e.g. "2 min 30 s", "1 h 5 min", "40 s"."""
    total = max(0, math.ceil(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
