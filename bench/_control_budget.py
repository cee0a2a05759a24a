"""What physics allows at a compressor start budget: the beer RMS of an ideal
controller that starts the compressor no more often than a given count per day.

Every compressor start must take out the heat that came in since the last one,
and between starts that heat is stored in the beer and the chamber: fewer
starts mean a wider swing of the beer, whose RMS grows with it. Whether a
scenario allows both BeerPi's goals at once (RMS ≤ ½ the better baseline's and
no more compressor starts than the Inkbird) is settled here by simulation, on
the same plant, rather than argued:

The ideal controller knows the plant and the schedule exactly (it simulates a
copy of the plant) and judges the *true* beer. Its budget is the whole run's:
budget × days compressor starts, at most one per period. The periods are either
evenly spaced or follow the need (``_periods``): a first pass under a free
thermostat on the true beer shows when starts are needed (at peak fermentation,
in a warm afternoon), and the budget is spread the same way, by that pass's
starts or half by its running time. Given the starts of the controller whose
count is the budget (the Inkbird's), a fourth spreads them as it did: where a
run holds for days and then crashes, its starts belong to the hold, not to the
crash's long runs. Each is run and the one with the lower RMS kept (by the
caller's measure: bench/control.py leaves out holds physics rules out): each is
a controller within the rules and the budget.

At each period's start it picks how long the compressor runs from then (a
geometric grid of lengths, refined by a golden-section search; up to the
period's end: a run through the next start is no new start) and whether the
heater may run in the period: the plan that minimises the squared beer error
over this period and the next, the plan repeated there. The heater, whose
starts are not budgeted, is then a thermostat on the true beer: on HEAT_MARGIN_C
below the target, off at the target, never on above it. Both relays keep the
rules BeerPi keeps (pi_daemon.safety.limits): the compressor's and the heater's
minimum on and off times, and 30 min (CHANGEOVER_S) between one relay's stop
and the other's start (a compressor start that must wait for it waits, inside
its planned run); the simulated futures keep them too. It has no probe lag and
no quantisation.

bench/control.py takes its verdict only where it does at least as well as the
Inkbird at the Inkbird's own count; where it then still misses the RMS goal, the
goal pair is marked out of reach for that fermenter ("physics"). It is a
receding-horizon search, evidence rather than a proof over every possible
controller.

``heater="periods"`` gives the earlier, weaker ideal for comparison (under the
same relay rules): evenly spaced periods, and in each the heater *or* the
compressor run from the period's start, whichever the search finds better.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pi_daemon.safety.limits import (
    CHANGEOVER_S,
    COOLER_MIN_OFF_S,
    COOLER_MIN_ON_S,
    HEATER_MIN_OFF_S,
    HEATER_MIN_ON_S,
)
from pi_daemon.simulation.plant import Plant
from pi_daemon.simulation.plant.model import BEER

from ._control_loop import DAY_S, READ_S, Run, Scenario, _rms, _targets

MIN_ON_S = COOLER_MIN_ON_S
MIN_OFF_S = COOLER_MIN_OFF_S
# The heater thermostat: on this far below the target, off at it.
HEAT_MARGIN_C = 0.15
# Run lengths: a grid from the minimum run up by this factor, then a golden-section
# search of this many steps between the best one's neighbours.
GRID_RATIO = 1.4
SEARCH_ITERATIONS = 5
# The search looks this many periods ahead (this one and the next).
HORIZON_PERIODS = 2
# The first pass's compressor: on this far above the target, off at it.
PREPASS_BAND_C = 0.3
# The schedules tried: evenly spaced periods (None), or periods spread by the need,
# measured by the first pass's compressor starts (1.0) or half by its running time.
NEED_BY_STARTS: tuple[float | None, ...] = (None, 1.0, 0.5)
MAX_PERIOD_S = DAY_S

HeaterUse = Literal["thermostat", "periods"]


@dataclass(slots=True)
class _Relays:
    """The relays' states and when each last switched; ``step`` applies the rules."""

    cool: bool = False
    heat: bool = False
    cool_at: float = -math.inf
    heat_at: float = -math.inf

    def copy(self) -> _Relays:
        return _Relays(self.cool, self.heat, self.cool_at, self.heat_at)

    def step(self, now: float, want_cool: bool, want_heat: bool) -> None:
        """Switch towards the wishes as far as the rules allow (offs first)."""
        if self.cool and not want_cool and now - self.cool_at >= MIN_ON_S:
            self.cool, self.cool_at = False, now
        if self.heat and not want_heat and now - self.heat_at >= HEATER_MIN_ON_S:
            self.heat, self.heat_at = False, now
        if (
            want_cool
            and not self.cool
            and not self.heat
            and now - self.cool_at >= MIN_OFF_S
            and now - self.heat_at >= CHANGEOVER_S
        ):
            self.cool, self.cool_at = True, now
        if (
            want_heat
            and not self.heat
            and not self.cool
            and now - self.heat_at >= HEATER_MIN_OFF_S
            and now - self.cool_at >= CHANGEOVER_S
        ):
            self.heat, self.heat_at = True, now


