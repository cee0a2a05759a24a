"""The plant's step is the control benchmark's hot path, so it is written for speed
(constants looked up once, the network flattened). It must still be the textbook
step: each node relaxes towards its neighbours' weighted mean, in turn. This one,
written plainly here, is what it is checked against, bit for bit."""

from __future__ import annotations

import math

import pytest

from bench._control_scenarios import MATRIX
from pi_daemon.simulation.plant import Plant
from pi_daemon.simulation.plant import physics as ph
from pi_daemon.simulation.plant.model import AIR, BEER, ELEMENT, EVAPORATOR

STEP_S = 10.0


class Reference:
    """The plant's state and physics, stepped the plain way."""

    def __init__(self, plant: Plant) -> None:
        s = self.setup = plant.setup
        self.temps = list(plant.temps)
        self.cooling_w = plant.cooling_w
        self.fermented = plant.fermented
        self.probe_beer, self.probe_air = plant.beer_c, plant.air_c
        self.elapsed_s = 0.0
        f = s.fridge
        # The network as the model describes it (conductances and capacities per node).
        self.neighbours = plant._neighbours
        self.room_w_k = plant._room_w_k
        self.conductance = plant._conductance
        self.capacity = plant._capacity
        self.decay = [
            math.exp(-STEP_S * g / c) if g > 0 else 1.0
            for g, c in zip(self.conductance, self.capacity, strict=True)
        ]
        self.fermentable_kg = 0.0 if s.yeast is None else s.wort.fermentable_kg(s.vessel.litres)
        self.start_keep = math.exp(-STEP_S / f.start_lag_s)
        self.stop_keep = math.exp(-STEP_S / f.stop_lag_s)

    def step(self, heater_on: bool, cooler_on: bool) -> None:
        s, temps = self.setup, self.temps
        room = s.room.at(self.elapsed_s)
        if cooler_on:
            goal = s.fridge.capacity_w(temps[EVAPORATOR])
            self.cooling_w = goal + (self.cooling_w - goal) * self.start_keep
        else:
            self.cooling_w *= self.stop_keep
        fermentation_w = 0.0
        if s.yeast is not None and self.fermented < 1.0:
            rate = s.yeast.rate_at(temps[BEER]) * (self.fermented + s.yeast.seed)
            rate *= 1.0 - self.fermented
            self.fermented = min(1.0, self.fermented + rate * STEP_S)
            fermentation_w = ph.FERMENTATION_J_PER_KG_EXTRACT * self.fermentable_kg * rate
        heater = s.heater
        power = [0.0] * 5
        power[BEER], power[AIR], power[EVAPORATOR] = fermentation_w, s.fridge.fan_w, -self.cooling_w
        if heater is not None and heater.works and heater_on:
            power[ELEMENT] = heater.power_w
        for i, neighbours in enumerate(self.neighbours):
            if self.conductance[i] <= 0:
                continue
            pulled = self.room_w_k[i] * room + power[i]
            for j, g in neighbours:
                pulled += g * temps[j]
            equilibrium = pulled / self.conductance[i]
            temps[i] = equilibrium + (temps[i] - equilibrium) * self.decay[i]
        mount = s.beer_probe
        felt = temps[BEER] + mount.air_weight * (temps[AIR] - temps[BEER])
        self.probe_beer = felt + (self.probe_beer - felt) * math.exp(-STEP_S / mount.lag_s)
        lag = s.chamber_probe.lag_s
        self.probe_air = temps[AIR] + (self.probe_air - temps[AIR]) * math.exp(-STEP_S / lag)
        self.elapsed_s += STEP_S


@pytest.mark.parametrize("index", range(len(MATRIX)), ids=lambda i: MATRIX[i].name[:40])
def test_the_fast_step_is_the_plain_step_to_the_bit(index: int) -> None:
    sc = MATRIX[index]
    plant = Plant(sc.setup, beer_c=sc.programme.start_c, air_c=sc.setup.room.at(0.0))
    ref = Reference(plant)
    for n in range(3 * 8640 // 4):  # 18 h, heater and cooler switched in uneven runs
        heat, cool = (n // 37) % 3 == 0, (n // 53) % 4 == 1
        plant.advance(STEP_S, heater_on=heat, cooler_on=cool)
        ref.step(heat, cool)
    assert plant.temps == ref.temps
    assert (plant.cooling_w, plant.fermented) == (ref.cooling_w, ref.fermented)
    assert (plant._probe_beer, plant._probe_air) == (ref.probe_beer, ref.probe_air)
    assert plant.fermented > 0.0 or sc.setup.yeast is None
