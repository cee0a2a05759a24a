"""How much of the chamber air a beer probe feels, learned online from the two probes.

A probe taped to the fermenter's side reads partly the air around it, through
the wall's lag:  P = L(B + w (A - B)),  P the probe, B the beer, A the air, w
the air's share, L a first-order lag of unknown time constant. The beer itself
follows the air only slowly (dB/dt = k (A - B) + g h + d: hours). With F = L(A)
the air *reading* through the same lag, per 2-minute window:

    dP = w dF + c dt (F - P) + g' dt L(h) + d' dt + e d(A - F)

c ~ k (1 - w) the beer's own answer, g' a heater on the vessel, d' the yeast,
and the last term the chamber probe's own lag (the probe feels the true air, a
little ahead of its reading). Fitted by exponentially weighted least squares
(memory a day) for each of a few candidate lags; a window in which the air
barely moved carries no information on w and is skipped (the estimate freezes),
and so is one within HEATER_QUIET_S of the heater running: a belt warms the beer
and leaks into the air at once, through lags of its own, so air that moves with
it looks like a share (in a cold room, where only the belt moves the air, the
fits found shares of -0.23 to +0.18 against the plant's 0.05, and a probe in the
beer beside a belt leaking more into the air had 0.19 taken off its reading).

A probe in the beer fits *every* lag equally well, with w = c x lag: through a
lag, the beer's slow answer to the air looks like a share. So the share counted
is the excess w - c x lag, and it is used only when that excess is significant
(``T_MIN`` standard errors) for the best-fitting lag; of the lags the data cannot
tell from the best, the smallest share is taken (too small a share leaves part
of the air in the reading; too large a one would move an in-beer probe). It is
used only above SHARE_MIN, clamped to SHARE_MAX, and moves at most
SHARE_RATE_PER_H (the reading does not jump when it is first trusted).

The beer as a probe in it would read it:  L(B) = (P - w F) / (1 - w).
"""

from __future__ import annotations

import math

from .least_squares import ForgettingNormalEquations, solve_linear

WINDOW_S = 120.0
# Candidate probe lags: a thermowell (about a minute) up to a probe taped to glass or
# plastic under a foam pad (10-20 min). With the wrong lag part of the share is
# mistaken for the beer's answer or the other way round (k x lag: 0.02 for 20 L).
LAGS_S = (60.0, 150.0, 300.0, 600.0, 1200.0)
MEMORY_S = 86_400.0
SHARE_MAX = 0.3
# A smaller share is not used: 1.5 % of a 5 K gap between beer and air is 0.08 K, and
# a probe in the beer fits about 0.005 (the chamber probe's own lag).
SHARE_MIN = 0.015
T_MIN = 6.0  # how many standard errors the excess share must stand clear of 0
MIN_WINDOWS = 180  # 6 h of informative windows before anything is used
MIN_AIR_MOVE_C = 0.02  # a window whose air moved less says nothing about w
GAP_S = 300.0  # readings further apart than this: a dropout, start afresh
# The air moves with the heater while it runs and for a while after (the element and
# the chamber cool back): those windows are not used. Longer than the longest lag.
HEATER_QUIET_S = 1800.0
SHARE_RATE_PER_H = 0.02  # the applied share moves at most this fast (no jump in the reading)
RIDGE = 1e-6
LAG_CHI2 = 4.0  # a lag whose fit is this much worse (chi-square, 1 dof: 2 sigma) is ruled out
N = 5  # regressors: dF, dt (F - P), dt L(h), dt, d(A - F)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


