"""What physics allows at a compressor start budget: the beer RMS of an ideal
controller that starts the compressor no more often than a given count per day.

Every compressor start must take out the heat that came in since the last one,
and between starts that heat is stored in the beer and the chamber: fewer
starts mean a wider swing of the beer, whose RMS grows with it. Whether a
scenario allows both BeerPi's goals at once (RMS ≤ ½ the better baseline's and
no more compressor starts than the Inkbird) is settled here by simulation, on
the same plant, rather than argued:

The ideal controller knows the plant exactly (it simulates a copy of it) and
judges the *true* beer. It starts the compressor at most once per period
P = 1 day / budget, at the period's start, and picks how long it runs (0 to
the whole period: a run through the next start is no new start) by searching
for the run length that minimises the squared beer error over the next two
periods, each run as long. In a period it may instead run the heater (the
same search, for the heater's run length from the period's start), so heat is
never wasted on undoing its own cooling; the heater's starts are not budgeted.
It has no probe lag, no quantisation and no relay guard. But it heats or cools
in a period, never both, and spaces its starts evenly, so with a heater (or a
load that changes within a day) a real thermostat can beat it: bench/control.py
takes its verdict only where it does at least as well as the Inkbird at the
Inkbird's own count. Where it then still misses the RMS goal, the goal pair is
marked out of reach for that fermenter ("physics"). It is a receding-horizon
search, evidence rather than a proof over every possible controller.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pi_daemon.simulation.plant import Plant
from pi_daemon.simulation.plant.model import BEER

from ._control_loop import DAY_S, READ_S, Run, Scenario, _targets

# The compressor's minimum on and off times (pi_daemon.safety.limits): a run or a
# rest shorter than this is not a choice a compressor has.
MIN_ON_S = 180.0
MIN_OFF_S = 600.0
SEARCH_ITERATIONS = 10
HORIZON_PERIODS = 2


class _Horizon:
    """The cost of each run length from read ``n``: the squared true-beer error over the
    next HORIZON_PERIODS periods, the compressor (or the heater) on for ``on_s`` at the
    start of each.

    The search asks for a dozen run lengths from the same read, and every one of them
    starts with the relay on: a run of ``on_s`` is, up to its first off read, the same
    simulation as any longer run. So each candidate starts from the furthest state saved
    at or before its first off read (the plant then, and the error summed so far) and
    saves its own there: the same steps in the same order, so the same cost to the bit,
    with less simulated. A run of 0 (off throughout) is the same for heater and cooler.

    A cost only ever decides a comparison with another one, and the error sum only
    grows: once it passes ``bound`` (the cost it will be compared with), the candidate
    has lost, and the sum so far (above ``bound``) is returned instead of the whole.
    """

    def __init__(self, plant: Plant, targets: Sequence[float], n: int, period_s: float) -> None:
        self.period_s = period_s
        self.steps = int(HORIZON_PERIODS * period_s / READ_S)
        last = len(targets) - 1
        # The target each step's error is taken against.
        self.ahead = [targets[min(n + k + 1, last)] for k in range(self.steps)]
        # Per relay (True: the heater): first off read -> (plant there, error summed).
        self.saved: dict[bool, dict[int, tuple[Plant, float]]] = {
            False: {0: (plant, 0.0)},
            True: {0: (plant, 0.0)},
        }
        self.off_cost: float | None = None

    def _first_off(self, on_s: float) -> int:
        k = 0
        while k < self.steps and (k * READ_S) % self.period_s < on_s:
            k += 1
        return k

    def cost(self, on_s: float, heat: bool, bound: float = math.inf) -> float:
        if on_s <= 0.0 and self.off_cost is not None:
            return self.off_cost
        saved = self.saved[heat]
        first_off = self._first_off(on_s)
        start = max(k for k in saved if k <= first_off)
        origin, total = saved[start]
        sim = origin.clone()
        temps, period_s, ahead = sim.temps, self.period_s, self.ahead
        for k in range(start, self.steps):
            if k == first_off and k not in saved:
                saved[k] = (sim.clone(), total)
            on = (k * READ_S) % period_s < on_s
            sim.advance(READ_S, heater_on=on and heat, cooler_on=on and not heat)
            error = temps[BEER] - ahead[k]
            total += error * error
            if total > bound:
                return total
        if first_off == self.steps and first_off not in saved:
            saved[first_off] = (sim, total)
        if on_s <= 0.0 and bound == math.inf:
            self.off_cost = total
        return total


def _best_on_s(horizon: _Horizon, heat: bool = False) -> tuple[float, float]:
    """Golden-section search for the run length, then the compressor's minimum times.
    Returns (run length, its cost)."""
    period_s = horizon.period_s

    def cost(on_s: float, bound: float = math.inf) -> float:
        return horizon.cost(on_s, heat, bound)

    # Every new point is bounded by the one it will be compared with: past it, it loses
    # the comparison (sums of squares only grow), and the value it returns is dropped.
    lo, hi = 0.0, period_s
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa = cost(a)
    fb = cost(b, fa)
    for _ in range(SEARCH_ITERATIONS):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = cost(a, fb)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = cost(b, fa)
    off = cost(0.0)
    candidates = {0.0: off, period_s: cost(period_s, off)}
    best = (a + b) / 2
    if MIN_ON_S <= best <= period_s - MIN_OFF_S:
        candidates[best] = min(fa, fb)  # the loser of the last comparison is never the min
    else:  # too short a run or too short a rest: the nearest allowed lengths
        for allowed in (MIN_ON_S, period_s - MIN_OFF_S):
            if 0 < allowed < period_s:
                candidates[allowed] = cost(allowed, min(candidates.values()))
    chosen = min(candidates, key=lambda k: candidates[k])
    return chosen, candidates[chosen]


def budget_run(
    scenario: Scenario,
    starts_per_day: float,
    *,
    judged_from: Sequence[tuple[float, float]] = (),
    seconds: float | None = None,
) -> Run:
    """The ideal controller at ``starts_per_day`` on ``scenario``, judged as run() judges."""
    prog = scenario.programme
    duration = prog.seconds if seconds is None else seconds
    plant = Plant(scenario.setup, beer_c=prog.start_c, air_c=scenario.setup.room.at(0.0))
    targets = _targets(prog, duration)
    period_s = DAY_S / starts_per_day if starts_per_day > 0 else math.inf
    out = Run(f"ideal at {starts_per_day:.1f} starts/day", duration)
    skip = sorted(judged_from)
    heater = scenario.has_heater
    on_until, next_cycle, heating = 0.0, 0.0, False
    was = {"heater": False, "cooler": False}
    for n in range(len(targets) - 1):
        now = n * READ_S
        if now >= next_cycle and math.isfinite(period_s):
            horizon = _Horizon(plant, targets, n, period_s)
            on_s, cost = _best_on_s(horizon)
            heating = False
            if heater:
                heat_s, heat_cost = _best_on_s(horizon, heat=True)
                if heat_cost < cost:
                    on_s, heating = heat_s, True
            on_until = now + on_s
            next_cycle = now + period_s
        on = now < on_until
        cool, heat = on and not heating, on and heating
        for rid, on in (("heater", heat), ("cooler", cool)):
            if on != was[rid]:
                (out.starts if on else out.stops)[rid].append(now)
                was[rid] = on
        plant.advance(READ_S, heater_on=heat, cooler_on=cool)
        t = now + READ_S
        error = plant.beer_c - targets[n + 1]
        out.all_errors.append(error)
        if not any(a <= t <= b for a, b in skip):
            out.errors.append((t, error))
        if n % 6 == 0:
            out.beer.append((t, plant.beer_c, targets[n + 1]))
    return out
