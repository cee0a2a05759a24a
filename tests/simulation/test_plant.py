"""The physics plant: sizes derived from materials, fermentation heat from the extract,
probes that read like a DS18B20, and an integrator that does not depend on its step."""

from __future__ import annotations

import math

import pytest

from pi_daemon.simulation.plant import (
    ALE,
    LAGER,
    TAPED,
    THERMOWELL,
    Plant,
    PlantSetup,
    Wort,
    bar_fridge,
    bucket,
    chest_freezer,
    conical,
    dead,
    glass_carboy,
    heat_belt,
    tube_heater,
)
from pi_daemon.simulation.plant import physics as ph
from pi_daemon.simulation.plant.parts import MILD_ROOM, Room


def beer_time_constant_h(setup: PlantSetup) -> float:
    v, f = setup.vessel, setup.fridge
    ua = (f.h_inside + ph.radiative_h(v.emissivity)) * v.wetted_m2
    return v.beer_j_k / ua / 3600.0


@pytest.mark.parametrize(
    ("vessel", "fan", "low_h", "high_h"),
    [
        (glass_carboy(5), False, 4.0, 8.0),
        (bucket(20), False, 7.0, 12.0),  # "20 L in a bucket is about 8 h"
        (conical(50), False, 20.0, 40.0),  # stainless radiates little
        (conical(50), True, 8.0, 15.0),  # a fan brings it down
    ],
)
def test_beer_time_constants_follow_size_and_material(
    vessel: object, fan: bool, low_h: float, high_h: float
) -> None:
    setup = PlantSetup(vessel=vessel, fridge=chest_freezer(fan=fan))  # type: ignore[arg-type]
    assert low_h < beer_time_constant_h(setup) < high_h


def test_a_closed_chamber_settles_where_its_conductances_say() -> None:
    # No relays, no yeast, a steady room: everything drifts to the room's temperature,
    # and the beer's approach is as slow as its derived time constant suggests.
    room = Room(name="steady 25 °C", mean_c=25.0, daily_swing_c=0.0)
    setup = PlantSetup(vessel=bucket(20), fridge=chest_freezer(), room=room, yeast=None)
    plant = Plant(setup, beer_c=15.0, air_c=15.0)
    plant.set_step(60.0)  # the integrator is stable at any step; this is a slow drift
    plant.advance(24 * 3600, heater_on=False, cooler_on=False)
    assert 15.5 < plant.beer_c < 24.0
    plant.advance(20 * 86_400, heater_on=False, cooler_on=False)
    assert plant.beer_c == pytest.approx(25.0, abs=0.05)
    assert plant.air_c == pytest.approx(25.0, abs=0.05)


def test_fermentation_releases_the_heat_of_the_extract_it_ferments() -> None:
    setup = PlantSetup(vessel=bucket(20), fridge=chest_freezer(), yeast=ALE)
    plant = Plant(setup, beer_c=19.0)
    plant.set_step(30.0)
    energy_j, peak = 0.0, (0.0, 0.0)
    for n in range(14 * 2880):
        # Hold the beer at 19 °C, as a perfect controller would.
        plant.temps[0] = 19.0
        plant.advance(30.0, heater_on=False, cooler_on=False)
        energy_j += plant.fermentation_w * 30.0
        peak = max(peak, (plant.fermentation_w, n * 30.0))
    expected_j = ph.FERMENTATION_J_PER_KG_EXTRACT * Wort().fermentable_kg(20)
    assert energy_j == pytest.approx(expected_j, rel=0.02)
    assert plant.fermented > 0.999
    assert 36 <= peak[1] / 3600 <= 52  # day 2
    assert 5.0 < peak[0] < 12.0  # watts, for 20 L


def test_lager_peaks_on_day_three_and_warmer_yeast_works_faster() -> None:
    def peak_h(beer_c: float, yeast: object) -> float:
        setup = PlantSetup(vessel=bucket(20), fridge=chest_freezer(), yeast=yeast)  # type: ignore[arg-type]
        plant = Plant(setup, beer_c=beer_c)
        plant.set_step(120.0)
        best = (0.0, 0.0)
        for n in range(5 * 720):
            plant.temps[0] = beer_c
            plant.advance(120.0, heater_on=False, cooler_on=False)
            best = max(best, (plant.fermentation_w, n * 120.0))
        return best[1] / 3600

    assert 60 <= peak_h(10.0, LAGER) <= 80
    assert peak_h(15.0, LAGER) < 0.8 * peak_h(10.0, LAGER)


def test_ten_second_steps_stay_close_to_one_second_steps() -> None:
    setup = PlantSetup(vessel=bucket(20), fridge=chest_freezer(), heater=tube_heater(60))
    fine, coarse = Plant(setup, beer_c=20.0), Plant(setup, beer_c=20.0)
    fine.set_step(1.0)
    worst_beer = worst_air = 0.0
    for n in range(8640 // 2):
        phase = (n // 180) % 4  # 30 minutes each: cool, rest, heat, rest
        for plant in (fine, coarse):
            plant.advance(10.0, heater_on=phase == 2, cooler_on=phase == 0)
        worst_beer = max(worst_beer, abs(fine.beer_c - coarse.beer_c))
        worst_air = max(worst_air, abs(fine.air_c - coarse.air_c))
    assert worst_beer < 0.03
    assert worst_air < 0.15


def test_readings_are_ds18b20_steps_and_a_taped_probe_lags_a_thermowell() -> None:
    def probe_after_a_warm_up(mount: object) -> float:
        setup = PlantSetup(
            vessel=glass_carboy(5),
            fridge=bar_fridge(),
            heater=heat_belt(25),  # warms 5 L by ~3.7 K/h
            beer_probe=mount,  # type: ignore[arg-type]
            yeast=None,
        )
        plant = Plant(setup, beer_c=18.0, seed=1)
        for _ in range(60):
            plant.advance(10.0, heater_on=True, cooler_on=False)
            reading = plant.read_beer()
            assert reading * 16 == round(reading * 16)
        return plant.read_beer() - plant.beer_c

    well, taped = probe_after_a_warm_up(THERMOWELL), probe_after_a_warm_up(TAPED)
    assert abs(well) < 0.15  # a minute behind
    assert taped < well - 0.3, "ten minutes behind"


def test_the_compressor_comes_up_to_capacity_with_a_lag() -> None:
    setup = PlantSetup(vessel=bucket(20), fridge=chest_freezer(), room=MILD_ROOM, yeast=None)
    plant = Plant(setup, beer_c=20.0)
    plant.set_step(1.0)
    plant.advance(setup.fridge.start_lag_s, heater_on=False, cooler_on=True)
    capacity = setup.fridge.capacity_w(plant.evaporator_c)
    assert plant.cooling_w == pytest.approx((1 - math.exp(-1)) * capacity, rel=0.05)
    plant.advance(3600, heater_on=False, cooler_on=True)
    assert plant.evaporator_c < plant.air_c - 5  # a cold evaporator: the coast to come
    plant.advance(600, heater_on=False, cooler_on=False)
    assert plant.cooling_w < 0.01 * capacity


def test_a_dead_heater_clicks_but_warms_nothing() -> None:
    def after_an_hour(heater: object) -> float:
        setup = PlantSetup(vessel=bucket(20), fridge=chest_freezer(), heater=heater, yeast=None)  # type: ignore[arg-type]
        plant = Plant(setup, beer_c=18.0, air_c=18.0)
        plant.advance(3600, heater_on=True, cooler_on=False)
        return plant.air_c

    working = after_an_hour(tube_heater(60))
    broken = after_an_hour(dead(tube_heater(60)))
    assert working > broken + 3.0