class _Fit:
    """The regression for one candidate lag: exponentially weighted least squares."""

    def __init__(self, lag_s: float, keep: float) -> None:
        self.lag_s = lag_s
        self.equations = ForgettingNormalEquations(N, keep)
        self.estimate = 0.0
        self.excess = 0.0  # the share beyond c x lag (the beer's own answer)
        self.t_stat = 0.0  # of the excess
        self.sigma2 = math.inf  # residual variance per window
        self.air_c: float | None = None  # the air reading through this lag
        self.heat = 0.0  # the heater's on-fraction through this lag
        self.sums = [0.0, 0.0, 0.0]  # lagged air, lagged heater, air - lagged air
        self.previous: tuple[float, float, float] | None = None
        self._dt_s, self._dt_keep = 0.0, 1.0

    def restart(self, air_c: float | None) -> None:
        self.air_c = air_c
        self.heat = 0.0
        self.sums = [0.0, 0.0, 0.0]
        self.previous = None

    def follow(self, dt_s: float, air_c: float, heat: float) -> None:
        if dt_s != self._dt_s:  # the read interval rarely changes: exp once per change
            self._dt_s, self._dt_keep = dt_s, math.exp(-dt_s / self.lag_s)
        keep = self._dt_keep
        lagged = air_c if self.air_c is None else self.air_c
        self.air_c = air_c + (lagged - air_c) * keep
        self.heat = heat + (self.heat - heat) * keep
        self.sums[0] += self.air_c
        self.sums[1] += self.heat
        self.sums[2] += air_c - self.air_c

    def close(self, n: float) -> tuple[float, float, float] | None:
        """End a window of ``n`` readings; the previous window's means."""
        means = (self.sums[0] / n, self.sums[1] / n, self.sums[2] / n)
        self.sums = [0.0, 0.0, 0.0]
        previous, self.previous = self.previous, means
        return previous

    def learn(self, x: list[float], y: float) -> None:
        eq = self.equations
        eq.add(x, y)
        a = eq.xx_plus_diagonal([RIDGE] * N)
        theta = solve_linear(a, eq.xy[:])
        # The share beyond what the beer's own answer to the air looks like through
        # this lag: a probe in the beer fits every lag with w = c x lag exactly.
        lag_h = self.lag_s / 3600.0
        v = [1.0, -lag_h] + [0.0] * (N - 2)
        col = solve_linear(a, v)
        if theta is None or col is None:
            return
        if not all(math.isfinite(x) for x in theta):
            return
        spread = sum(v[i] * col[i] for i in range(N))
        if spread <= 0:
            return
        # Residual sum of squares from the normal equations: yy - 2 theta.xy + theta' XX theta.
        fitted = sum(theta[i] * eq.xy[i] for i in range(N))
        quad = sum(theta[i] * eq.xx[i][j] * theta[j] for i in range(N) for j in range(N))
        self.sigma2 = max(0.0, eq.yy - 2 * fitted + quad) / max(1.0, eq.count - N)
        se = math.sqrt(self.sigma2 * spread)
        self.estimate = theta[0]
        self.excess = theta[0] - lag_h * theta[1]
        self.t_stat = self.excess / se if se > 0 else 0.0