@dataclass(frozen=True, slots=True)
class Plan:
    """One period's plan: the compressor (or, heater="periods", the heater when
    ``heat``) wanted for ``on_s`` from the period's start; the heater thermostat on
    in the period when ``thermostat``."""

    on_s: float
    heat: bool = False
    thermostat: bool = False


def _wishes(
    plan: Plan, phase_s: float, beer_c: float, target_c: float, heating: bool
) -> tuple[bool, bool]:
    """(cool, heat) wanted ``phase_s`` into the period."""
    on = phase_s < plan.on_s
    if not plan.thermostat:
        return on and not plan.heat, on and plan.heat
    return on, beer_c < (target_c if heating else target_c - HEAT_MARGIN_C)


class _Horizon:
    """The cost of each plan from read ``n``, a period's start: the squared true-beer
    error over this period and the next HORIZON_PERIODS - 1 (``next_s`` long), the
    plan repeated in each.

    The search asks for a dozen run lengths, and a run of ``on_s`` is, up to its first
    unwanted read, the same simulation as any longer run with the same heater choice.
    So each candidate starts from the furthest state saved at or before that read (the
    plant and the relays then, and the error summed so far) and saves its own there:
    the same steps in the same order, so the same cost to the bit, with less simulated.

    A cost only ever decides a comparison with another one, and the error sum only
    grows: once it passes ``bound`` (the cost it will be compared with), the candidate
    has lost, and the sum so far (above ``bound``) is returned instead of the whole.
    """

    def __init__(
        self,
        plant: Plant,
        relays: _Relays,
        targets: Sequence[float],
        n: int,
        period_s: float,
        next_s: float | None = None,
    ) -> None:
        self.period_s = period_s
        self.next_s = period_s if next_s is None else next_s
        self.now = n * READ_S
        self.steps = int((period_s + (HORIZON_PERIODS - 1) * self.next_s) / READ_S)
        last = len(targets) - 1
        # The target each step's decision is made on, and its error taken against.
        self.decide = [targets[min(n + k, last)] for k in range(self.steps)]
        self.ahead = [targets[min(n + k + 1, last)] for k in range(self.steps)]
        self.origin = (plant, relays)
        # Per (heat, thermostat): first unwanted read -> (plant, relays, error summed).
        self.saved: dict[tuple[bool, bool], dict[int, tuple[Plant, _Relays, float]]] = {}
        self.off_cost: dict[tuple[bool, bool], float] = {}

    def _first_off(self, plan: Plan) -> int:
        k = 0
        while k < self.steps and k * READ_S < self.period_s and k * READ_S < plan.on_s:
            k += 1
        return k

    def cost(self, plan: Plan, bound: float = math.inf) -> float:
        key = (plan.heat and not plan.thermostat, plan.thermostat)
        if plan.on_s <= 0.0 and key in self.off_cost:
            return self.off_cost[key]
        plant0, relays0 = self.origin
        saved = self.saved.setdefault(key, {0: (plant0, relays0, 0.0)})
        first_off = self._first_off(plan)
        start = max(k for k in saved if k <= first_off)
        origin, relays, total = saved[start]
        sim, relays = origin.clone(), relays.copy()
        temps, ahead, decide, now, step = sim.temps, self.ahead, self.decide, self.now, relays.step
        period_s, next_s = self.period_s, self.next_s
        if start * READ_S < period_s:
            base, edge = 0.0, period_s
        else:
            base = period_s + (start * READ_S - period_s) // next_s * next_s
            edge = base + next_s
        for k in range(start, self.steps):
            if k == first_off and k not in saved:
                saved[k] = (sim.clone(), relays.copy(), total)
            t = k * READ_S
            if t >= edge:
                base, edge = edge, edge + next_s
            cool, heat = _wishes(plan, t - base, temps[BEER], decide[k], relays.heat)
            step(now + t, cool, heat)
            sim.advance(READ_S, heater_on=relays.heat, cooler_on=relays.cool)
            error = temps[BEER] - ahead[k]
            total += error * error
            if total > bound:
                return total
        if first_off == self.steps and first_off not in saved:
            saved[first_off] = (sim, relays, total)
        if plan.on_s <= 0.0 and bound == math.inf:
            self.off_cost[key] = total
        return total


