"""The closed loop for bench/control.py and the control tests: a controller, BeerPi's
relay gate and safety rules, and a physics plant on simulated time, and the numbers a
brewer would judge it by.

Every controller reads the same DS18B20-like probes every READ_S and asks for
heater/cooler on or off; the loop switches through ``pi_daemon.safety.RelayGate``,
as the daemon does: minimum on/off times, heater and cooler never both on, offs
first, and the safety supervisor's holds (a relay past its maximum run time with no
effect is locked out; ``no_effect`` is raised after its window). BeerPi's
thermostat plans with the gate's rules and brings its own supervisor, as in the
daemon; the baselines get the same supervisor, and no changeover time (neither
product has one). Error is judged on the *true* beer temperature, which is what the
brewer drinks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from beerpi_protocol import FaultCode, ThermostatMode
from pi_daemon.control import (
    ControlDecision,
    ControlSettings,
    ProbeSample,
    Thermostat,
)
from pi_daemon.safety import Cause, RelayGate, RelayRules, SafetySupervisor, Switch
from pi_daemon.safety.limits import CHANGEOVER_S
from pi_daemon.safety.supervisor import HOLDER
from pi_daemon.simulation.plant import Plant, PlantSetup

from ._control_baselines import Inputs

READ_S = 10.0
START = datetime(2026, 3, 1, tzinfo=UTC)
HOUR_S = 3600.0
DAY_S = 86_400.0
# A heater start sooner than this after the cooler stopped (or the reverse) is a fight.
# The same boundary as the relay gate's changeover (``safety.changeover_s``), which
# lets the other relay start once this long has passed, not before.
FIGHT_WINDOW_S = CHANGEOVER_S  # 30 min
SETTLED_C = 0.5
SETTLE_WINDOW_S = 12 * HOUR_S
OVERSHOOT_WINDOW_S = 24 * HOUR_S
# A target change of more than this at once is a step (judged for overshoot, and
# the pull-down or warm-up after it is not counted as holding error).
STEP_C = 0.5


# -- programmes ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    kind: Literal["hold", "ramp"]
    target_c: float  # held, or reached at the end of the ramp
    hours: float


@dataclass(frozen=True, slots=True)
class Programme:
    start_c: float  # the beer's temperature at pitching
    segments: tuple[Segment, ...]

    @property
    def seconds(self) -> float:
        return sum(s.hours for s in self.segments) * HOUR_S

    def bounds(self) -> list[tuple[float, float, float, Segment]]:
        """(start s, end s, target at start, segment) for each segment."""
        out = []
        t, previous = 0.0, self.segments[0].target_c
        for seg in self.segments:
            begin = seg.target_c if seg.kind == "hold" else previous
            out.append((t, t + seg.hours * HOUR_S, begin, seg))
            t += seg.hours * HOUR_S
            previous = seg.target_c
        return out

    def target_at(self, t_s: float) -> float:
        for start, end, begin, seg in self.bounds():
            if t_s < end:
                if seg.kind == "hold":
                    return seg.target_c
                return begin + (seg.target_c - begin) * (t_s - start) / (end - start)
        return self.segments[-1].target_c

    def changes(self) -> list[tuple[float, float, float]]:
        """(time, target before, target after) for each step and each ramp's end."""
        out = [(0.0, self.start_c, self.segments[0].target_c)]
        previous = self.segments[0].target_c
        for start, _end, _begin, seg in self.bounds()[1:]:
            if seg.kind == "hold" and abs(seg.target_c - previous) > STEP_C:
                out.append((start, previous, seg.target_c))
            previous = seg.target_c
        for _start, end, begin, seg in self.bounds():
            if seg.kind == "ramp":
                out.append((end, begin, seg.target_c))
        return sorted(out)

    def steps(self) -> list[tuple[float, float, float]]:
        ramp_ends = {round(e) for _, e, _, s in self.bounds() if s.kind == "ramp"}
        return [c for c in self.changes() if round(c[0]) not in ramp_ends]

    def holds(self, until_s: float | None = None) -> list[tuple[float, float, float]]:
        """(start, end, target) of each hold; a run cut at ``until_s`` cuts them short."""
        end = self.seconds if until_s is None else until_s
        return [
            (a, min(b, end), s.target_c)
            for a, b, _, s in self.bounds()
            if s.kind == "hold" and a < end
        ]


