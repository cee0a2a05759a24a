"""Classifies one probe's samples: is its latest temperature fit to control with?

Pure: it sees samples and the control clock, keeps the little history it needs
(last good value, identical-value run, good streak) and never reads hardware.
A fault clears by itself after ``settle_reads`` good readings in a row.
"""

from __future__ import annotations

import math

from beerpi_protocol import FaultCode
from pi_daemon.text import duration

from .faults import Fault, keep_since
from .limits import DS18B20_RESET_C, SafetySettings
from .samples import ProbeSample

_ERROR_TEXT = {
    FaultCode.DISCONNECTED: "disconnected",
    FaultCode.CRC: "read failed (CRC error)",
}


class ProbeMonitor:
    def __init__(
        self,
        probe_id: str,
        settings: SafetySettings,
        *,
        start_s: float,
        stuck_s: float | None = None,
    ) -> None:
        """``stuck_s``: this probe's stuck window (the beer's is longer than the air's:
        ``limits.BEER_STUCK_S``); ``settings.stuck_s`` when None."""
        self.probe_id = probe_id
        self.settings = settings
        self.stuck_s = settings.stuck_s if stuck_s is None else stuck_s
        self._start_s = start_s
        self._last_at_s: float | None = None
        self._good_c: float | None = None
        self._good_at_s: float | None = None
        # The previous well-formed reading, accepted or not: a level change is real
        # once two readings agree on it.
        self._raw_c: float | None = None
        self._raw_at_s: float | None = None
        self._same_since_s: float | None = None
        self._streak = 0
        self._fault: Fault | None = None

    @property
    def fault(self) -> Fault | None:
        return self._fault

    @property
    def value(self) -> float | None:
        """The temperature to control with, None while in fault."""
        return None if self._fault is not None else self._good_c

    def update(
        self, sample: ProbeSample | None, now_s: float, *, driving_since_s: float | None = None
    ) -> None:
        """Take the latest sample (seen before or not) and the time now.

        ``driving_since_s``: since when a relay this probe controls has been on
        without a break (None when none is on); feeds the stuck-probe rule.
        """
        if sample is not None and sample.at_s != self._last_at_s:
            self._last_at_s = sample.at_s
            self._read(sample, driving_since_s)
        self._check_stale(now_s)

    def _read(self, sample: ProbeSample, driving_since_s: float | None) -> None:
        problem = self._classify(sample)
        if problem is not None:
            self._streak = 0
            self._fault = keep_since(self._fault, Fault(self.probe_id, *problem, sample.at_s))
            return
        assert sample.temperature is not None
        value = sample.temperature
        changed = value != self._good_c
        if changed:
            self._same_since_s = sample.at_s
        if not changed and self._fault is not None and self._fault.code == FaultCode.STUCK:
            return  # only a moving value proves a stuck probe is alive again
        self._good_c, self._good_at_s = value, sample.at_s
        stuck = self._stuck(sample.at_s, driving_since_s)
        if stuck is not None:
            self._streak = 0
            self._fault = keep_since(self._fault, stuck)
            return
        self._streak += 1
        if self._fault is not None and self._streak >= self.settings.settle_reads:
            self._fault = None

    def _classify(self, sample: ProbeSample) -> tuple[FaultCode, str] | None:
        name = f"{self.probe_id} probe"
        if sample.error is not None:
            text = _ERROR_TEXT.get(sample.error, f"in fault ({sample.error.value})")
            return sample.error, f"{name} {text}"
        value = sample.temperature
        if value is None:
            return FaultCode.DISCONNECTED, f"{name} gave no reading"
        if value == DS18B20_RESET_C:
            return FaultCode.RESET_85, f"{name} read 85.0 °C, the DS18B20 power-on value"
        s = self.settings
        if not (math.isfinite(value) and s.probe_min_c <= value <= s.probe_max_c):
            return (
                FaultCode.OUT_OF_RANGE,
                f"{name} read {value:.1f} °C, outside {s.probe_min_c:g}..{s.probe_max_c:g} °C",
            )
        raw_c, raw_at = self._raw_c, self._raw_at_s
        self._raw_c, self._raw_at_s = value, sample.at_s
        if self._plausible(value, sample.at_s, self._good_c, self._good_at_s):
            return None
        if self._plausible(value, sample.at_s, raw_c, raw_at):
            return None  # two readings agree on a new level: believe them
        assert self._good_c is not None
        return (
            FaultCode.IMPLAUSIBLE_JUMP,
            f"{name} jumped from {self._good_c:.1f} to {value:.1f} °C",
        )

    def _plausible(
        self, value: float, at_s: float, ref_c: float | None, ref_at: float | None
    ) -> bool:
        if ref_c is None or ref_at is None:
            return True
        s = self.settings
        limit = s.jump_c + s.jump_rate_c_per_s * max(0.0, at_s - ref_at)
        return abs(value - ref_c) <= limit

    def _stuck(self, at_s: float, driving_since_s: float | None) -> Fault | None:
        limit = self.stuck_s
        if driving_since_s is None or self._same_since_s is None:
            return None
        if at_s - self._same_since_s < limit or at_s - driving_since_s < limit:
            return None
        return Fault(
            self.probe_id,
            FaultCode.STUCK,
            f"{self.probe_id} probe stuck at {self._good_c:.2f} °C for "
            f"{duration(at_s - self._same_since_s)} while its relay ran",
            at_s,
        )

    def _check_stale(self, now_s: float) -> None:
        if self._fault is not None and self._fault.code != FaultCode.STALE:
            return  # a read error says more than "stale"
        last = self._start_s if self._good_at_s is None else self._good_at_s
        age = now_s - last
        if age > self.settings.stale_s:
            self._streak = 0
            self._fault = keep_since(
                self._fault,
                Fault(
                    self.probe_id,
                    FaultCode.STALE,
                    f"no good reading from {self.probe_id} probe for {duration(age)}",
                    now_s,
                ),
            )
