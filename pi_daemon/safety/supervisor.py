"""One safety assessment per control step: faults, and which relays must be held off.

Pure: it sees the probe samples, the relays' guards and the control clock.
The thermostat calls it first in each step and the daemon hands its holds to
the gate before anything else switches, so every safety off is applied in the
step that found it:

- the thermostat's probe in fault (read error, 85.0 °C, out of range,
  implausible jump, stale, stuck): heater and cooler held off, whoever drives
  them, because the cut-offs cannot be watched without that probe;
- a beer cut-off: heater and cooler held off until the beer is back inside;
- a relay without effect on the chamber air or the beer: a ``no_effect``
  warning, and past its maximum run time off and locked out (a relay whose
  effect is seen runs on: a long pull-down is not a fault; without a chamber
  reading to judge by, the maximum run time locks any relay out, as a plain
  limit).

A fault of the chamber probe holds nothing: the thermostat falls back to the
beer probe alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from beerpi_protocol import FaultCode
from pi_daemon.text import duration

from .cutoff import check_cutoff
from .effect import EffectCheck
from .faults import Fault
from .guard import RelayGuard
from .limits import SafetySettings
from .probes import ProbeMonitor
from .samples import ProbeSample

# Who holds relays off in the gate after an assessment.
HOLDER = "thermostat"


@dataclass(frozen=True, slots=True)
class Assessment:
    faults: tuple[Fault, ...]
    # relay -> why it must be off now and may not switch on
    holds: Mapping[str, str]
    # Set when a safety rule stops the thermostat (cut-off, its probe in fault).
    stop: str | None
    # The thermostat's probe reading to control with (None in fault or before the first).
    probe_c: float | None


class SafetySupervisor:
    def __init__(
        self,
        settings: SafetySettings,
        guards: Mapping[str, RelayGuard],
        *,
        probe: str,
        chamber_probe: str | None,
        heater: str | None,
        cooler: str | None,
        start_s: float,
    ) -> None:
        self.settings = settings
        self._guards = guards
        self.probe = probe
        self.chamber_probe = chamber_probe
        self._thermal = tuple(r for r in (heater, cooler) if r is not None)
        self.monitors = {
            probe: ProbeMonitor(probe, settings, start_s=start_s, stuck_s=settings.beer_stuck_s)
        }
        if chamber_probe:
            self.monitors[chamber_probe] = ProbeMonitor(chamber_probe, settings, start_s=start_s)
        self._effects: dict[str, EffectCheck] = {}
        if chamber_probe is not None:
            for rid, warms in ((heater, True), (cooler, False)):
                window = None if rid is None else guards[rid].timing.no_effect_s
                if rid is not None and window is not None:
                    self._effects[rid] = EffectCheck(
                        rid,
                        warms=warms,
                        window_s=window,
                        threshold_c=settings.no_effect_c,
                        probe_id=chamber_probe,
                    )
        self._cutoff: Fault | None = None
        self._trips: dict[str, Fault] = {}

    def clear_trips(self) -> None:
        """A person changed the mode: max-run faults go with the lock-outs."""
        self._trips.clear()

    def assess(self, now_s: float, samples: Mapping[str, ProbeSample]) -> Assessment:
        # A heater or cooler moves the probes whoever switched it on: one the brewer runs
        # by hand with the thermostat off must reveal a stuck probe as the thermostat's do.
        on_since = [g.since_s for r, g in self._guards.items() if r in self._thermal and g.is_on]
        driving_since = min((t for t in on_since if t is not None), default=None)
        for probe_id, monitor in self.monitors.items():
            monitor.update(samples.get(probe_id), now_s, driving_since_s=driving_since)
        beer = self.monitors[self.probe]
        self._cutoff = check_cutoff(self.probe, beer.value, self._cutoff, self.settings, now_s)
        chamber_c = self.monitors[self.chamber_probe].value if self.chamber_probe else None
        for rid, check in self._effects.items():
            partner = self._partner(rid)
            pushed = partner is not None and self._guards[partner].is_on
            check.update(now_s, self._guards[rid], chamber_c, beer.value, partner_on=pushed)
        self._check_run_time(now_s)

        faults = [m.fault for m in self.monitors.values() if m.fault is not None]
        faults += [f for f in (self._cutoff,) if f is not None]
        faults += list(self._trips.values())
        faults += [c.fault for c in self._effects.values() if c.fault is not None]
        stop: str | None = None
        if self._cutoff is not None:
            stop = self._cutoff.message
        elif beer.fault is not None:
            stop = f"{self.probe} probe in fault: {beer.fault.code.value}"
        # No reading yet is not a fault until the probe is stale (``stale_s``).
        holds = dict.fromkeys(self._thermal, stop) if stop is not None else {}
        for rid, trip in self._trips.items():
            holds.setdefault(rid, trip.message)
        return Assessment(tuple(faults), holds, stop, beer.value)

    def _partner(self, relay: str) -> str | None:
        """The other thermal relay (the cooler for the heater), if there is one."""
        others = [r for r in self._thermal if r != relay and r in self._guards]
        return others[0] if others else None

    def effect(self, relay: str) -> EffectCheck | None:
        """The relay's effect check (None: it has none, e.g. without a chamber probe)."""
        return self._effects.get(relay)

    def _check_run_time(self, now_s: float) -> None:
        """Past its maximum run time a relay is locked out, unless its effect is seen."""
        for rid, guard in self._guards.items():
            check = self._effects.get(rid)
            if guard.overrun(now_s) and not (check is not None and check.working):
                guard.trip(now_s)
                limit = duration(guard.timing.max_run_s or 0.0)
                rest = duration(guard.timing.max_run_rest_s)
                if check is None or not check.judging:
                    why = f"ran longer than {limit} and its effect cannot be checked"
                else:
                    why = f"ran {limit} with no effect on the temperatures"
                self._trips[rid] = Fault(
                    rid,
                    FaultCode.MAX_RUN_TIME,
                    f"{rid} {why}: off and locked out for {rest}",
                    now_s,
                )
            elif rid in self._trips and not guard.locked(now_s):
                del self._trips[rid]