def _lengths(longest: float) -> list[float]:
    """The run lengths tried first: none, then from the compressor's minimum run up to
    ``longest`` in steps of GRID_RATIO (short runs matter most: a strong compressor moves
    a small batch a degree in 20 min), and ``longest``."""
    out = [0.0]
    length = MIN_ON_S
    while length < longest:
        out.append(length)
        length *= GRID_RATIO
    out.append(longest)
    return out


def _best_on_s(
    horizon: _Horizon, heat: bool = False, thermostat: bool = False
) -> tuple[Plan, float]:
    """The run length with the least cost: the best of a geometric grid of lengths,
    then a golden-section search between its neighbours. Returns (the plan, its cost).
    The relays' minimum times are in the simulation."""

    def plan(on_s: float) -> Plan:
        return Plan(on_s, heat, thermostat)

    def cost(on_s: float, bound: float = math.inf) -> float:
        return horizon.cost(plan(on_s), bound)

    grid = _lengths(horizon.period_s)
    costs: list[float] = []
    best = math.inf
    for length in grid:  # shortest first: each longer run carries on from a saved state
        costs.append(cost(length, best))
        best = min(best, costs[-1])
    i = costs.index(best)
    if i == 0 or i == len(grid) - 1:
        return plan(grid[i]), best
    # Every new point is bounded by the one it will be compared with: past it, it loses
    # the comparison (sums of squares only grow), and the value it returns is dropped.
    lo, hi = grid[i - 1], grid[i + 1]
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
    # The loser of the last comparison is never the minimum.
    candidates = {grid[i]: best, (a + b) / 2: min(fa, fb)}
    chosen = min(candidates, key=lambda k: candidates[k])
    return plan(chosen), candidates[chosen]


def _best_plan(horizon: _Horizon, heater: bool, use: HeaterUse) -> Plan:
    """This period's plan: the compressor's run, and the heater's part in it."""
    best, cost = _best_on_s(horizon)
    if heater:
        alternative, other = (
            _best_on_s(horizon, heat=True)
            if use == "periods"
            else _best_on_s(horizon, thermostat=True)
        )
        if other < cost:
            best = alternative
    return best


def _spread(need: Sequence[float], allowed: int) -> list[int]:
    """Period starts for ``allowed`` starts spread as ``need`` (cumulative, per read,
    from 0 to 1) grows; no period longer than MAX_PERIOD_S."""
    longest = int(MAX_PERIOD_S / READ_S)
    out = [0]
    for n in range(1, len(need)):
        # 1e-9: a need of k / total times ``allowed`` = total is k, not a hair below it
        if allowed * need[n] + 1e-9 >= len(out) or n - out[-1] >= longest:
            out.append(n)
    return out


def _periods(
    scenario: Scenario, targets: Sequence[float], allowed: int, by_starts: float
) -> list[int]:
    """The reads at which the periods start: ``allowed`` of them, spaced by the need.

    A first pass runs the plant under a free thermostat on the true beer (the compressor
    on PREPASS_BAND_C above target, off at it; the heater as in the ideal run, with the
    same rules), and counts when its compressor started and ran. The budget's starts
    are spread as those were: ``by_starts`` of the need measured by its starts, the rest
    by its running time."""
    prog = scenario.programme
    plant = Plant(scenario.setup, beer_c=prog.start_c, air_c=scenario.setup.room.at(0.0))
    relays = _Relays()
    heater = scenario.has_heater
    reads = len(targets) - 1
    ran, started = [0], [0]
    for n in range(reads):
        beer, target = plant.beer_c, targets[n]
        cool = beer > target + (0.0 if relays.cool else PREPASS_BAND_C)
        heat = heater and beer < target - (0.0 if relays.heat else HEAT_MARGIN_C)
        relays.step(n * READ_S, cool, heat)
        plant.advance(READ_S, heater_on=relays.heat, cooler_on=relays.cool)
        ran.append(ran[-1] + relays.cool)
        started.append(started[-1] + (relays.cool and relays.cool_at == n * READ_S))
    total_ran, total_started = max(1, ran[-1]), max(1, started[-1])
    need = [
        by_starts * started[n] / total_started + (1 - by_starts) * ran[n] / total_ran
        for n in range(reads)
    ]
    return _spread(need, allowed)