def hold(target_c: float, days: float) -> Segment:
    return Segment("hold", target_c, days * 24)


def ramp(target_c: float, hours: float) -> Segment:
    return Segment("ramp", target_c, hours)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    setup: PlantSetup
    programme: Programme
    note: str = ""

    @property
    def has_heater(self) -> bool:
        return self.setup.heater is not None


# -- controllers -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wish:
    heat: bool
    cool: bool
    # The controller's own safety verdict (BeerPi's thermostat): relays held off, and
    # its active faults as (source, code). None: the loop's supervisor judges.
    holds: Mapping[str, str] | None = None
    faults: frozenset[tuple[str, FaultCode]] = frozenset()


class Controller(Protocol):
    name: str

    def decide(self, i: Inputs) -> Wish: ...

    def rules(self, settings: ControlSettings) -> RelayRules:
        """The relay rules the gate enforces for this controller."""
        ...


class Plain:
    """A baseline (a function of the inputs) as a Controller."""

    def __init__(self, decide: Callable[[Inputs], tuple[bool, bool]], name: str) -> None:
        self._decide = decide
        self.name = name

    def decide(self, i: Inputs) -> Wish:
        heat, cool = self._decide(i)
        return Wish(heat, cool)

    def rules(self, settings: ControlSettings) -> RelayRules:
        relays = [r for r in (settings.heater, settings.cooler) if r is not None]
        return RelayRules.build(
            {rid: settings.timing(rid) for rid in relays},
            start_s=0.0,
            resting=[settings.cooler] if settings.cooler else [],
            interlock=(settings.heater, settings.cooler)
            if settings.heater and settings.cooler
            else None,
            changeover_s=0.0,
        )


class BeerPi:
    """BeerPi's Thermostat, as the daemon drives it (beer and chamber probes)."""

    name = "BeerPi"

    def __init__(self, settings: ControlSettings) -> None:
        self.settings = settings
        self.thermostat = Thermostat(settings, start_s=0.0)
        mode = ThermostatMode.HEAT_COOL if settings.heater else ThermostatMode.COOL
        self.thermostat.set_mode(mode)
        self.decision: ControlDecision | None = None

    @property
    def setpoint_c(self) -> float | None:
        return self.decision.chamber_setpoint_c if self.decision else None

    def rules(self, settings: ControlSettings) -> RelayRules:
        return self.thermostat.rules  # it plans with the rules the gate enforces

    def decide(self, i: Inputs) -> Wish:
        t = self.thermostat
        if i.target_c != t.target_c:
            t.set_target(i.target_c)
        s = self.settings
        samples = {s.probe: ProbeSample(i.beer_c, None, i.now_s)}
        if s.chamber_probe:
            samples[s.chamber_probe] = ProbeSample(i.chamber_c, None, i.now_s)
        relays = {"cooler": i.cooling}
        if s.heater:
            relays["heater"] = i.heating
        d = self.decision = t.step(i.now_s, START + timedelta(seconds=i.now_s), samples, relays)
        faults = frozenset((f.source, f.code) for f in d.faults if f.code is not None)
        return Wish(d.relays.get("heater", False), d.relays.get("cooler", False), d.holds, faults)


def settings_for(scenario: Scenario) -> ControlSettings:
    return ControlSettings(heater="heater" if scenario.has_heater else None)


# -- the loop --------------------------------------------------------------------------


@dataclass
class Trace:
    """Every TRACE_S: time, target, true beer, beer reading, air, heater, cooler."""

    t_s: list[float] = field(default_factory=list)
    target_c: list[float] = field(default_factory=list)
    beer_c: list[float] = field(default_factory=list)
    beer_read_c: list[float] = field(default_factory=list)
    air_c: list[float] = field(default_factory=list)
    heater: list[bool] = field(default_factory=list)
    cooler: list[bool] = field(default_factory=list)
    setpoint_c: list[float | None] = field(default_factory=list)


@dataclass
class Run:
    controller: str
    seconds: float
    # Judged samples (after the pull-down/warm-up of each step): (t, error).
    errors: list[tuple[float, float]] = field(default_factory=list)
    all_errors: list[float] = field(default_factory=list)
    starts: dict[str, list[float]] = field(default_factory=lambda: {"heater": [], "cooler": []})
    stops: dict[str, list[float]] = field(default_factory=lambda: {"heater": [], "cooler": []})
    hot_heater_starts: int = 0  # heater starts while the beer read above target
    trips: int = 0  # maximum-run lock-outs (of a relay with no effect)
    no_effect: int = 0  # no_effect faults raised
    both_on_s: float = 0.0
    beer: list[tuple[float, float, float]] = field(default_factory=list)  # (t, beer, target)
    trace: Trace = field(default_factory=Trace)


