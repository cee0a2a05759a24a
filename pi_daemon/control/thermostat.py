"""The one object the daemon drives: mode, target, profile, and a step per probe read.

Pure: the daemon passes the control clock (monotonic seconds), the wall time,
the latest probe samples and the relays' actual states; the thermostat answers
with a ControlDecision and never touches hardware, files or the clock itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from beerpi_protocol import ProfileProgress, ThermostatAction, ThermostatMode
from beerpi_protocol.models import ThermostatState
from pi_daemon.gravity.book import GravityPoint
from pi_daemon.safety import Cause, ProbeSample, RelayGuard, RelayRules, SafetySupervisor
from pi_daemon.safety.probes import ProbeMonitor

from .adaptive import AdaptiveControl
from .decision import ControlDecision
from .demand import Demand, Direction
from .fallback import beer_only_demand
from .profile import Profile, gravity_step_done, parse_profile
from .profile_run import active_point, active_progress
from .profile_store import ActiveProfile
from .settings import ControlSettings

_MODES = ", ".join(m.value for m in ThermostatMode)


class _Decide(Protocol):
    """The step's ``decide`` closure: builds and remembers the decision."""

    def __call__(
        self,
        relays: Mapping[str, bool],
        action: ThermostatAction,
        reason: str,
        setpoint: float | None = None,
    ) -> ControlDecision: ...


def driven_relays(settings: ControlSettings, mode: ThermostatMode | None) -> tuple[str, ...]:
    """The relays the thermostat drives in ``mode`` (none for an unknown mode)."""
    by_mode: dict[ThermostatMode | None, tuple[str | None, ...]] = {
        ThermostatMode.HEAT: (settings.heater,),
        ThermostatMode.COOL: (settings.cooler,),
        ThermostatMode.HEAT_COOL: (settings.heater, settings.cooler),
    }
    wanted = by_mode.get(mode, ())
    return tuple(r for r in wanted if r is not None)


