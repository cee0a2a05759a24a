"""The one object the daemon drives: mode, target, profile, and a step per probe read.

Pure: the daemon passes the control clock (monotonic seconds), the wall time,
the latest probe samples and the relays' actual states; the thermostat answers
with a ControlDecision and never touches hardware, files or the clock itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from beerpi_protocol import FaultCode, ProfileProgress, ThermostatAction, ThermostatMode
from beerpi_protocol.models import ThermostatState

from .adaptive import AdaptiveControl
from .cutoff import check_cutoff
from .decision import ControlDecision
from .demand import Demand
from .fallback import beer_only_demand
from .faults import Fault
from .probe_monitor import ProbeMonitor
from .profile import Profile, parse_profile, profile_point, profile_progress
from .profile_store import ActiveProfile
from .relay_guard import RelayGuard
from .samples import ProbeSample
from .settings import ControlSettings
from .text import duration
from .watchdog import Watchdog

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


class Thermostat:
    def __init__(self, settings: ControlSettings | None = None, *, start_s: float = 0.0) -> None:
        """``start_s``: the control clock at start-up; the cooler rests its min off time from it.

        A compressor restarted straight after a power cut can stall against its
        own pressure; a heater has no such problem, so it may start at once.
        """
        self.settings = s = settings or ControlSettings()
        self.mode = ThermostatMode.OFF
        self.target_c = s.default_target_c
        self._profile: ActiveProfile | None = None
        wanted = {
            ThermostatMode.OFF: (),
            ThermostatMode.HEAT: (s.heater,),
            ThermostatMode.COOL: (s.cooler,),
            ThermostatMode.HEAT_COOL: (s.heater, s.cooler),
        }
        self._relays_by_mode = {
            mode: tuple(r for r in relays if r is not None) for mode, relays in wanted.items()
        }
        self.guards = {
            rid: RelayGuard(s.timing(rid), since_s=start_s if rid == s.cooler else None)
            for rid in (s.heater, s.cooler)
            if rid is not None
        }
        probes = [s.probe] + ([s.chamber_probe] if s.chamber_probe else [])
        self.monitors = {p: ProbeMonitor(p, s.safety, start_s=start_s) for p in probes}
        self.watchdog = Watchdog(s.safety.watchdog_s, start_s=start_s)
        self._adaptive = AdaptiveControl(
            s.tuning,
            heater_max_run_s=s.heater_timing.max_run_s if s.heater else None,
            cooler_max_run_s=s.cooler_timing.max_run_s if s.cooler else None,
        )
        self._cutoff: Fault | None = None
        self._trips: dict[str, Fault] = {}
        self._last_s: float | None = None
        self._last: ControlDecision | None = None

    # -- requests ---------------------------------------------------------------

    @property
    def controlled_relays(self) -> tuple[str, ...]:
        """Relays the thermostat drives now; manual switching of these is refused."""
        return self._relays_by_mode[self.mode]

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
            for guard in self.guards.values():
                guard.clear_trip()
            self._trips.clear()
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

    def record_switch(self, relay_id: str, now_s: float, on: bool) -> None:
        """The daemon switched a relay (by the thermostat's decision or by hand)."""
        guard = self.guards.get(relay_id)
        if guard is not None:
            guard.record(now_s, on)

    # -- the step ----------------------------------------------------------------

    def target_at(self, now_wall: datetime) -> float:
        if self._profile is None:
            return self.target_c
        return profile_point(self._profile.profile, self._profile.started_at, now_wall).target_c

    def step(
        self,
        now_s: float,
        now_wall: datetime,
        samples: Mapping[str, ProbeSample],
        relays_on: Mapping[str, bool],
    ) -> ControlDecision:
        s = self.settings
        dt_s = 0.0 if self._last_s is None else min(max(0.0, now_s - self._last_s), 60.0)
        self._last_s = now_s
        self.watchdog.feed(now_s)
        for rid, guard in self.guards.items():
            if rid in relays_on and relays_on[rid] != guard.is_on:
                guard.record(now_s, relays_on[rid])  # switched behind our back: trust the relay
        target = self.target_at(now_wall)
        progress = self._progress(now_wall)

        controlled = self.controlled_relays
        on_since = [g.since_s for r, g in self.guards.items() if r in controlled and g.is_on]
        driving_since = min((t for t in on_since if t is not None), default=None)
        for probe_id, monitor in self.monitors.items():
            monitor.update(samples.get(probe_id), now_s, driving_since_s=driving_since)
        beer = self.monitors[s.probe]
        self._cutoff = check_cutoff(s.probe, beer.value, self._cutoff, s.safety, now_s)
        self._check_run_time(now_s)

        faults = [m.fault for m in self.monitors.values() if m.fault is not None]
        faults += [f for f in (self._cutoff,) if f is not None] + list(self._trips.values())
        infos = tuple(f.to_info(now_s, now_wall) for f in faults)
        force_off = tuple(sorted(self._trips))
        if self._cutoff is not None:
            force_off = tuple(sorted(self.guards))

        def decide(
            relays: Mapping[str, bool],
            action: ThermostatAction,
            reason: str,
            setpoint: float | None = None,
        ) -> ControlDecision:
            self._last = ControlDecision(
                dict(relays), action, reason, target, infos, progress, force_off, setpoint
            )
            return self._last

        if self.mode is ThermostatMode.OFF:
            return decide({}, ThermostatAction.OFF, "thermostat off")
        all_off = dict.fromkeys(controlled, False)
        if self._cutoff is not None:
            return decide(all_off, ThermostatAction.FAULT, self._cutoff.message)
        if beer.value is None:
            code = beer.fault.code.value if beer.fault else FaultCode.STALE.value
            return decide(all_off, ThermostatAction.FAULT, f"{s.probe} probe in fault: {code}")
        return self._control(now_s, dt_s, target, beer.value, decide)

    def _progress(self, now_wall: datetime) -> ProfileProgress | None:
        if self._profile is None:
            return None
        return profile_progress(self._profile.profile, self._profile.started_at, now_wall)

    def _check_run_time(self, now_s: float) -> None:
        for rid, guard in self.guards.items():
            if guard.overrun(now_s):
                guard.trip(now_s)
                limit = guard.timing.max_run_s or 0.0
                self._trips[rid] = Fault(
                    rid,
                    FaultCode.MAX_RUN_TIME,
                    f"{rid} ran longer than {duration(limit)}: off and locked out for "
                    f"{duration(guard.timing.max_run_rest_s)}",
                    now_s,
                )
            elif rid in self._trips and not guard.locked(now_s):
                del self._trips[rid]

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
        holds: list[str] = []
        pairs = [(heater, demand.heat, cooler), (cooler, demand.cool, heater)]
        # Relays that want off come first, so the other may start in the same step.
        for rid, want, _ in pairs:
            if rid is not None and not want:
                guard = self.guards[rid]
                left = guard.min_on_left(now_s)
                desired[rid] = left > 0
                if left > 0:
                    holds.append(f"{rid} finishing its minimum on time ({duration(left)} left)")
        for rid, want, other in pairs:
            if rid is None or not want:
                continue
            guard = self.guards[rid]
            allowed, wait = guard.can_switch(now_s, True)
            if other is not None and desired.get(other, False):
                desired[rid] = False
                waits.append(f"{rid} waits for {other} to stop")
            elif not allowed:
                desired[rid] = False
                why = (
                    "locked out after its maximum run time"
                    if guard.locked(now_s)
                    else ("minimum off time")
                )
                waits.append(f"{rid} resting {duration(wait)} ({why})")
            else:
                desired[rid] = True
        if heater is not None and desired.get(heater):
            action, reason = ThermostatAction.HEATING, f"heating: {demand.why}"
        elif cooler is not None and desired.get(cooler):
            action, reason = ThermostatAction.COOLING, f"cooling: {demand.why}"
        elif waits:
            action, reason = ThermostatAction.WAITING, "; ".join(waits)
        else:
            action, reason = ThermostatAction.IDLE, f"idle: {demand.why}"
        if holds and action in (ThermostatAction.HEATING, ThermostatAction.COOLING):
            reason = f"{reason}; {'; '.join(holds)}"
        return decide(desired, action, reason, setpoint)

    # -- state -------------------------------------------------------------------

    def to_state(self) -> ThermostatState:
        last = self._last
        return ThermostatState(
            mode=self.mode,
            target=last.target_c if last else self.target_c,
            action=last.action if last else ThermostatAction.OFF,
            probe=self.settings.probe,
            reason=last.reason if last else "",
            profile=last.profile if last else None,
        )