class MemoryRelay:
    """A relay channel in memory for the gate (implements ``Relay``)."""

    def __init__(self, relay_id: str) -> None:
        self.id = relay_id
        self.is_on = False

    def on(self) -> None:
        self.is_on = True

    def off(self) -> None:
        self.is_on = False

    def close(self) -> None:
        self.is_on = False


# Long on purpose: one simulated run, tick by tick: plant, controller, relay gate and supervisor
# step together on shared locals, and the order of the steps is the thing to read.
def run(
    scenario: Scenario,
    controller: Controller,
    *,
    judged_from: Sequence[tuple[float, float]] = (),
    trace_s: float = 300.0,
    seconds: float | None = None,
) -> Run:
    """Run ``controller`` on ``scenario``. ``judged_from``: (step time, time from which
    error counts) windows to leave out, see limits()."""
    prog = scenario.programme
    duration = prog.seconds if seconds is None else seconds
    plant = Plant(scenario.setup, beer_c=prog.start_c, air_c=scenario.setup.room.at(0.0))
    settings = settings_for(scenario)
    ids = ["cooler"] + (["heater"] if scenario.has_heater else [])
    rules = controller.rules(settings)
    clock = [0.0]
    gate = RelayGate({rid: MemoryRelay(rid) for rid in ids}, rules, lambda: clock[0])
    # The baselines get the daemon's safety supervisor; BeerPi's thermostat has its own.
    supervisor = SafetySupervisor(
        settings.safety,
        rules.guards,
        probe=settings.probe,
        chamber_probe=settings.chamber_probe,
        heater=settings.heater,
        cooler=settings.cooler,
        start_s=0.0,
    )
    out = Run(controller.name, duration)
    beer_read = 0.0
    target = 0.0

    def switched(change: Switch) -> None:
        (out.starts if change.on else out.stops)[change.relay].append(change.at_s)
        if change.on and change.relay == "heater" and beer_read > target:
            out.hot_heater_starts += 1

    gate.listeners.append(switched)
    skip = sorted(judged_from)
    every = max(1, round(trace_s / READ_S))
    targets = _targets(prog, duration)
    locked = dict.fromkeys(ids, False)
    raised: frozenset[tuple[str, FaultCode]] = frozenset()
    for n in range(len(targets) - 1):
        now = clock[0] = n * READ_S
        target = targets[n]
        beer_read, chamber_read = plant.read_beer(), plant.read_chamber()
        states = gate.states()
        wish = controller.decide(
            Inputs(
                now,
                target,
                beer_read,
                chamber_read,
                states.get("heater", False),
                states["cooler"],
            )
        )
        holds, faults = wish.holds, wish.faults
        if holds is None:
            samples = {
                settings.probe: ProbeSample(beer_read, None, now),
                "fridge": ProbeSample(chamber_read, None, now),
            }
            check = supervisor.assess(now, samples)
            holds = check.holds
            faults = frozenset((f.source, f.code) for f in check.faults)
        gate.hold(HOLDER, holds, now)
        wanted = {"cooler": wish.cool}
        if scenario.has_heater:
            wanted["heater"] = wish.heat
        gate.apply(wanted, now, Cause.CONTROL)
        for rid in ids:
            now_locked = rules.guards[rid].locked(now)
            out.trips += now_locked and not locked[rid]
            locked[rid] = now_locked
        out.no_effect += sum(1 for f in faults - raised if f[1] is FaultCode.NO_EFFECT)
        raised = faults
        states = gate.states()
        heater_on, cooler_on = states.get("heater", False), states["cooler"]
        if heater_on and cooler_on:
            out.both_on_s += READ_S
        plant.advance(READ_S, heater_on=heater_on, cooler_on=cooler_on)
        t = now + READ_S
        target_then = targets[n + 1]
        error = plant.beer_c - target_then
        out.all_errors.append(error)
        if not skip or not any(a <= t <= b for a, b in skip):
            out.errors.append((t, error))
        if n % 6 == 0:
            out.beer.append((t, plant.beer_c, target_then))
        if n % every == 0:
            tr = out.trace
            tr.t_s.append(t)
            tr.target_c.append(target_then)
            tr.beer_c.append(plant.beer_c)
            tr.beer_read_c.append(beer_read)
            tr.air_c.append(plant.air_c)
            tr.heater.append(heater_on)
            tr.cooler.append(cooler_on)
            tr.setpoint_c.append(getattr(controller, "setpoint_c", None))
    return out


