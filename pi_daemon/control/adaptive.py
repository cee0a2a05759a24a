"""BeerPi's demand algorithm: a beer loop that sets the chamber air, and actuators
that deliver it, each learning the fermenter it runs on (docs/control.md).

The beer reading first loses the share of chamber air a taped probe feels
(AirShare: learned from the two probes; nothing for a probe in the beer).

Beer loop: a PI on the beer error (the reading smoothed over BEER_SMOOTHING_S)
gives the chamber set-point A* (the air temperature that holds the beer):
A* = target + ramp rate x tau + kp e + I. Its integral time follows the beer's
learned time constant (BeerModel); it integrates only near the target, not
while the beer closes in by itself, and never past the set-point limits, which
widen as far as the fermenter needs (Authority).

Cooler: hysteresis on the chamber air around A*, with a band that widens until
a compressor cycle lasts ``compressor_cycle_s`` or a third of the beer's time
constant (CompressorPacer), adapting in a hold and in a pull-down that pins A*
at its lower limit, and past ``chamber_band_max_c`` only while the swing a
cycle's air gives the beer (through its time constant) stays within
``beer_ripple_max_c``; narrowed to the air when its top is out of the air's
reach while A* is pinned at its lower limit; it stops early by the learned
coast of the air.

Heater: a duty cycle over ``heater_period_s``, duty = (A* - air) / G, where G
is the heater's learned equivalent air offset: a belt on the vessel warms the
beer as much as air G kelvin warmer would, so its duty is dosed; a tube heater
in the air has G ~ 0 (its heat shows in the air reading) and becomes on/off on
the air with a 1 K proportional band.

Never: heat beer that reads at or above the target, or would pass it within
``heat_anticipation_s`` at its present slope; start heating before the air has
turned after the cooler stopped (at most COAST_WAIT_MAX_S after the stop), nor
the other way round; cool after heating unless the air is ``dead_band_c``
further above the band, nor heat within an hour of cooling unless it is that
far below it. The minimum time between cooling and heating is not kept here:
the relay gate enforces it (``safety.changeover_s``) and the thermostat says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .air_share import AirShare
from .authority import Authority
from .beer_model import BeerModel
from .coast import CoastLearner
from .demand import Demand, Direction
from .pacing import CompressorPacer
from .settings import Tuning

HEATER_OFFSET_MIN_C = 1.0
MIN_PULSE_S = 60.0  # a heater pulse shorter than this is not worth a relay start
DIRECTION_MEMORY_S = 6 * 3600.0
DEAD_BAND_S = 3600.0
STEP_C = 0.5  # a target change larger than this at once is a step, not a ramp
APPROACH_C = 0.3  # smaller errors are a hold's ripple: the integral always acts there
APPROACH_H = 2.0
HOLDING_C = 0.5  # the compressor's band adapts to cycles while holding this close (or pinned)
RAMPING_C_PER_H = 0.05  # a target moving faster than this is a ramp: small doses, no pacing
RAMP_SMOOTHING_S = 1800.0
RAMP_END_S = 60.0
# The beer loop sees the beer reading through this smoothing: a DS18B20 reads in 1/16 °C
# steps and flickers between two of them, which kp would turn into 0.5 °C jumps of the
# set-point, each able to start the compressor. Minutes are nothing to a beer's hours.
BEER_SMOOTHING_S = 150.0
SMOOTHING_GAP_S = 300.0  # readings further apart: a dropout, start from the reading
# Air still drifting the same way this long after a stop is settling, not coasting.
COAST_WAIT_MAX_S = 3600.0


@dataclass
class _Run:
    start_s: float
    beer_c: float
    air_c: float


class AdaptiveControl:
    def __init__(self, tuning: Tuning) -> None:
        t = self.tuning = tuning
        self.model = BeerModel(
            tau_prior_s=t.beer_tau_prior_s,
            heater_gain_prior_c_per_h=t.heater_gain_prior_c_per_h,
        )
        # The air a taped probe feels, learned and taken out of its reading.
        self.air_share = AirShare(share_max=t.air_share_max)
        self.coast = CoastLearner(learn_rate=t.overshoot_learn_rate, max_c=t.overshoot_max_c)
        self.authority = Authority(t)
        self.pacer = CompressorPacer(
            cycle_s=t.compressor_cycle_s,
            band_min_c=t.chamber_band_min_c,
            band_max_c=t.chamber_band_max_c,
            band_wide_c=t.chamber_band_wide_c,
            ripple_max_c=t.beer_ripple_max_c,
        )
        self.integral_c = 0.0
        self._beer_smooth_c: float | None = None
        self.setpoint_c: float | None = None
        # The last set-point was pinned at its lower limit with the beer above target.
        self._pinned_cold = False
        self.last_direction: Direction | None = None
        self._stopped_s: dict[Direction, float | None] = {
            Direction.HEAT: None,
            Direction.COOL: None,
        }
        self._runs: dict[Direction, _Run | None] = {Direction.HEAT: None, Direction.COOL: None}
        self._period_start_s: float | None = None
        self._pulse_over = True
        self.heater_duty = 0.0
        self._target_c: float | None = None
        # When the target last stepped or ramped (or control began): the integral is
        # slow until it has held for ``integral_settle_s``.
        self._changed_s: float | None = None
        self._still_since_s: float | None = None
        self.ramp_c_per_s = 0.0
        # Why a relay the demand wanted is held back this step (None: nothing held).
        self._wait: tuple[Direction, str] | None = None

    # -- bookkeeping -----------------------------------------------------------------

    def _transitions(
        self,
        now_s: float,
        beer_c: float,
        air_c: float,
        running: dict[Direction, bool],
        holding: bool,
    ) -> None:
        for d, on in running.items():
            run = self._runs[d]
            if on and run is None:
                self._runs[d] = _Run(now_s, beer_c, air_c)
                self.coast.started(d)
                self.last_direction = d
                if d is Direction.COOL:
                    # A pull-down pinned at the set-point's lower limit cycles on the
                    # air around that limit like a hold does: pace it the same way.
                    adapt = holding or self._pinned_cold
                    self.pacer.started(now_s, adapt=adapt, beer_tau_s=self.model.tau_s)
            elif not on and run is not None:
                self._runs[d] = None
                self._stopped_s[d] = now_s
                self.coast.stopped(d, now_s, air_c)
        last = self.last_direction
        if last is not None and not running[last]:
            stopped = self._stopped_s[last]
            if stopped is not None and now_s - stopped > DIRECTION_MEMORY_S:
                self.last_direction = None

    def _may_start(self, d: Direction, now_s: float) -> bool:
        """Not while the other direction's relay runs, nor while the air is still coasting
        after it stopped (at most COAST_WAIT_MAX_S: air that keeps drifting the same way
        is not coasting any more). Records why not, for the thermostat's reason."""
        other = Direction.COOL if d is Direction.HEAT else Direction.HEAT
        if self._runs[other] is not None:
            return False
        stopped = self._stopped_s[other]
        if stopped is None:
            return True
        settling = self.coast.settling is other and now_s - stopped < COAST_WAIT_MAX_S
        if settling:
            relay = "heater" if d is Direction.HEAT else "cooler"
            after = "cooler" if d is Direction.HEAT else "heater"
            self._wait = d, f"{relay} waits for the chamber air to turn after the {after} stopped"
        return not settling

    # -- the beer loop ---------------------------------------------------------------

    def _follow_target(self, now_s: float, dt_s: float, target_c: float) -> None:
        """Steps reset the compressor's band; a ramp's rate is smoothed for the feedforward
        and dropped as soon as the target has stood still for a minute (the ramp ended)."""
        previous, self._target_c = self._target_c, target_c
        if previous is None:
            self._changed_s = now_s
        if previous is None or dt_s <= 0:
            return
        change = target_c - previous
        if abs(change) > STEP_C:
            self._changed_s = now_s
            self.pacer.reset()
            self.ramp_c_per_s = 0.0
            return
        if change == 0:
            if self._still_since_s is None:
                self._still_since_s = now_s
            if now_s - self._still_since_s >= RAMP_END_S:
                self.ramp_c_per_s = 0.0
                return
        else:
            self._still_since_s = None
        was_ramping = self.ramping
        if was_ramping:
            self._changed_s = now_s
        weight = min(1.0, dt_s / RAMP_SMOOTHING_S)
        self.ramp_c_per_s += weight * (change / dt_s - self.ramp_c_per_s)
        if self.ramping and not was_ramping:
            self.pacer.reset()  # the old band was sized for a steady load

    def _integral_fraction(self, now_s: float) -> float:
        """Slow while the beer is still arriving after a step or a ramp, faster in a hold."""
        t = self.tuning
        since = self._changed_s
        held = since is not None and now_s - since >= t.integral_settle_s
        return t.integral_fraction_hold if held else t.integral_fraction

    @property
    def ramping(self) -> bool:
        return abs(self.ramp_c_per_s) * 3600.0 > RAMPING_C_PER_H

    def _setpoint(
        self, now_s: float, dt_s: float, target_c: float, beer_c: float, air_c: float
    ) -> float:
        t = self.tuning
        self._follow_target(now_s, dt_s, target_c)
        error = target_c - beer_c
        low, high = self.authority.limits(target_c)
        # A ramp: the air must lead the beer by rate x tau for the beer to keep up.
        lead = self.ramp_c_per_s * self.model.tau_s
        wanted = target_c + lead + t.kp * error + self.integral_c
        self._pinned_cold = wanted <= low and error < 0
        saturated = (wanted >= high and error > 0) or self._pinned_cold
        # Closing in on the target by itself (within APPROACH_H at its present slope):
        # integrating that error now would only carry the beer past it.
        slope = self.model.slope_c_per_h
        approaching = (
            abs(error) > APPROACH_C and error * slope > 0 and abs(slope) * APPROACH_H >= abs(error)
        )
        if dt_s > 0 and abs(error) <= t.integral_zone_c and not saturated and not approaching:
            ti = min(
                t.integral_max_s,
                max(t.integral_min_s, self._integral_fraction(now_s) * self.model.tau_s),
            )
            self.integral_c += t.kp * error * dt_s / ti
            self.integral_c = min(high - target_c, max(low - target_c, self.integral_c))
            wanted = target_c + lead + t.kp * error + self.integral_c
        self.authority.update(dt_s, target_c, wanted, beer_c, air_c)
        return min(high, max(low, wanted))

    def _smooth(self, dt_s: float, beer_c: float) -> float:
        before = self._beer_smooth_c
        if before is None or not 0.0 < dt_s <= SMOOTHING_GAP_S:
            self._beer_smooth_c = beer_c
            return beer_c
        keep = math.exp(-dt_s / BEER_SMOOTHING_S)
        self._beer_smooth_c = smooth = beer_c + (before - beer_c) * keep
        return smooth

    # -- the step --------------------------------------------------------------------

    def demand(
        self,
        *,
        now_s: float,
        dt_s: float,
        target_c: float,
        beer_c: float,
        air_c: float,
        heating: bool,
        cooling: bool,
        allow_heat: bool,
        allow_cool: bool,
    ) -> Demand:
        t = self.tuning
        self.air_share.feed(now_s, beer_c, air_c, heating)
        probe_c, beer_c = beer_c, self.air_share.correct(beer_c)
        running = {Direction.HEAT: heating, Direction.COOL: cooling}
        holding = abs(target_c - beer_c) <= HOLDING_C and not self.ramping
        self._transitions(now_s, beer_c, air_c, running, holding)
        self.coast.feed(now_s, air_c)
        self.pacer.feed(now_s, air_c)
        self.model.feed(now_s, beer_c, air_c, heating)
        smooth = self._smooth(dt_s, beer_c)
        sp = self.setpoint_c = self._setpoint(now_s, dt_s, target_c, smooth, air_c)
        if self._pinned_cold and not cooling:
            self.pacer.out_of_reach(now_s, air_c, sp, self.model.tau_s)
        half_band = self.pacer.band_c / 2
        coast = self.coast.overshoot_c
        here = f"beer {beer_c:.2f} °C, chamber {air_c:.1f} °C, set-point {sp:.1f} °C"
        if beer_c != probe_c:
            share = self.air_share.share * 100
            here += f" (beer probe {probe_c:.2f} °C, less the {share:.1f} % of air it feels)"
        self._wait = None

        # Cooler: hysteresis around the set-point, stopping early by the learned coast.
        if cooling:
            cool = air_c > sp - half_band + coast[Direction.COOL]
        else:
            dead = t.dead_band_c if self.last_direction is Direction.HEAT else 0.0
            cool = (
                allow_cool
                and air_c > sp + half_band + dead
                and self._may_start(Direction.COOL, now_s)
            )
        cool = cool and allow_cool

        # Heater: a duty cycle dosed by its equivalent air offset, only below target.
        heat = self._heater(now_s, target_c, beer_c, air_c, sp, heating, allow_heat and not cool)
        held, wait = self._wait or (None, None)
        return Demand(heat, cool, here, held, wait)

    def _heater(
        self,
        now_s: float,
        target_c: float,
        beer_c: float,
        air_c: float,
        sp: float,
        heating: bool,
        allowed: bool,
    ) -> bool:
        """A pulse of duty x period at the start of each period, at most one start per period.

        Starts only with the beer below target and runs on while it is not above it.
        A pulse that something else cut short (a lock-out, a probe fault) is asked
        for again, so that the relay guard can say why it waits.
        """
        t = self.tuning
        # Where the beer will be once the heat already on its way arrives (a taped
        # probe is minutes behind, a belt's jacket holds heat).
        rising = max(0.0, self.model.slope_c_per_h) * t.heat_anticipation_s / 3600.0
        ahead = beer_c + rising
        if not allowed or ahead > target_c or (not heating and ahead >= target_c):
            self.heater_duty = 0.0
            self._pulse_over = True
            return False
        # Just after cooling the air is low from the compressor's swing, not for want
        # of heat: stay out of that swing for the first hour.
        dead = 0.0
        stopped = self._stopped_s[Direction.COOL]
        if stopped is not None and now_s - stopped < DEAD_BAND_S and not self._runs[Direction.COOL]:
            dead = self.pacer.band_c / 2 + t.dead_band_c
        offset = max(HEATER_OFFSET_MIN_C, self.model.heater_offset_c)
        reference = sp - dead - self.coast.overshoot_c[Direction.HEAT]
        self.heater_duty = min(1.0, max(0.0, (reference - air_c) / offset))
        on_for = self.heater_duty * t.heater_period_s
        start = self._period_start_s
        if start is None or now_s - start >= t.heater_period_s:
            start = self._period_start_s = now_s
            self._pulse_over = on_for < MIN_PULSE_S
        want = not self._pulse_over and now_s - start < on_for
        if not want:
            self._pulse_over = True
            return False
        if heating:
            return True
        return self._may_start(Direction.HEAT, now_s)
