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
"""

from __future__ import annotations

from dataclasses import dataclass

from beerpi_protocol import FaultCode
from pi_daemon.text import duration

from .faults import Fault, keep_since
from .guard import RelayGuard


@dataclass(frozen=True, slots=True)
class _Anchor:
    """The first trustworthy readings of a run."""

    since_s: float | None  # the guard's since_s: which run this is
    at_s: float
    air_c: float
    beer_c: float | None


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

    @property
    def fault(self) -> Fault | None:
        return self._fault

    @property
    def judging(self) -> bool:
        """On with a trustworthy chamber reading: its effect can be told."""
        return self._anchor is not None

    @property
    def working(self) -> bool:
        """On, and its effect is seen now: the air or the beer has moved its way this run."""
        return self._working

    def update(
        self, now_s: float, guard: RelayGuard, air_c: float | None, beer_c: float | None = None
    ) -> None:
        self._working = False
        if not guard.is_on or air_c is None:
            # Nothing to judge: off, or no trustworthy reading (re-anchored later).
            self._anchor = None
            return
        anchor = self._anchor
        if anchor is None or anchor.since_s != guard.since_s:
            self._anchor = _Anchor(guard.since_s, now_s, air_c, beer_c)
            return
        if anchor.beer_c is None and beer_c is not None:
            anchor = self._anchor = _Anchor(anchor.since_s, anchor.at_s, anchor.air_c, beer_c)
        moved_c = self._sign * (air_c - anchor.air_c)
        if anchor.beer_c is not None and beer_c is not None:
            moved_c = max(moved_c, self._sign * (beer_c - anchor.beer_c))
        if moved_c >= self._threshold_c:
            self._fault = None  # it responds
            self._working = True
            return
        ran_s = now_s - anchor.at_s
        if ran_s < self._window_s:
            return
        way = "warmed" if self._sign > 0 else "cooled"
        message = (
            f"{self.relay_id} on for {duration(ran_s)} but the {self._probe_id} probe has not "
            f"{way} ({anchor.air_c:.1f} → {air_c:.1f} °C), nor the beer: no effect (dead "
            "element or compressor, failed relay, open door?)"
        )
        self._fault = keep_since(
            self._fault, Fault(self.relay_id, FaultCode.NO_EFFECT, message, now_s)
        )
