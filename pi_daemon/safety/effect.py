"""The relay-effect rule: a relay that runs must move the temperature its way.

A heater on for ``no_effect_s`` while neither the chamber air nor the beer has
warmed by ``no_effect_c`` since it switched on (or a cooler while neither has
cooled) raises ``no_effect`` for that relay: a dead heat mat, a failed SSR, an
open door, a dead compressor. The air answers a compressor or a tube heater
within minutes; a heat belt on the vessel puts its heat into the beer and
barely warms the air, so the beer is the second witness. The fault clears as
soon as either responds during a run.

The check is also what tells a legitimate long run from a fault: a relay that
``working`` (its effect seen in this run) may run past its maximum run time; a
relay without effect is locked out there (supervisor.py). The rule judges only
with a trustworthy chamber reading, the one a relay moves within minutes;
without one it neither raises the fault nor vouches for the relay.

What counts is the move beyond the passive drift (drift.py): air warming back
after a compressor run, or cooling after a heater run, is what it would have
done anyway, so a relay started during such a drift must move the air (or the
beer) ``no_effect_c`` further than that drift, carried on, would have. A run
started while the other relay was still driving the air is judged
PUSHED_EXTRA_S later than the window.
"""

from __future__ import annotations

from dataclasses import dataclass

from beerpi_protocol import FaultCode
from pi_daemon.text import duration

from .drift import LOOKBACK_S, Drift, PassiveDrift
from .faults import Fault, keep_since
from .guard import RelayGuard

# A run started as the other relay stopped (a baseline thermostat's heater the moment
# its compressor stops) is judged this much later: the air's recovery is unknown, so
# the relay must show itself on the beer or warm the air past it, which a working
# 25 W belt in a freezer the compressor has just chilled takes hours to do.
PUSHED_EXTRA_S = 3 * 3600.0


@dataclass(frozen=True, slots=True)
class _Anchor:
    """The first trustworthy readings of a run."""

    since_s: float | None  # the guard's since_s: which run this is
    at_s: float
    air_c: float
    beer_c: float | None
    air_drift: PassiveDrift
    beer_drift: PassiveDrift


class EffectCheck:
    def __init__(
        self, relay_id: str, *, warms: bool, window_s: float, threshold_c: float, probe_id: str
    ) -> None:
        self.relay_id = relay_id
        self._sign = 1.0 if warms else -1.0
        self._window_s = window_s
        self._threshold_c = threshold_c
        self._probe_id = probe_id
        self._anchor: _Anchor | None = None
        self._fault: Fault | None = None
        self._working = False
        # Readings while off: the passive drift a run is measured against.
        self._air_off = Drift()
        self._beer_off = Drift()
        self._partner_on_s: float | None = None  # when the other relay last ran
        self._unread = False  # the last update of a run had no chamber reading

    @property
    def fault(self) -> Fault | None:
        return self._fault

    @property
    def judging(self) -> bool:
        """On with a trustworthy chamber reading: its effect can be told."""
        return self._anchor is not None and not self._unread

    @property
    def working(self) -> bool:
        """On, and its effect is seen now: the air or the beer has moved its way this run."""
        return self._working

    def update(
        self,
        now_s: float,
        guard: RelayGuard,
        air_c: float | None,
        beer_c: float | None = None,
        *,
        partner_on: bool = False,
    ) -> None:
        """``partner_on``: the other thermal relay (cooler for a heater) is on now."""
        self._working = False
        if partner_on:
            self._partner_on_s = now_s
        if not guard.is_on:
            self._watch_idle(now_s, air_c, beer_c)
            return
        self._unread = air_c is None
        if air_c is None:
            # A missed reading (a CRC error) judges nothing but keeps the run's anchor:
            # dropping it restarted the window, so a probe failing every 20 minutes hid a
            # dead heater for good. A run that has no anchor yet waits for its first reading.
            if self._anchor is not None and self._anchor.since_s != guard.since_s:
                self._anchor = None
            return
        anchor = self._anchor
        if anchor is None or anchor.since_s != guard.since_s:
            self._start_run(now_s, guard.since_s, air_c, beer_c)
            return
        if anchor.beer_c is None and beer_c is not None:
            anchor = self._anchor = _Anchor(
                anchor.since_s,
                anchor.at_s,
                anchor.air_c,
                beer_c,
                anchor.air_drift,
                PassiveDrift.none(),
            )
        ran_s = now_s - anchor.at_s
        window = self._window_s + (PUSHED_EXTRA_S if anchor.air_drift.whole else 0.0)
        ref_beer = anchor.beer_c
        # The air drifts no further than the beer; the beer, no further than the air.
        air_room = self._sign * (ref_beer - anchor.air_c) if ref_beer is not None else 0.0
        moved_c = self._sign * (air_c - anchor.air_c) - anchor.air_drift.moved_c(ran_s, air_room)
        if ref_beer is not None and beer_c is not None:
            beer_room = self._sign * (anchor.air_c - ref_beer)
            beer_moved = self._sign * (beer_c - ref_beer) - anchor.beer_drift.moved_c(
                ran_s, beer_room
            )
            moved_c = max(moved_c, beer_moved)
        if moved_c >= self._threshold_c:
            self._fault = None  # it responds
            self._working = True
            return
        if ran_s < window:
            return
        way = "warmed" if self._sign > 0 else "cooled"
        drifting = anchor.air_drift.whole or anchor.air_drift.step_c > 0
        drifting = drifting or anchor.beer_drift.step_c > 0
        beyond = " beyond its drift before the start" if drifting else ""
        message = (
            f"{self.relay_id} on for {duration(ran_s)} but the {self._probe_id} probe has not "
            f"{way}{beyond} ({anchor.air_c:.1f} → {air_c:.1f} °C), nor the beer: no effect "
            "(dead element or compressor, failed relay, open door?)"
        )
        self._fault = keep_since(
            self._fault, Fault(self.relay_id, FaultCode.NO_EFFECT, message, now_s)
        )

    def _watch_idle(self, now_s: float, air_c: float | None, beer_c: float | None) -> None:
        """The relay is off: learn the passive drift for the next run."""
        self._anchor = None
        self._unread = False
        if air_c is None:
            self._air_off.clear()
        else:
            self._air_off.feed(now_s, air_c)
        if beer_c is None:
            self._beer_off.clear()
        else:
            self._beer_off.feed(now_s, beer_c)

    def _start_run(
        self, now_s: float, since_s: float | None, air_c: float, beer_c: float | None
    ) -> None:
        """The first reading of a run: anchor it, with the drifts measured up to now."""
        pushed = self._partner_on_s is not None and now_s - self._partner_on_s <= LOOKBACK_S
        air_drift = (
            PassiveDrift(0.0, 1.0, LOOKBACK_S, whole=True)
            if pushed
            else self._air_off.passive(now_s, self._sign)
        )
        self._anchor = _Anchor(
            since_s, now_s, air_c, beer_c, air_drift, self._beer_off.passive(now_s, self._sign)
        )
        self._air_off.clear()
        self._beer_off.clear()