class AirShare:
    def __init__(
        self,
        *,
        share_max: float = SHARE_MAX,
        lags_s: tuple[float, ...] = LAGS_S,
        memory_s: float = MEMORY_S,
    ) -> None:
        self.share_max = share_max
        keep = math.exp(-WINDOW_S / memory_s)
        self._fits = [_Fit(lag, keep) for lag in lags_s]
        self.windows = 0  # informative windows seen
        self.share = 0.0  # what is applied: clamped, significant, rate limited
        self._best = self._fits[-1]
        self._last_s: float | None = None
        self._window_start_s: float | None = None
        self._probe_sum = 0.0
        self._air_sum = 0.0
        self._count = 0
        self._previous: tuple[float, float] | None = None  # probe, air means
        self._heated_s: float | None = None  # when the heater was last seen on

    @property
    def estimate(self) -> float:
        """The best fit's share, unclamped."""
        return self._best.estimate

    @property
    def t_stat(self) -> float:
        return self._best.t_stat

    @property
    def lag_s(self) -> float:
        return self._best.lag_s

    @property
    def trusted(self) -> bool:
        return self.windows >= MIN_WINDOWS and self.t_stat >= T_MIN and self.estimate >= SHARE_MIN

    def reset(self) -> None:
        """A gap in the readings: start the lags and windows afresh, keep what was learned."""
        self._last_s = None
        self._window_start_s = None
        self._probe_sum = self._air_sum = 0.0
        self._count = 0
        self._previous = None
        for fit in self._fits:
            fit.restart(None)

    def correct(self, probe_c: float) -> float:
        """The beer probe's reading with the air's share taken out."""
        w, air = self.share, self._best.air_c
        if w <= 0.0 or air is None or not math.isfinite(probe_c):
            return probe_c
        return (probe_c - w * air) / (1.0 - w)

    def feed(
        self, now_s: float, probe_c: float | None, air_c: float | None, heater_on: bool
    ) -> None:
        if probe_c is None or air_c is None or not _finite(now_s):
            self.reset()
            return
        if not (math.isfinite(probe_c) and math.isfinite(air_c)):
            self.reset()
            return
        last = self._last_s
        if last is not None and now_s == last:
            return  # the same instant twice: nothing new
        self._last_s = now_s
        if last is None or not 0.0 < now_s - last <= GAP_S:
            self.reset()
            self._last_s = now_s
            self._window_start_s = now_s
            for fit in self._fits:
                fit.restart(air_c)
            dt = 0.0
        else:
            dt = now_s - last
            self._rate_limit(dt)
        if heater_on:
            self._heated_s = now_s
        heat = 1.0 if heater_on else 0.0
        for fit in self._fits:
            fit.follow(dt, air_c, heat)
        self._probe_sum += probe_c
        self._air_sum += air_c
        self._count += 1
        start = self._window_start_s
        if start is None or now_s - start < WINDOW_S:
            return
        self._close(now_s, start)

    def _close(self, now_s: float, start: float) -> None:
        n = float(self._count)
        means = (self._probe_sum / n, self._air_sum / n)
        span_h = (now_s - start) / 3600.0
        self._window_start_s = now_s
        self._probe_sum = self._air_sum = 0.0
        self._count = 0
        previous, self._previous = self._previous, means
        ends = [(fit, fit.close(n)) for fit in self._fits]
        if previous is None or span_h <= 0:
            return
        if abs(means[1] - previous[1]) < MIN_AIR_MOVE_C:
            return  # the air stood still: no information on w, the estimate freezes
        heated = self._heated_s
        if heated is not None and now_s - heated < HEATER_QUIET_S + WINDOW_S:
            return  # the air moved with the heater (this window or the one before)
        y = means[0] - previous[0]
        probe_mid = (means[0] + previous[0]) / 2
        for fit, before in ends:
            now_means = fit.previous
            if before is None or now_means is None:
                continue
            d_air = now_means[0] - before[0]
            gap = (now_means[0] + before[0]) / 2 - probe_mid
            heat = (now_means[1] + before[1]) / 2
            fit.learn([d_air, span_h * gap, span_h * heat, span_h, now_means[2] - before[2]], y)
        self.windows += 1
        self._best = self._choose()

    def _choose(self) -> _Fit:
        """The best fit if its share stands clear of the beer's own answer; of the lags
        the data cannot tell from it, the one with the smallest such share (the
        conservative reading: too small a share only leaves part of the air in)."""
        best = min(self._fits, key=lambda f: f.sigma2)
        if not math.isfinite(best.sigma2) or best.sigma2 <= 0 or best.t_stat < T_MIN:
            return best
        n = max(1.0, best.equations.count)
        plausible = [
            f
            for f in self._fits
            if (f.sigma2 / best.sigma2 - 1.0) * n <= LAG_CHI2 and f.t_stat >= T_MIN
        ]
        return min(plausible, key=lambda f: f.estimate)

    def _rate_limit(self, dt_s: float) -> None:
        top = self.share_max
        goal = min(top, max(0.0, self.estimate)) if self.trusted else 0.0
        step = SHARE_RATE_PER_H * dt_s / 3600.0
        self.share = min(top, max(0.0, self.share + max(-step, min(step, goal - self.share))))
