"""The simulated Tilt: gravity tied to the fermentation heat, read like a Tilt, repeatable."""

from __future__ import annotations

from pi_daemon.clock import ManualClock
from pi_daemon.simulation.fermenter import SimulatedFermenter
from pi_daemon.simulation.plant import ALE, Plant, PlantSetup, Wort, bucket, chest_freezer
from pi_daemon.simulation.tilt import SimulatedTilt


def test_gravity_falls_in_step_with_the_heat_the_yeast_released() -> None:
    """Heat released is in proportion to extract fermented, and so is OG - SG."""
    plant = Plant(PlantSetup(vessel=bucket(20), fridge=chest_freezer(), yeast=ALE), beer_c=19.0)
    og = plant.setup.wort.og
    assert abs(og - 1.050) < 0.0005  # 12.4 °P
    assert plant.gravity == og
    heat_j = 0.0
    ratios = []
    for _hour in range(24 * 8):
        for _step in range(360):
            plant.advance(10.0, heater_on=False, cooler_on=False)
            heat_j += plant.fermentation_w * 10.0
        if og - plant.gravity > 0.002:
            ratios.append(heat_j / (og - plant.gravity))
    assert min(ratios) > 0.97 * max(ratios)  # one constant, the heat per gravity point
    # Fermented out: the apparent attenuation of a 65 % real one, about 80 %, FG ~1.010.
    assert 1.009 <= plant.gravity <= 1.011


def test_a_warmer_ferment_drops_faster() -> None:
    def after(hours: float, beer_c: float) -> float:
        plant = Plant(PlantSetup(vessel=bucket(20), fridge=chest_freezer()), beer_c=beer_c)
        plant.advance(hours * 3600, heater_on=False, cooler_on=False)
        return plant.gravity

    assert after(48, 22.0) < after(48, 16.0) < Wort().og


def _tilt(seed: int) -> tuple[ManualClock, SimulatedTilt]:
    clock = ManualClock()
    fermenter = SimulatedFermenter(clock)
    return clock, SimulatedTilt("tilt-red", fermenter, period_s=60.0, seed=seed)


def _run(seed: int, hours: float) -> list[tuple[float, float | None, str]]:
    clock, tilt = _tilt(seed)
    out = []
    for _ in range(int(hours * 60)):
        for reading in tilt.poll(clock.now()):
            out.append((reading.sg, reading.temperature_c, reading.at))
        clock.advance(60.0)
    return out


def test_it_reads_like_a_tilt_once_per_period_and_repeats_with_its_seed() -> None:
    readings = _run(seed=7, hours=72)
    assert len(readings) == 72 * 60
    sgs = [sg for sg, _t, _at in readings]
    assert all(round(sg, 3) == sg for sg in sgs)  # 0.001 steps
    assert max(sgs[:60]) - min(sgs[:60]) <= 0.004  # jitter of a point or two, no more
    assert sgs[-1] < sgs[0] - 0.020  # fermenting
    temps = {t for _sg, t, _at in readings}
    fahrenheit = [t * 1.8 + 32 for t in temps if t is not None]
    assert len(fahrenheit) == len(temps)
    assert all(abs(f - round(f)) < 0.02 for f in fahrenheit)  # whole °F, shown in °C
    assert readings == _run(seed=7, hours=72)
    assert readings != _run(seed=8, hours=72)


def test_it_waits_out_its_period() -> None:
    clock, tilt = _tilt(seed=1)
    assert len(tilt.poll(clock.now())) == 1
    clock.advance(59.0)
    assert tilt.poll(clock.now()) == []
    clock.advance(1.0)
    assert len(tilt.poll(clock.now())) == 1
