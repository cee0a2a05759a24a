"""The adaptive controller's learning parts, each on data whose answer is known."""

from __future__ import annotations

import math
import random

from pi_daemon.control import Tuning
from pi_daemon.control.authority import Authority
from pi_daemon.control.beer_model import BeerModel
from pi_daemon.control.coast import TURN_C, CoastLearner
from pi_daemon.control.demand import Direction
from pi_daemon.control.pacing import GROW_MAX, CompressorPacer
from pi_daemon.simulation.probes import quantise


def test_coast_is_the_distance_past_the_stop_to_the_turn() -> None:
    coast = CoastLearner(learn_rate=0.5, max_c=4.0)
    coast.stopped(Direction.COOL, 0.0, 10.0)
    assert coast.settling is Direction.COOL
    for n, air in enumerate([9.5, 9.0, 8.6, 8.5, 8.55, 8.6]):
        coast.feed(60.0 * (n + 1), air)
    assert coast.settling is Direction.COOL, "not turned by three probe steps yet"
    coast.feed(420.0, 8.5 + TURN_C)
    assert coast.settling is None
    assert math.isclose(coast.overshoot_c[Direction.COOL], 1.5)
    # A second, smaller coast is blended in at the learning rate.
    coast.stopped(Direction.COOL, 1000.0, 10.0)
    coast.feed(1060.0, 9.5)
    coast.feed(1120.0, 10.0)
    assert math.isclose(coast.overshoot_c[Direction.COOL], 1.0)
    assert coast.overshoot_c[Direction.HEAT] == 0.0


def test_a_restart_before_the_turn_teaches_nothing() -> None:
    coast = CoastLearner(learn_rate=0.5, max_c=4.0)
    coast.stopped(Direction.HEAT, 0.0, 20.0)
    coast.feed(60.0, 21.0)
    coast.started(Direction.HEAT)
    assert coast.settling is None
    assert coast.samples[Direction.HEAT] == 0


