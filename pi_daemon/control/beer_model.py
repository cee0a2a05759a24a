"""The beer's response, learned online: how fast it follows the chamber air, how
much a heater warms it directly, and what else warms it (the yeast).

Model, per hour:  dB/dt = k (A - B) + g1 h + g2 h' + d
  B beer, A chamber air (as the probes read them), h the heater's on-fraction
  and h' the same one window earlier (a probe taped to the vessel sees a belt's
  heat minutes late), k = 1/tau the coupling to the air, g = g1 + g2 the
  heater's direct effect (a belt on the vessel; ~0 for a heater in the air,
  whose heat shows in A), d the rest (fermentation heat, a cold floor).

Fitted by exponentially weighted least squares over 5-minute window means
(60 readings at the daemon's 5 s read, seeing through the 1/16 °C steps; short
enough that the heater's 20-minute duty cycle shows as on and off windows, so its
effect cannot hide in d) with a memory of about two days, regularised towards a prior so that a
quiet spell without information leaves the estimate where physics put it
rather than wandering. The controller uses tau for its integral time and g/k, the
"equivalent air offset" of the heater, to dose a belt by duty cycle.
"""

from __future__ import annotations

import math

from .least_squares import ForgettingNormalEquations, solve_linear

WINDOW_S = 300.0
MEMORY_S = 2 * 86_400.0
TAU_MIN_S = 1 * 3600.0
TAU_MAX_S = 48 * 3600.0


class BeerModel:
    def __init__(self, *, tau_prior_s: float, heater_gain_prior_c_per_h: float = 0.0) -> None:
        # Parameters in per-hour units: [k (1/h), g1, g2 (K/h), d (K/h)].
        half = heater_gain_prior_c_per_h / 2
        self._prior = [3600.0 / tau_prior_s, half, half, 0.0]
        # Prior precision, in windows' worth of evidence (of a 1 K or a full-duty regressor).
        self._prior_weight = [80.0, 0.5, 0.5, 2.0]
        self._fit = ForgettingNormalEquations(4, math.exp(-WINDOW_S / MEMORY_S))
        self._theta = list(self._prior)
        self._window_start_s: float | None = None
        self._sums = [0.0, 0.0, 0.0, 0.0]  # beer, air - beer, heater, count
        self._previous: tuple[float, float, float] | None = None
        self._heater_before = 0.0
        self.windows = 0
        # The beer's slope (K/h) between the last two windows: for anticipation.
        self.slope_c_per_h = 0.0

    @property
    def tau_s(self) -> float:
        k = self._theta[0]
        return TAU_MAX_S if k <= 3600.0 / TAU_MAX_S else max(TAU_MIN_S, 3600.0 / k)

    @property
    def heater_offset_c(self) -> float:
        """How many kelvin of warmer air a heater running flat out is worth to the beer."""
        return max(0.0, self._theta[1] + self._theta[2]) * self.tau_s / 3600.0

    @property
    def disturbance_c_per_h(self) -> float:
        return self._theta[3]

    def reset_window(self) -> None:
        """A gap in the data (a probe fault): start a fresh window, keep what was learned."""
        self._window_start_s = None
        self._previous = None
        self._heater_before = 0.0
        self.slope_c_per_h = 0.0
        self._sums = [0.0, 0.0, 0.0, 0.0]

    def feed(self, now_s: float, beer_c: float, air_c: float, heater_on: bool) -> None:
        if self._window_start_s is None:
            self._window_start_s = now_s
        s = self._sums
        s[0] += beer_c
        s[1] += air_c - beer_c
        s[2] += 1.0 if heater_on else 0.0
        s[3] += 1.0
        if now_s - self._window_start_s < WINDOW_S:
            return
        n = s[3]
        means = (s[0] / n, s[1] / n, s[2] / n)
        span_h = (now_s - self._window_start_s) / 3600.0
        self._window_start_s = now_s
        self._sums = [0.0, 0.0, 0.0, 0.0]
        previous, self._previous = self._previous, means
        if previous is None or span_h <= 0:
            return
        y = (means[0] - previous[0]) / span_h
        self.slope_c_per_h = y
        heater = (means[2] + previous[2]) / 2
        x = [(means[1] + previous[1]) / 2, heater, self._heater_before, 1.0]
        self._heater_before = heater
        self._learn(x, y)

    def _learn(self, x: list[float], y: float) -> None:
        self._fit.add(x, y)
        a = self._fit.xx_plus_diagonal(self._prior_weight)
        b = [
            xy + w * prior
            for xy, w, prior in zip(self._fit.xy, self._prior_weight, self._prior, strict=True)
        ]
        theta = solve_linear(a, b)
        if theta is not None and all(math.isfinite(v) for v in theta):
            self._theta = theta
        self.windows += 1
