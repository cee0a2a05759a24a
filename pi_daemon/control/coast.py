"""How far the chamber air coasts on after a relay stops, learned from each stop.

A compressor leaves a cold evaporator and liner behind and a probe in free air
lags by minutes, so the air keeps falling after the cooler stops; a tube
heater's element stays hot. After each stop the learner follows the air until
it turns back by more than probe noise (the peak), records how far past the
stop it went, and blends that into its estimate. Until the peak has been seen
the other relay must not start: that is what keeps heater and cooler from
fighting over a swing that is still under way.
"""

from __future__ import annotations

from .demand import Direction

TURN_C = 3 / 16  # three DS18B20 steps: a turn, not noise
PEAK_TIMEOUT_S = 2 * 3600.0  # a peak not seen by then: the air is settling, not coasting


class CoastLearner:
    def __init__(self, *, learn_rate: float, max_c: float) -> None:
        self.learn_rate = learn_rate
        self.max_c = max_c
        self.overshoot_c = {Direction.HEAT: 0.0, Direction.COOL: 0.0}
        self.samples = {Direction.HEAT: 0, Direction.COOL: 0}
        self._tracking: Direction | None = None
        self._stop_c = 0.0
        self._extreme_c = 0.0
        self._since_s = 0.0

    @property
    def settling(self) -> Direction | None:
        """The direction whose coast is still under way (its peak not yet seen)."""
        return self._tracking

    def stopped(self, direction: Direction, now_s: float, air_c: float) -> None:
        self._tracking = direction
        self._stop_c = self._extreme_c = air_c
        self._since_s = now_s

    def started(self, direction: Direction) -> None:
        """A relay started: a coast of the same direction is cut short (no sample)."""
        if self._tracking is direction:
            self._tracking = None

    def feed(self, now_s: float, air_c: float) -> None:
        d = self._tracking
        if d is None:
            return
        sign = -1.0 if d is Direction.COOL else 1.0
        if sign * (air_c - self._extreme_c) > 0:
            self._extreme_c = air_c
        turned = sign * (self._extreme_c - air_c) >= TURN_C
        if turned or now_s - self._since_s >= PEAK_TIMEOUT_S:
            seen = max(0.0, sign * (self._extreme_c - self._stop_c))
            rate = self.learn_rate if self.samples[d] else 1.0  # the first sample is the estimate
            estimate = (1 - rate) * self.overshoot_c[d] + rate * seen
            self.overshoot_c[d] = min(self.max_c, estimate)
            self.samples[d] += 1
            self._tracking = None