def _first_order_beer(
    tau_h: float, heater_k_per_h: float, seconds: float, seed: int = 3
) -> BeerModel:
    """A beer that follows a cycling chamber with time constant ``tau_h`` and warms
    ``heater_k_per_h`` per hour of heater (40 min every 4 h), read through a DS18B20
    every 10 s. (A heater at a steady duty tells the model little about itself: its
    effect then looks like any other steady warming.)"""
    rng = random.Random(seed)
    model = BeerModel(tau_prior_s=8 * 3600.0)
    beer, t, dt = 18.0, 0.0, 10.0
    while t < seconds:
        cycle = t % 7200.0
        air = 14.0 if cycle < 2400 else 21.0  # the compressor cycles every two hours
        heater = 4000.0 <= cycle < 6400.0 and (t // 7200) % 2 == 0
        rate = (air - beer) / (tau_h * 3600.0) + (heater_k_per_h / 3600.0 if heater else 0.0)
        beer += rate * dt
        model.feed(t, quantise(beer + rng.gauss(0, 0.02)), quantise(air), heater)
        t += dt
    return model


def test_the_beer_model_learns_a_slow_batch_and_a_fast_one() -> None:
    slow = _first_order_beer(tau_h=16.0, heater_k_per_h=0.0, seconds=3 * 86_400.0)
    fast = _first_order_beer(tau_h=4.0, heater_k_per_h=0.0, seconds=3 * 86_400.0)
    assert 12 * 3600 < slow.tau_s < 20 * 3600
    assert 3 * 3600 < fast.tau_s < 5 * 3600
    assert slow.heater_offset_c < 1.0  # no heater effect seen, none learned


def test_the_beer_model_learns_what_a_belt_is_worth() -> None:
    # A belt that warms 20 L by 1 K/h on a beer with a 9 h time constant is worth
    # air 9 K warmer.
    model = _first_order_beer(tau_h=9.0, heater_k_per_h=1.0, seconds=3 * 86_400.0)
    assert 6.0 < model.heater_offset_c < 12.0
    assert 7 * 3600 < model.tau_s < 11 * 3600


def test_the_compressor_band_widens_for_short_cycles_and_narrows_for_long_ones() -> None:
    pacer = CompressorPacer(cycle_s=3 * 3600.0, band_min_c=1.0, band_max_c=10.0)
    for n in range(12):
        pacer.started(n * 1800.0)  # every 30 minutes
    assert pacer.band_c == 10.0
    t = 12 * 1800.0
    for _ in range(30):
        t += 6 * 3600.0
        pacer.started(t)
    assert pacer.band_c == 1.0
    pacer.started(t + 600)
    assert pacer.band_c > 1.0
    pacer.reset()
    assert pacer.band_c == 1.0


def test_the_band_widens_by_the_cycles_shortfall_in_one_step_within_a_cap() -> None:
    """The air crosses the band about in proportion to its width: a cycle a third of
    the aim triples the band at once; a much shorter one is capped (one odd cycle)."""
    aim = 3 * 3600.0
    pacer = CompressorPacer(cycle_s=aim, band_min_c=1.0, band_max_c=10.0)
    pacer.started(0.0)
    pacer.started(aim / 3)
    assert math.isclose(pacer.band_c, 3.0)
    pacer.started(aim / 3 + aim / 2)
    assert math.isclose(pacer.band_c, 6.0)
    pacer.reset()
    pacer.started(0.0)
    pacer.started(aim / 20)
    assert math.isclose(pacer.band_c, GROW_MAX)
    # A cycle that was no sample of a steady load (adapt False) leaves it alone.
    pacer.started(aim / 20 + 600.0, adapt=False)
    assert math.isclose(pacer.band_c, GROW_MAX)
    # The aim is a third of the beer's time constant when that is shorter.
    pacer.reset()
    pacer.started(0.0, beer_tau_s=3 * 3600.0)
    pacer.started(1800.0, beer_tau_s=3 * 3600.0)
    assert math.isclose(pacer.band_c, 2.0)


def test_authority_widens_only_while_the_limit_binds_and_the_beer_needs_it() -> None:
    tuning = Tuning()
    auth = Authority(tuning)
    low, _ = auth.limits(19.0)
    assert low == 19.0 - tuning.authority_base_c
    # Pinned at the limit, beer warm, chamber at the limit: an hour widens by 2 °C.
    for _ in range(360):
        low, _ = auth.limits(19.0)
        auth.update(10.0, 19.0, wanted_c=5.0, beer_c=20.0, air_c=low + 0.5)
    assert math.isclose(auth.below_c, tuning.authority_base_c + 2.0)
    # Pinned, but the fridge cannot get there: not the limit's fault, no widening.
    before = auth.below_c
    for _ in range(360):
        auth.update(10.0, 19.0, wanted_c=5.0, beer_c=20.0, air_c=18.0)
    assert auth.below_c == before
    # Well inside again: it narrows back to the base, and no further.
    for _ in range(360 * 10):
        auth.update(10.0, 19.0, wanted_c=18.0, beer_c=19.0, air_c=18.0)
    assert auth.below_c == tuning.authority_base_c


def test_authority_widens_for_a_beer_a_quarter_degree_warm_at_peak_fermentation() -> None:
    """At high krausen the set-point sits at its limit with the beer 0.25 °C warm for
    hours: that is the limit binding, so it widens; a beer within one 1/16 °C step of
    the target does not widen it."""
    tuning = Tuning()
    near, warm = Authority(tuning), Authority(tuning)
    for _ in range(360):
        for auth, beer_c in ((near, 19.0625), (warm, 19.25)):
            low, _ = auth.limits(19.0)
            auth.update(10.0, 19.0, wanted_c=low - 1.0, beer_c=beer_c, air_c=low + 0.5)
    assert near.below_c == tuning.authority_base_c
    assert math.isclose(warm.below_c, tuning.authority_base_c + 2.0)


def _air_cycle(pacer: CompressorPacer, start_s: float, period_s: float, swing_c: float) -> float:
    """One compressor cycle of square-wave air: cold for its first half, warm for the rest."""
    for k in range(int(period_s // 10)):
        t = start_s + 10.0 * k
        pacer.feed(t, 6.0 - swing_c if t - start_s < period_s / 2 else 6.0 + swing_c)
    return start_s + period_s


def _paced_to_the_usual_maximum(tau_s: float) -> tuple[CompressorPacer, float]:
    pacer = CompressorPacer(
        cycle_s=3 * 3600.0, band_min_c=1.0, band_max_c=10.0, band_wide_c=20.0, ripple_max_c=0.1
    )
    t = 0.0
    for _ in range(4):  # short cycles, no air seen: the usual maximum holds
        pacer.started(t, beer_tau_s=tau_s)
        t += 600.0
    assert pacer.band_c == 10.0
    pacer.started(t, beer_tau_s=tau_s)
    return pacer, t


def test_past_its_usual_maximum_the_band_widens_only_while_the_beer_hardly_feels_it() -> None:
    """A weak fridge's air crosses even a 10 °C band within half an hour. A 20 L lager
    (time constant 20 h) feels ±0.03 °C of that swing, so the band widens on and the
    cycles lengthen; a 5 L carboy (4 h) would feel ±0.16 °C, so there it stays at 10."""
    lager_s = 20 * 3600.0
    pacer, t = _paced_to_the_usual_maximum(lager_s)
    t = _air_cycle(pacer, t, 1800.0, 5.0)
    pacer.started(t, beer_tau_s=lager_s)
    ripple = 5.0 * 900.0 / lager_s  # 5 K off the mean for a quarter hour, either way
    assert pacer.ripple_c is not None
    assert math.isclose(pacer.ripple_c, ripple, rel_tol=0.05)
    # The beer's swing grows with the square of the band: widened to its headroom.
    assert math.isclose(pacer.band_c, 10.0 * math.sqrt(0.1 / ripple), rel_tol=0.05)
    # A widened band whose cycle then swings the beer too far goes back, not below 10.
    t = _air_cycle(pacer, t, 2 * 3600.0, 10.0)
    pacer.started(t, beer_tau_s=lager_s)
    assert pacer.band_c == 10.0

    carboy_s = 4 * 3600.0
    pacer, t = _paced_to_the_usual_maximum(carboy_s)
    t = _air_cycle(pacer, t, 1800.0, 5.0)
    pacer.started(t, beer_tau_s=carboy_s)
    assert pacer.ripple_c is not None
    assert pacer.ripple_c > 0.1
    assert pacer.band_c == 10.0


def test_a_band_whose_top_the_air_never_reaches_narrows_to_the_air() -> None:
    """Widened to 17 °C, the band's top stands 8.5 °C above the set-point, and the air
    the chamber reaches by itself only 5 °C above it: the compressor would never
    start again, and the band adapts only at a start."""
    tau_s = 6 * 3600.0  # aim: 2 h
    pacer = CompressorPacer(cycle_s=3 * 3600.0, band_min_c=1.0, band_max_c=10.0, band_wide_c=20.0)
    pacer.band_c = 17.0
    pacer.started(0.0, beer_tau_s=tau_s)
    # Within a long cycle (1.5 x the aim) nothing changes: it may yet get there.
    pacer.out_of_reach(2.9 * 3600.0, air_c=17.0, setpoint_c=12.0, beer_tau_s=tau_s)
    assert pacer.band_c == 17.0
    # Air below the set-point: the chamber is cold enough, the band stays.
    pacer.out_of_reach(3.5 * 3600.0, air_c=11.0, setpoint_c=12.0, beer_tau_s=tau_s)
    assert pacer.band_c == 17.0
    # Past a long cycle with the air 5 °C above the set-point: just inside the air.
    pacer.out_of_reach(3.5 * 3600.0, air_c=17.0, setpoint_c=12.0, beer_tau_s=tau_s)
    assert 12.0 + pacer.band_c / 2 < 17.0
    assert pacer.band_c > 8.0
    # Never below the minimum.
    pacer.out_of_reach(3.6 * 3600.0, air_c=12.1, setpoint_c=12.0, beer_tau_s=tau_s)
    assert pacer.band_c == 1.0
