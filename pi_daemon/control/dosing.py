"""The compressor while holding: few, long, well-timed runs, judged on the beer.

A chamber holds a few kJ/K of air and liner against the beer's 20-200 kJ/K, so the
air answers a compressor in minutes and the beer in hours. Holding the air in a
band makes the compressor chase the air, with a start every time the air warms
back. While the beer is held near its target, each run here is a dose for the
beer instead:

- it starts when the beer, carried on at its slope for ``lead_s``, would pass the
  top of its swing (target + swing / 2);
- it stops when the air has fallen ``depth`` below where it was at the start (the
  dose), or the beer reaches the bottom of the swing;
- after each dose the beer's trough is watched (its lowest until it rises again):
  the peak-to-trough swing is learned, so that the swing is centred on the target;
- the depth grows while doses come sooner than ``cycle_s`` apart and the swing
  stays within ``swing_max_c``, and shrinks when the trough falls below it.

``swing_max_c`` trades precision for compressor starts: a sawtooth of swing S has
an RMS of S / sqrt(12).
"""

from __future__ import annotations

TURN_C = 2 / 16  # the beer this far above its lowest since the stop: the trough is past
TROUGH_TIMEOUT_S = 4 * 3600.0
GROW = 1.25
SHRINK = 0.8


class DosePacer:
    def __init__(
        self, *, swing_min_c: float, swing_max_c: float, depth_c: float, depth_max_c: float
    ) -> None:
        self.swing_min_c = swing_min_c
        self.swing_max_c = swing_max_c
        self.swing_c = swing_min_c
        self.depth_c = depth_c
        self.depth_max_c = depth_max_c
        self.doses = 0
        self._start: tuple[float, float, float] | None = None  # (time, beer, air) at the start
        self._last_start_s: float | None = None
        self._peak_c = 0.0
        self._stop_s: float | None = None
        self._trough_c = 0.0

    def top_c(self, target_c: float) -> float:
        return target_c + self.swing_c / 2

    def bottom_c(self, target_c: float) -> float:
        return target_c - self.swing_c / 2

    def reset(self) -> None:
        """A new target or a ramp: no dose under way, the trough of the last one unseen."""
        self._start = None
        self._stop_s = None
        self._last_start_s = None

    def started(self, now_s: float, beer_c: float, air_c: float, *, cycle_s: float) -> None:
        previous, self._last_start_s = self._last_start_s, now_s
        self._start = now_s, beer_c, air_c
        self._peak_c = beer_c
        self._stop_s = None
        if previous is not None and now_s - previous < cycle_s:
            self.depth_c = min(self.depth_max_c, self.depth_c * GROW)

    def running(self, beer_c: float, air_c: float) -> bool:
        """Whether the dose under way goes on: the air not yet ``depth`` below its start."""
        if self._start is None:
            return False
        self._peak_c = max(self._peak_c, beer_c)
        return air_c > self._start[2] - self.depth_c

    def stopped(self, now_s: float, beer_c: float) -> None:
        if self._start is None:
            return
        self._stop_s = now_s
        self._trough_c = beer_c

    def feed(self, now_s: float, target_c: float, beer_c: float) -> None:
        """Watch the beer after a dose for its trough; learn the swing and the depth."""
        if self._stop_s is None:
            return
        self._trough_c = min(self._trough_c, beer_c)
        if beer_c - self._trough_c < TURN_C and now_s - self._stop_s < TROUGH_TIMEOUT_S:
            return
        self._stop_s = None
        swing = max(self.swing_min_c, min(self.swing_max_c, self._peak_c - self._trough_c))
        rate = 0.3 if self.doses else 1.0
        self.swing_c += rate * (swing - self.swing_c)
        self.doses += 1
        if self._trough_c < target_c - self.swing_max_c / 2:
            self.depth_c *= SHRINK
