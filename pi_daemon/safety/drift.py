"""How far a temperature would have moved by itself: the passive drift a relay's effect
is measured against.

After a compressor run the chamber air warms back towards the beer and the room
by several degrees within the hour; a heater switched on then would be credited
with that warming although it does nothing. So the readings while the relay is
off are kept for LOOKBACK_S, and at its start the drift they show is carried on:
three points half the lookback apart give the drift's rate and how fast it
slows down, i.e. a first-order approach ``x(t) = end - (end - x0) q^(t/h)``
(Newton cooling towards whatever the air is heading for). A drift that does not
slow down within the lookback is carried on at its rate; neither goes further
than the beer (the only other temperature the check knows: air recovering after
a run heads towards it and the room), so that a noisy fit never hides a working
relay. The cost: air that recovers past the beer (a room warmer than the beer
after a compressor run) can still credit a dead heater with the part beyond it.
A drift smaller than FLOOR_C over the lookback, or away from the relay's way, is
no drift at all: probe noise, or the relay's own way to go. When the other relay
ran within the lookback (a baseline thermostat may start the heater the moment
the compressor stops), the readings show its push, not the drift to come: the
air may then recover all the way to the beer by itself, and only a move beyond
that (or the beer's own) is the relay's.
"""

from __future__ import annotations

import math
from collections import deque

LOOKBACK_S = 1200.0
# Less than this over the lookback is noise (two DS18B20 steps), not a drift.
FLOOR_C = 2 / 16
# Each of the three points is the mean of the readings over this long up to it (a
# DS18B20's 1/16 °C steps would otherwise skew how fast the drift slows down); the
# mean stands for the middle of that span.
SPAN_S = 120.0


class Drift:
    """The readings of one temperature while a relay is off."""

    def __init__(self) -> None:
        self._seen: deque[tuple[float, float]] = deque()

    def clear(self) -> None:
        self._seen.clear()

    def feed(self, now_s: float, value_c: float) -> None:
        self._seen.append((now_s, value_c))
        while self._seen and self._seen[0][0] <= now_s - LOOKBACK_S - SPAN_S:
            self._seen.popleft()

    def _at(self, t_s: float) -> float | None:
        near = [v for t, v in self._seen if t_s - SPAN_S < t <= t_s]
        return sum(near) / len(near) if near else None

    def passive(self, now_s: float, sign: float) -> PassiveDrift:
        """The drift at ``now_s`` (a relay starting), in the relay's way (``sign``)."""
        h = LOOKBACK_S / 2
        a, b, c = (self._at(now_s - k * h) for k in (2, 1, 0))
        if a is None or b is None or c is None:
            return PassiveDrift.none()
        first, second = sign * (b - a), sign * (c - b)
        if first + second < FLOOR_C or second <= 0:
            return PassiveDrift.none()
        q = second / first if first > 0 else 1.0
        return PassiveDrift(second, q, h, lead_s=SPAN_S / 2)


class PassiveDrift:
    """``step_c`` the drift over the last ``h_s`` before the start, slowing by ``q`` per
    ``h_s`` (q >= 1: it does not slow down; carried on at its rate). ``whole``: the
    other relay was driving until just before, so the readings tell nothing of the
    drift to come; it may take the whole way to the beer at once."""

    def __init__(
        self, step_c: float, q: float, h_s: float, *, whole: bool = False, lead_s: float = 0.0
    ) -> None:
        self.step_c = step_c
        self.q = q
        self.h_s = h_s
        self.whole = whole
        self.lead_s = lead_s  # how long before the start the last point stands

    @classmethod
    def none(cls) -> PassiveDrift:
        return cls(0.0, 1.0, LOOKBACK_S / 2)

    def moved_c(self, elapsed_s: float, room_c: float) -> float:
        """How far it drifts by itself in ``elapsed_s`` after the start, in the relay's way;
        ``room_c``: how far it may go at most (to the beer)."""
        if elapsed_s <= 0:
            return 0.0
        if self.whole:
            return max(0.0, room_c)
        if self.step_c <= 0:
            return 0.0
        moved = self._since_last_point(self.lead_s + elapsed_s)
        moved -= self._since_last_point(self.lead_s)
        return min(moved, max(0.0, room_c))

    def _since_last_point(self, t_s: float) -> float:
        n = t_s / self.h_s
        if self.q < 1.0:
            # The remaining approach: step q / (1 - q) in all, q^n of it still to come.
            return self.step_c * self.q / (1.0 - self.q) * (1.0 - math.pow(self.q, n))
        return self.step_c * n
