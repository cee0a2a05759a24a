"""The beer's response, learned online: how fast it follows the chamber air, how
much a heater warms it directly, and what else warms it (the yeast).

Model, per hour:  dB/dt = k (A - B) + g h + d
  B beer, A chamber air (as the probes read them), h the heater's on-fraction,
  k = 1/tau the coupling to the air, g the heater's direct effect (a belt on
  the vessel; ~0 for a heater in the air, whose heat shows in A), d the rest
  (fermentation heat, a cold floor).

Fitted by exponentially weighted least squares over 20-minute window means
(a window's mean of 120 readings sees through the 1/16 °C steps) with a
memory of about two days, regularised towards a prior so that a quiet spell
without information leaves the estimate where physics put it rather than
wandering. The controller uses tau for its integral time and g/k, the
"equivalent air offset" of the heater, to dose a belt by duty cycle.
"""

from __future__ import annotations

import math

WINDOW_S = 1200.0
MEMORY_S = 2 * 86_400.0
TAU_MIN_S = 1 * 3600.0
TAU_MAX_S = 48 * 3600.0


def _solve3(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Solve a 3x3 system by Gaussian elimination with partial pivoting."""
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    for col in range(3):
        pivot = max(range(col, 3), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, 3):
            f = m[r][col] / m[col][col]
            for c in range(col, 4):
                m[r][c] -= f * m[col][c]
    x = [0.0, 0.0, 0.0]
    for r in (2, 1, 0):
        x[r] = (m[r][3] - sum(m[r][c] * x[c] for c in range(r + 1, 3))) / m[r][r]
    return x


class BeerModel:
    def __init__(self, *, tau_prior_s: float, heater_gain_prior_c_per_h: float = 0.0) -> None:
        # Parameters in per-hour units: [k (1/h), g (K/h), d (K/h)].
        self._prior = [3600.0 / tau_prior_s, heater_gain_prior_c_per_h, 0.0]
        # Prior precision: how many "windows' worth" of evidence the prior is worth.
        self._prior_weight = [400.0, 4.0, 1.0]
        self._xx = [[0.0] * 3 for _ in range(3)]
        self._xy = [0.0] * 3
        self._keep = math.exp(-WINDOW_S / MEMORY_S)
        self._theta = list(self._prior)
        self._window_start_s: float | None = None
        self._sums = [0.0, 0.0, 0.0, 0.0]  # beer, air - beer, heater, count
        self._previous: tuple[float, float, float] | None = None
        self.windows = 0

    @property
    def tau_s(self) -> float:
        k = self._theta[0]
        return TAU_MAX_S if k <= 3600.0 / TAU_MAX_S else max(TAU_MIN_S, 3600.0 / k)

    @property
    def heater_offset_c(self) -> float:
        """How many kelvin of warmer air a heater running flat out is worth to the beer."""
        return max(0.0, self._theta[1]) * self.tau_s / 3600.0

    @property
    def disturbance_c_per_h(self) -> float:
        return self._theta[2]

    def reset_window(self) -> None:
        """A gap in the data (a probe fault): start a fresh window, keep what was learned."""
        self._window_start_s = None
        self._previous = None
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
        x = [(means[1] + previous[1]) / 2, (means[2] + previous[2]) / 2, 1.0]
        self._learn(x, y)

    def _learn(self, x: list[float], y: float) -> None:
        keep = self._keep
        for i in range(3):
            self._xy[i] = keep * self._xy[i] + x[i] * y
            for j in range(3):
                self._xx[i][j] = keep * self._xx[i][j] + x[i] * x[j]
        a = [row[:] for row in self._xx]
        b = self._xy[:]
        for i in range(3):
            a[i][i] += self._prior_weight[i]
            b[i] += self._prior_weight[i] * self._prior[i]
        theta = _solve3(a, b)
        if theta is not None and all(math.isfinite(v) for v in theta):
            self._theta = theta
        self.windows += 1