def _targets(prog: Programme, duration: float) -> list[float]:
    """The target at every read, and one past the end."""
    steps = int(duration / READ_S)
    out: list[float] = []
    n = 0
    for start, end, begin, seg in prog.bounds():
        while n <= steps and n * READ_S < end:
            t = n * READ_S
            if seg.kind == "hold":
                out.append(seg.target_c)
            else:
                out.append(begin + (seg.target_c - begin) * (t - start) / (end - start))
            n += 1
    while n <= steps:
        out.append(prog.segments[-1].target_c)
        n += 1
    return out


# -- physics limits: what an ideal controller could do ----------------------------------


def oracle_run(scenario: Scenario, seconds: float | None = None) -> list[tuple[float, float]]:
    """(t, true beer) every minute under ideal, unprotected switching on the true beer."""
    prog = scenario.programme
    duration = prog.seconds if seconds is None else seconds
    plant = Plant(scenario.setup, beer_c=prog.start_c, air_c=scenario.setup.room.at(0.0))
    out = []
    for n in range(int(duration / READ_S)):
        now = n * READ_S
        target = prog.target_at(now)
        heat = scenario.has_heater and plant.beer_c < target
        cool = plant.beer_c > target
        plant.advance(READ_S, heater_on=heat, cooler_on=cool)
        if n % 6 == 0:
            out.append((now + READ_S, plant.beer_c))
    return out


@dataclass(frozen=True, slots=True)
class Limits:
    """What physics allows on a scenario, from the oracle's run."""

    # Per step: (step time, time from which holding error is judged).
    transients: tuple[tuple[float, float], ...]
    # Per hold: can even the oracle stay within ±0.5 °C in its last 12 h?
    holds_feasible: tuple[bool, ...]
    # Per hold: the oracle's worst error in its last 12 h.
    oracle_hold_error_c: tuple[float, ...]


def limits(scenario: Scenario, seconds: float | None = None) -> Limits:
    prog = scenario.programme
    beer = oracle_run(scenario, seconds)
    end = prog.seconds if seconds is None else seconds
    transients = []
    for t0, _, _after in prog.steps():
        reached = next(
            (t for t, b in beer if t >= t0 and abs(b - prog.target_at(t)) <= 0.25), math.inf
        )
        # The error counts from when the ideal controller got there, plus 6 h to settle,
        # and never earlier than 12 h after the step.
        transients.append((t0, min(end, max(t0 + 12 * HOUR_S, reached + 6 * HOUR_S))))
    feasible, worst = [], []
    for _a, b, target in prog.holds(end):
        tail = [abs(x - target) for t, x in beer if b - SETTLE_WINDOW_S <= t < b]
        w = max(tail) if tail else math.inf
        worst.append(w)
        feasible.append(w <= SETTLED_C)
    return Limits(tuple(transients), tuple(feasible), tuple(worst))


# -- the numbers -----------------------------------------------------------------------


@dataclass
class Metrics:
    """One controller on one scenario.

    rms_c, max_c, mean_c: true beer minus target, over the judged samples (holds and
    ramps, leaving out each step's pull-down or warm-up until the oracle got there
    plus 6 h, at least 12 h). rms_reachable_c: the same, leaving out the holds physics
    rules out (the oracle may come near such a hold's target and still not keep it;
    equal to rms_c where every hold can be reached). rms_all_c: every sample.
    overshoot_c: the first peak
    past a new target in the step's direction (from the first crossing until the
    beer comes back, within 24 h of a step or a ramp's end), the worst over the
    changes into holds physics allows. compressor_per_day, heater_per_day: relay starts.
    fights: heater starts sooner than 30 min after the cooler stopped, and cooler
    starts sooner than 30 min after the heater stopped (the gate's changeover lets
    one start at 30 min, not before); fight_pct: of all starts.
    hot_heater_pct: heater starts with the beer reading above target.
    guard_breaches: maximum-run lock-outs, which now happen only to a relay with no
    effect (and 1 if both relays were ever on). no_effect: no_effect faults raised.
    hold_errors_c: per hold, the worst error in its last 12 h.
    """

    controller: str
    rms_c: float
    max_c: float
    mean_c: float
    rms_reachable_c: float  # judged samples outside the holds physics rules out
    rms_all_c: float  # every sample, pull-downs included
    overshoot_c: float  # the worst, over changes into holds physics allows
    compressor_per_day: float
    heater_per_day: float
    fights: int
    fight_pct: float
    hot_heater_pct: float  # heater starts with the beer reading above target
    guard_breaches: int
    no_effect: int
    holds_settled: int
    holds: int
    hold_errors_c: list[float]


