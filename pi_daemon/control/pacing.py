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

A weak fridge's small chamber crosses even ``band_max_c`` within half an hour,
where a slow beer barely feels a cycle (in a freezer, one cycle at that width
already swings the beer a few tenths of a degree). Past it (up to
``band_wide_c``) the beer bounds the band: the cycle just ended is replayed
through the beer's time constant, and the swing it gave the beer (its ripple)
must stay within ``ripple_max_c``. A wider band swings the air further for
longer, so the ripple grows about with the square of the band: there the band
moves by the square root of the ripple's headroom, and never back below
``band_max_c``.

The band adapts only at a start, so a band whose top the chamber's air never
reaches (widened on cycles of a lighter load, or with a large ripple allowed)
would keep the compressor off for good while the beer warms. While the beer
loop asks for all the cooling it may, a band that has kept the compressor off
for longer than a long cycle narrows to just inside the air (``out_of_reach``).
"""

from __future__ import annotations

import itertools
import math

GROW_MAX = 3.0  # the most the band widens after one short cycle
LONG = 1.5  # a cycle longer than this x the aim is a long one
SHRINK = 0.9  # the band's narrowing after a long cycle
SHRINK_MAX = 0.5  # the most one cycle's ripple narrows it
SAMPLE_S = 30.0  # the air is kept this often over a cycle, for its ripple
SAMPLES_MAX = 1000  # a longer cycle (over 8 h) is no cycle of a short band


class CompressorPacer:
    def __init__(
        self,
        *,
        cycle_s: float,
        band_min_c: float,
        band_max_c: float,
        band_wide_c: float | None = None,
        ripple_max_c: float = 0.0,
    ) -> None:
        self.cycle_s = cycle_s
        self.band_min_c = band_min_c
        self.band_max_c = band_max_c
        self.band_wide_c = band_max_c if band_wide_c is None else band_wide_c
        self.ripple_max_c = ripple_max_c
        self.band_c = band_min_c
        # The beer's swing over the last full cycle (°C peak to peak; None: not known).
        self.ripple_c: float | None = None
        self._last_start_s: float | None = None
        self._air: list[tuple[float, float]] = []

    def reset(self) -> None:
        """A new target: the band was sized for the old load; start narrow again."""
        self.band_c = self.band_min_c
        self._last_start_s = None
        self._air.clear()

    def feed(self, now_s: float, air_c: float) -> None:
        """The chamber air, every step: kept every SAMPLE_S within a cycle."""
        air = self._air
        if self._last_start_s is None or len(air) >= SAMPLES_MAX:
            return
        if not air or now_s - air[-1][0] >= SAMPLE_S:
            air.append((now_s, air_c))

    def _aim(self, beer_tau_s: float) -> float:
        return min(self.cycle_s, beer_tau_s / 3) if beer_tau_s > 0 else self.cycle_s

    def out_of_reach(
        self, now_s: float, air_c: float, setpoint_c: float, beer_tau_s: float
    ) -> None:
        """The beer loop asks for all the cooling it may (the beer warm, its set-point
        at the lower limit) and the compressor is off: a band widened past the air
        the chamber reaches by itself would keep it off for good, and the band only
        adapts at a start. Once the air has stood above the set-point, short of the
        band's top, for longer than a long cycle, narrow the band to just inside it."""
        last = self._last_start_s
        if last is None or air_c <= setpoint_c or now_s - last <= LONG * self._aim(beer_tau_s):
            return
        reach = 2 * (air_c - setpoint_c) * SHRINK
        if reach < self.band_c:
            self.band_c = max(self.band_min_c, reach)

    def _ripple(self, beer_tau_s: float) -> float | None:
        """How far the last cycle's air swung a beer of this time constant, peak to peak.

        The beer follows the air's deviation from its cycle mean, integrated over
        its time constant (a cycle is short beside it).
        """
        air = self._air
        if beer_tau_s <= 0 or len(air) < 3 or len(air) >= SAMPLES_MAX:
            return None
        # (seconds, mean air) of each stretch between two kept samples
        stretches = [(t1 - t0, (a0 + a1) / 2) for (t0, a0), (t1, a1) in itertools.pairwise(air)]
        mean = sum(dt * a for dt, a in stretches) / sum(dt for dt, _ in stretches)
        low = high = swing = 0.0
        for dt, a in stretches:
            swing += dt * (a - mean)
            low, high = min(low, swing), max(high, swing)
        return (high - low) / beer_tau_s

    def started(self, now_s: float, *, adapt: bool = True, beer_tau_s: float = 0.0) -> None:
        """A compressor start; ``adapt`` False leaves the band alone (the cycle just
        ended was no sample of a steady load: a ramp, or a pull-down the set-point
        limits do not pin).

        The aim is ``cycle_s``, or a third of the beer's time constant if that is
        shorter: a beer that follows the air within hours must get smaller doses.
        """
        last, self._last_start_s = self._last_start_s, now_s
        # No cycle before the first start (nor after a reset): no air kept, no ripple.
        ripple = self.ripple_c = self._ripple(beer_tau_s)
        self._air.clear()
        aim = self._aim(beer_tau_s)
        if last is None or aim <= 0 or not adapt:
            return
        period = now_s - last
        band = self.band_c
        if period < aim:
            band *= min(GROW_MAX, aim / max(period, 1.0))
        elif period > LONG * aim:
            band *= SHRINK
        if band > self.band_max_c:
            # Past the usual maximum only while the beer hardly feels the swing.
            room = 0.0 if not ripple else math.sqrt(self.ripple_max_c / ripple)
            band = min(band, max(self.band_max_c, self.band_c * max(SHRINK_MAX, room)))
        self.band_c = min(self.band_wide_c, max(self.band_min_c, band))