class Thermostat:
    def __init__(
        self,
        settings: ControlSettings | None = None,
        *,
        start_s: float = 0.0,
        rules: RelayRules | None = None,
    ) -> None:
        """``rules``: the relay rules the daemon's gate enforces (shared, so plans match).

        Without them (tests, benchmarks) the thermostat makes its own, in which
        the cooler rests its minimum off time from ``start_s``: a compressor
        restarted straight after a power cut can stall against its own
        pressure; a heater has no such problem, so it may start at once.
        """
        self.settings = s = settings or ControlSettings()
        self.mode = ThermostatMode.OFF
        self.target_c = s.default_target_c
        self._profile: ActiveProfile | None = None
        if rules is None:
            rules = RelayRules.build(
                {rid: s.timing(rid) for rid in (s.heater, s.cooler) if rid is not None},
                start_s=start_s,
                resting=[s.cooler] if s.cooler else [],
                interlock=(s.heater, s.cooler) if s.heater and s.cooler else None,
                changeover_s=s.safety.changeover_s,
            )
        self.rules = rules
        self.safety = SafetySupervisor(
            s.safety,
            rules.guards,
            probe=s.probe,
            chamber_probe=s.chamber_probe,
            heater=s.heater,
            cooler=s.cooler,
            start_s=start_s,
        )
        self._adaptive = AdaptiveControl(s.tuning)
        self._last_s: float | None = None
        self._last: ControlDecision | None = None
        # This step's safety holds (relay -> why): such a relay is planned off.
        self._held: Mapping[str, str] = {}
        # This step's beer reading and target, for the changeover rule.
        self._beer: tuple[float | None, float] = (None, s.default_target_c)

    @property
    def guards(self) -> Mapping[str, RelayGuard]:
        return self.rules.guards

    @property
    def monitors(self) -> Mapping[str, ProbeMonitor]:
        return self.safety.monitors

    # -- requests ---------------------------------------------------------------

    @property
    def controlled_relays(self) -> tuple[str, ...]:
        """Relays the thermostat drives now; manual switching of these is refused."""
        return driven_relays(self.settings, self.mode)

    def set_mode(self, mode: object) -> tuple[str, ...]:
        """Change mode; returns the relays it no longer drives (the daemon switches them off)."""
        parsed = mode if isinstance(mode, ThermostatMode) else ThermostatMode.parse(mode)
        if parsed is None:
            raise ValueError(f"mode must be one of: {_MODES}")
        s = self.settings
        if parsed in (ThermostatMode.HEAT, ThermostatMode.HEAT_COOL) and s.heater is None:
            raise ValueError(f"mode {parsed.value} needs a heater, none is configured")
        if parsed in (ThermostatMode.COOL, ThermostatMode.HEAT_COOL) and s.cooler is None:
            raise ValueError(f"mode {parsed.value} needs a cooler, none is configured")
        before = set(self.controlled_relays)
        if parsed != self.mode:
            # A mode change is a person looking at the fermenter: max-run latches clear.
            self.rules.clear_lockouts()
            self.safety.clear_trips()
        self.mode = parsed
        return tuple(sorted(before - set(self.controlled_relays)))

    def set_target(self, value: object) -> None:
        """Set a fixed target; a running profile stops (the person overrides it)."""
        self.target_c = self._valid_target(value)
        self._profile = None

    def _valid_target(self, value: object) -> float:
        s = self.settings
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("target must be a number (°C)")
        target = float(value)
        if not math.isfinite(target) or not s.target_min_c <= target <= s.target_max_c:
            raise ValueError(f"target must be between {s.target_min_c:g} and {s.target_max_c:g} °C")
        return target

    def set_profile(self, profile: object, now_wall: datetime) -> ActiveProfile | None:
        """Start a profile now (request JSON or a Profile); None stops it. Returns what to save."""
        if profile is None:
            self._profile = None
            return None
        if not isinstance(profile, Profile):
            s = self.settings
            profile = parse_profile(profile, min_c=s.target_min_c, max_c=s.target_max_c)
        self._profile = ActiveProfile(profile, now_wall)
        return self._profile

    def resume_profile(self, active: ActiveProfile | None) -> None:
        """After a restart: continue a stored profile from its original start."""
        self._profile = active

    @property
    def active_profile(self) -> ActiveProfile | None:
        return self._profile

    def end_step_on_gravity(
        self, now_wall: datetime, history: Callable[[str | None], Sequence[GravityPoint]]
    ) -> ActiveProfile | None:
        """End the running step if it waits on gravity that has come; the profile to save.

        ``history(hydrometer)`` gives a hydrometer's kept readings (None: the one
        that reported last). None when nothing changed.
        """
        active = self._profile
        # A paused step waits: its gravity is looked at again once it resumes.
        if active is None or active.paused_at is not None:
            return None
        point = active_point(active, now_wall)
        step = active.profile.steps[point.step]
        if point.finished or not step.ends_on_gravity:
            return None
        if not gravity_step_done(step, history(step.hydrometer), now_wall):
            return None
        ran_s = active.profile.lengths_s(active.ended)[point.step] - point.step_time_left_s
        # Down to the millisecond: length − (length − t) can come out a hair above t, and
        # the step would then still be running at this very moment.
        ran_s = math.floor(ran_s * 1000.0) / 1000.0
        self._profile = replace(active, ended={**active.ended, point.step: max(0.0, ran_s)})
        return self._profile

    def record_switch(self, relay_id: str, now_s: float, on: bool) -> None:
        """A relay was switched outside a gate that shares these rules (tests, benchmarks)."""
        guard = self.guards.get(relay_id)
        if guard is not None:
            guard.record(now_s, on)

    # -- the step ----------------------------------------------------------------

    def target_at(self, now_wall: datetime) -> float:
        if self._profile is None:
            return self.target_c
        return active_point(self._profile, now_wall).target_c

    def step(
        self,
        now_s: float,
        now_wall: datetime,
        samples: Mapping[str, ProbeSample],
        relays_on: Mapping[str, bool],
    ) -> ControlDecision:
        """One step: the safety rules' verdict first, then the demand within it."""
        dt_s = 0.0 if self._last_s is None else min(max(0.0, now_s - self._last_s), 60.0)
        self._last_s = now_s
        for rid, guard in self.guards.items():
            if rid in relays_on and relays_on[rid] != guard.is_on:
                guard.record(now_s, relays_on[rid])  # switched behind our back: trust the relay
        target = self.target_at(now_wall)
        progress = self._progress(now_wall)

        controlled = self.controlled_relays
        check = self.safety.assess(now_s, samples)
        self._held = check.holds
        infos = tuple(f.to_info(now_s, now_wall) for f in check.faults)

        def decide(
            relays: Mapping[str, bool],
            action: ThermostatAction,
            reason: str,
            setpoint: float | None = None,
        ) -> ControlDecision:
            self._last = ControlDecision(
                dict(relays), action, reason, target, infos, progress, check.holds, setpoint
            )
            return self._last

        if self.mode is ThermostatMode.OFF:
            return decide({}, ThermostatAction.OFF, "thermostat off")
        all_off = dict.fromkeys(controlled, False)
        if check.stop is not None:
            return decide(all_off, ThermostatAction.FAULT, check.stop)
        if check.probe_c is None:
            why = f"no reading from the {self.settings.probe} probe yet"
            return decide(all_off, ThermostatAction.WAITING, why)
        self._beer = (check.probe_c, target)
        return self._control(now_s, dt_s, target, check.probe_c, decide)

    def _progress(self, now_wall: datetime) -> ProfileProgress | None:
        if self._profile is None:
            return None
        return active_progress(self._profile, now_wall)

    def _control(
        self,
        now_s: float,
        dt_s: float,
        target: float,
        beer_c: float,
        decide: _Decide,
    ) -> ControlDecision:
        s = self.settings
        controlled = self.controlled_relays
        heater = s.heater if s.heater in controlled else None
        cooler = s.cooler if s.cooler in controlled else None
        heating = heater is not None and self.guards[heater].is_on
        cooling = cooler is not None and self.guards[cooler].is_on
        chamber = self.monitors[s.chamber_probe].value if s.chamber_probe else None
        setpoint: float | None = None
        if chamber is not None:
            demand = self._adaptive.demand(
                now_s=now_s,
                dt_s=dt_s,
                target_c=target,
                beer_c=beer_c,
                air_c=chamber,
                heating=heating,
                cooling=cooling,
                allow_heat=heater is not None,
                allow_cool=cooler is not None,
            )
            setpoint = self._adaptive.setpoint_c
        else:
            demand = beer_only_demand(
                target,
                beer_c,
                s.tuning,
                heating=heating,
                cooling=cooling,
                allow_heat=heater is not None,
                allow_cool=cooler is not None,
                last_direction=self._adaptive.last_direction,
            )
        return self._apply(now_s, demand, heater, cooler, setpoint, decide)

    def _apply(
        self,
        now_s: float,
        demand: Demand,
        heater: str | None,
        cooler: str | None,
        setpoint: float | None,
        decide: _Decide,
    ) -> ControlDecision:
        desired: dict[str, bool] = {}
        waits: list[str] = []
        finishing: list[str] = []
        pairs = [(heater, demand.heat, cooler), (cooler, demand.cool, heater)]
        # Relays that want off come first; the gate keeps a relay on for its minimum on time.
        for rid, want, _ in pairs:
            if rid is not None and not want:
                kept = (
                    None if rid in self._held else self.rules.refuse_off(rid, now_s, Cause.CONTROL)
                )
                desired[rid] = kept is not None
                if kept is not None:
                    finishing.append(kept.message)
        for rid, want, other in pairs:
            if rid is None or not want:
                continue
            refusal = self.rules.refuse_on(rid, now_s, Cause.CONTROL)
            changeover = self._changeover(rid, other)
            if rid in self._held:
                desired[rid] = False
                waits.append(f"{rid} held off: {self._held[rid]}")
            elif changeover is not None:
                desired[rid] = False
                waits.append(changeover)
            elif other is not None and (desired.get(other, False) or self.guards[other].is_on):
                # One step later at the earliest: offs never share a step with the other's on.
                desired[rid] = False
                waits.append(f"{rid} waits for {other} to stop")
            elif refusal is not None:
                desired[rid] = False
                waits.append(refusal.message)
            else:
                desired[rid] = True
        if demand.wait is not None:
            # The demand holds a relay back; the gate's own wait, if any, is the one to tell.
            rid = heater if demand.held is Direction.HEAT else cooler
            refusal = None if rid is None else self.rules.refuse_on(rid, now_s, Cause.CONTROL)
            waits.append(demand.wait if refusal is None else refusal.message)
        if heater is not None and desired.get(heater):
            action, reason = ThermostatAction.HEATING, f"heating: {demand.why}"
        elif cooler is not None and desired.get(cooler):
            action, reason = ThermostatAction.COOLING, f"cooling: {demand.why}"
        elif waits:
            action, reason = ThermostatAction.WAITING, "; ".join(waits)
        else:
            action, reason = ThermostatAction.IDLE, f"idle: {demand.why}"
        if finishing and action in (ThermostatAction.HEATING, ThermostatAction.COOLING):
            reason = f"{reason}; {'; '.join(finishing)}"
        return decide(desired, action, reason, setpoint)

    def _changeover(self, relay: str, other: str | None) -> str | None:
        """Why ``relay`` may not start yet because ``other`` ran last, None when it may.

        Heating after cooling (or the other way round) waits until the beer itself
        has crossed the target by ``changeover_c``: the chamber air swings past its
        setpoint after every run and the beer coasts on, and answering that swing
        with the opposite relay only makes the two alternate. (The gate adds the
        changeover time.)
        """
        if other is None or self.guards[relay].is_on:
            return None
        theirs, ours = self.guards[other].ran_until_s, self.guards[relay].ran_until_s
        if theirs is None or (ours is not None and ours > theirs):
            return None  # the other did not run last
        beer_c, target = self._beer
        margin = self.settings.safety.changeover_c
        if beer_c is None:
            return None
        heats = relay == self.settings.heater
        if (beer_c < target - margin) if heats else (beer_c > target + margin):
            return None
        way = "below" if heats else "above"
        return f"{relay} waits for the beer to be {margin:g} °C {way} target after the {other} ran"

    # -- state -------------------------------------------------------------------

    def to_state(self, now_wall: datetime | None = None) -> ThermostatState:
        """The last step's decision; with ``now_wall``, the profile's progress at that time.

        A state is stamped when it is sent, up to a control interval after the step
        (much more on a fast simulated clock): its times left must be of that moment,
        or a page that adds them to the stamp draws the profile's end late.
        """
        last = self._last
        if now_wall is not None:
            profile = self._progress(now_wall)
        else:
            profile = last.profile if last else None
        return ThermostatState(
            mode=self.mode,
            target=last.target_c if last else self.target_c,
            action=last.action if last else ThermostatAction.OFF,
            probe=self.settings.probe,
            reason=last.reason if last else "",
            profile=profile,
        )
