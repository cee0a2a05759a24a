"""The relay-effect rule: a relay that runs must move the chamber air its way.

A heater on for ``no_effect_s`` while the air has not warmed by ``no_effect_c``
since it switched on (or a cooler while the air has not cooled) raises
``no_effect`` for that relay: a dead heat mat, a failed SSR, an open door, a
dead compressor. It is a warning, not a cut: the relay stays under its usual
rules (the maximum run time still stops a relay that runs for ever), and the
fault clears as soon as the air responds during a run. The rule reads the
chamber probe, the one a relay moves within minutes; without one (or while it
is in fault) it does not judge.
"""

from __future__ import annotations

from beerpi_protocol import FaultCode
from pi_daemon.text import duration

from .faults import Fault, keep_since
from .guard import RelayGuard


class EffectCheck:
    def __init__(
        self, relay_id: str, *, warms: bool, window_s: float, threshold_c: float, probe_id: str
    ) -> None:
        self.relay_id = relay_id
        self._sign = 1.0 if warms else -1.0
        self._window_s = window_s
        self._threshold_c = threshold_c
        self._probe_id = probe_id
        # (the guard's since_s of this run, first reading in it, its time)
        self._anchor: tuple[float | None, float, float] | None = None
        self._fault: Fault | None = None

    @property
    def fault(self) -> Fault | None:
        return self._fault

    def update(self, now_s: float, guard: RelayGuard, value_c: float | None) -> None:
        if not guard.is_on or value_c is None:
            # Nothing to judge: off, or no trustworthy reading (re-anchored later).
            self._anchor = None
            return
        if self._anchor is None or self._anchor[0] != guard.since_s:
            self._anchor = (guard.since_s, value_c, now_s)
            return
        _, start_c, start_s = self._anchor
        moved_c = self._sign * (value_c - start_c)
        if moved_c >= self._threshold_c:
            self._fault = None  # it responds
            return
        ran_s = now_s - start_s
        if ran_s < self._window_s:
            return
        way = "warmed" if self._sign > 0 else "cooled"
        message = (
            f"{self.relay_id} on for {duration(ran_s)} but the {self._probe_id} probe has not "
            f"{way} ({start_c:.1f} → {value_c:.1f} °C): no effect (dead element or compressor, "
            "failed relay, open door?)"
        )
        self._fault = keep_since(
            self._fault, Fault(self.relay_id, FaultCode.NO_EFFECT, message, now_s)
        )