def _as_started(starts_s: Sequence[float], reads: int, allowed: int) -> list[int]:
    """Period starts spread as a controller's own compressor starts (seconds) were."""
    ordered = sorted(starts_s)
    total, k = max(1, len(ordered)), 0
    need = []
    for n in range(reads):
        while k < len(ordered) and ordered[k] <= n * READ_S:
            k += 1
        need.append(k / total)
    return _spread(need, allowed)


def _judged_rms(run_: Run) -> float:
    return _rms([e for _, e in run_.errors])


def budget_run(
    scenario: Scenario,
    starts_per_day: float,
    *,
    judged_from: Sequence[tuple[float, float]] = (),
    seconds: float | None = None,
    heater: HeaterUse = "thermostat",
    reference_starts_s: Sequence[float] | None = None,
    score: Callable[[Run], float] = _judged_rms,
) -> Run:
    """The ideal controller at ``starts_per_day`` on ``scenario``, judged as run() judges.

    ``reference_starts_s``: the compressor starts of the controller whose count is the
    budget; a schedule spread as they were is tried too. Of the schedules, the run with
    the least ``score`` is kept."""
    duration = scenario.programme.seconds if seconds is None else seconds
    targets = _targets(scenario.programme, duration)
    allowed = math.floor(starts_per_day * duration / DAY_S + 1e-6)
    step = DAY_S / starts_per_day / READ_S if allowed else math.inf
    even = [math.ceil(k * step) for k in range(allowed)] or [0]

    def ideal(bounds: list[int]) -> Run:
        return _run(
            scenario, starts_per_day, duration, targets, bounds, allowed, judged_from, heater
        )

    if heater == "periods" or not allowed:
        return ideal(even)
    schedules = [
        even if by_starts is None else _periods(scenario, targets, allowed, by_starts)
        for by_starts in NEED_BY_STARTS
    ]
    if reference_starts_s:
        schedules.append(_as_started(reference_starts_s, len(targets) - 1, allowed))
    return min((ideal(bounds) for bounds in schedules), key=score)


def _run(
    scenario: Scenario,
    starts_per_day: float,
    duration: float,
    targets: Sequence[float],
    bounds: list[int],
    allowed: int,
    judged_from: Sequence[tuple[float, float]],
    heater: HeaterUse,
) -> Run:
    """The ideal controller, its periods starting at the reads ``bounds``; ``targets``
    the target at every read (``_targets``), one past the end."""
    prog = scenario.programme
    plant = Plant(scenario.setup, beer_c=prog.start_c, air_c=scenario.setup.room.at(0.0))
    out = Run(f"ideal at {starts_per_day:.1f} starts/day", duration)
    skip = sorted(judged_from)
    has_heater = scenario.has_heater
    # The last period ends with the run (the horizon looks past it, the target held).
    ends = [*bounds[1:], len(targets) - 1]
    follows = [*ends[1:], ends[-1] + ends[-1] - ends[-2] if len(ends) > 1 else ends[-1]]
    relays = _Relays()
    plan, period_start, period = Plan(0.0), 0.0, -1
    was = {"heater": False, "cooler": False}
    for n in range(len(targets) - 1):
        now = n * READ_S
        if period + 1 < len(bounds) and n == bounds[period + 1]:
            period += 1
            length = (ends[period] - n) * READ_S
            following = (follows[period] - ends[period]) * READ_S
            if len(out.starts["cooler"]) < allowed or relays.cool:
                horizon = _Horizon(plant, relays, targets, n, length, following)
                plan = _best_plan(horizon, has_heater, heater)
            else:  # the budget is spent: the heater alone
                plan = Plan(0.0, thermostat=has_heater and heater == "thermostat")
            period_start = now
        cool, heat = _wishes(plan, now - period_start, plant.beer_c, targets[n], relays.heat)
        if len(out.starts["cooler"]) >= allowed and not relays.cool:
            cool = False  # the budget is spent
        relays.step(now, cool, heat)
        for rid, on in (("heater", relays.heat), ("cooler", relays.cool)):
            if on != was[rid]:
                (out.starts if on else out.stops)[rid].append(now)
                was[rid] = on
        plant.advance(READ_S, heater_on=relays.heat, cooler_on=relays.cool)
        t = now + READ_S
        error = plant.beer_c - targets[n + 1]
        out.all_errors.append(error)
        if not any(a <= t <= b for a, b in skip):
            out.errors.append((t, error))
        if n % 6 == 0:
            out.beer.append((t, plant.beer_c, targets[n + 1]))
    return out
