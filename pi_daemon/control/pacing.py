"""The compressor's hysteresis band, widened or narrowed so that a cycle lasts
at least ``cycle_s`` (or a third of the beer's time constant, if shorter): a
compressor wears with each start, and the beer's hours of inertia smooth a wide
swing of the air.

After each start the period since the previous start is compared with the aim:
too short, the band widens by the ratio (aim / period, at most GROW_MAX times:
the air crosses a band about in proportion to its width, so one step nearly
gets there, and one odd cycle cannot throw it far); much longer, it narrows
(x0.9) so that a light load is held closely. A light load cycles rarely
whatever the band, so there the band settles at its minimum.
"""

from __future__ import annotations

GROW_MAX = 3.0  # the most the band widens after one short cycle
SHRINK = 0.9  # the band's narrowing after a cycle longer than 1.5 x the aim


class CompressorPacer:
    def __init__(self, *, cycle_s: float, band_min_c: float, band_max_c: float) -> None:
        self.cycle_s = cycle_s
        self.band_min_c = band_min_c
        self.band_max_c = band_max_c
        self.band_c = band_min_c
        self._last_start_s: float | None = None

    def reset(self) -> None:
        """A new target: the band was sized for the old load; start narrow again."""
        self.band_c = self.band_min_c
        self._last_start_s = None

    def started(self, now_s: float, *, adapt: bool = True, beer_tau_s: float = 0.0) -> None:
        """A compressor start; ``adapt`` False leaves the band alone (the cycle just
        ended was no sample of a steady load: a ramp, or a pull-down the set-point
        limits do not pin).

        The aim is ``cycle_s``, or a third of the beer's time constant if that is
        shorter: a beer that follows the air within hours must get smaller doses.
        """
        last, self._last_start_s = self._last_start_s, now_s
        aim = min(self.cycle_s, beer_tau_s / 3) if beer_tau_s > 0 else self.cycle_s
        if last is None or aim <= 0 or not adapt:
            return
        period = now_s - last
        if period < aim:
            factor = min(GROW_MAX, aim / max(period, 1.0))
            self.band_c = min(self.band_max_c, self.band_c * factor)
        elif period > 1.5 * aim:
            self.band_c = max(self.band_min_c, self.band_c * SHRINK)