def overshoots(run_: Run, prog: Programme) -> list[tuple[float, int]]:
    """Per step or ramp end: (overshoot, index of the hold it leads into)."""
    out = []
    holds = prog.holds(run_.seconds)
    boundaries = sorted({round(a) for a, _, _, _ in prog.bounds()} | {round(prog.seconds)})
    for t0, before, after in prog.changes():
        if t0 >= run_.seconds:
            continue
        sign = 1.0 if after > before else -1.0
        nxt = min([float(b) for b in boundaries if b > t0 + 1] or [prog.seconds])
        end = min(nxt, t0 + OVERSHOOT_WINDOW_S)
        # The first peak: from the first crossing of the new target until the beer
        # comes back to it (later swings are holding error, not overshoot).
        worst, crossed = 0.0, False
        for t, b, target in run_.beer:
            if not t0 <= t < end:
                continue
            past = sign * (b - target)
            if past >= 0:
                crossed = True
                worst = max(worst, past)
            elif crossed:
                break
        hold_index = next((i for i, (a, _, _) in enumerate(holds) if a >= t0 - 1), len(holds) - 1)
        out.append((worst, hold_index))
    return out


def fights(run_: Run) -> int:
    count = 0
    for rid, other in (("heater", "cooler"), ("cooler", "heater")):
        stops = run_.stops[other]
        for t in run_.starts[rid]:
            if any(0 <= t - s < FIGHT_WINDOW_S for s in stops):
                count += 1
    return count


def _rms(errors: Sequence[float]) -> float:
    return math.sqrt(sum(e * e for e in errors) / max(1, len(errors)))


def metrics(run_: Run, prog: Programme, feasible: Sequence[bool] = ()) -> Metrics:
    """``feasible``: per hold, whether physics allows it (limits()); all, if not given."""
    errs = [e for _, e in run_.errors] or [0.0]
    days = run_.seconds / DAY_S
    n_fights = fights(run_)
    starts = len(run_.starts["heater"]) + len(run_.starts["cooler"])
    hold_errors, out_of_reach = [], []
    for k, (a, b, _target) in enumerate(prog.holds(run_.seconds)):
        tail = [abs(x - tg) for t, x, tg in run_.beer if b - SETTLE_WINDOW_S <= t < b]
        hold_errors.append(max(tail) if tail else math.inf)
        if k < len(feasible) and not feasible[k]:
            out_of_reach.append((a, b))
    heater_starts = len(run_.starts["heater"])
    reachable = [e for t, e in run_.errors if not any(a <= t < b for a, b in out_of_reach)]
    return Metrics(
        controller=run_.controller,
        rms_c=_rms(errs),
        max_c=max(abs(e) for e in errs),
        mean_c=sum(errs) / len(errs),
        rms_reachable_c=_rms(reachable),
        rms_all_c=_rms(run_.all_errors),
        overshoot_c=max(
            [o for o, h in overshoots(run_, prog) if h >= len(feasible) or feasible[h]],
            default=0.0,
        ),
        compressor_per_day=len(run_.starts["cooler"]) / days,
        heater_per_day=heater_starts / days,
        fights=n_fights,
        fight_pct=100.0 * n_fights / starts if starts else 0.0,
        hot_heater_pct=100.0 * run_.hot_heater_starts / heater_starts if heater_starts else 0.0,
        guard_breaches=run_.trips + (1 if run_.both_on_s > 0 else 0),
        no_effect=run_.no_effect,
        holds_settled=sum(e <= SETTLED_C for e in hold_errors),
        holds=len(hold_errors),
        hold_errors_c=hold_errors,
    )
