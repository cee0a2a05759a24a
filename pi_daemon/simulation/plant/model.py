"""A fermenter in a fridge as a network of lumped heat capacities.

Nodes: the beer (with its vessel), the chamber air, the inner liner, the
evaporator and the heater's element. Conductances join them to each other and
the liner and air to the room. The compressor pumps heat out of the evaporator
with a start-up and a stop lag; the yeast heats the beer as it ferments;
probes follow what they touch with their own lag and read like a DS18B20
(noise, then 1/16 °C steps).

Integration: each node relaxes exactly (an exponential) towards the mean of
its neighbours weighted by conductance, nodes updated in turn (Gauss-Seidel),
in steps of STEP_S. Stable for any step; 10 s keeps the beer within 0.03 K and
the air within 0.15 K of a 1 s solution (tests/simulation/test_plant.py).
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass, field

from . import physics as ph
from .parts import (
    ALE,
    FREE_AIR,
    MILD_ROOM,
    THERMOWELL,
    Fridge,
    Heater,
    ProbeMount,
    Room,
    Vessel,
    Wort,
    Yeast,
)

BEER, AIR, LINER, EVAPORATOR, ELEMENT = range(5)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantSetup:
    vessel: Vessel
    fridge: Fridge
    heater: Heater | None = None
    beer_probe: ProbeMount = THERMOWELL
    chamber_probe: ProbeMount = FREE_AIR
    room: Room = MILD_ROOM
    yeast: Yeast | None = ALE
    wort: Wort = field(default_factory=Wort)

    def describe(self) -> str:
        parts = [self.vessel.name, self.fridge.name]
        parts.append(self.heater.name if self.heater else "no heater")
        parts += [f"beer probe {self.beer_probe.name}", self.room.name]
        if self.yeast is not None:
            parts.append(self.yeast.name)
        return ", ".join(parts)


class Plant:
    """State and physics of one chamber; ``advance`` moves it forward in time."""

    STEP_S = 10.0

    def __init__(
        self,
        setup: PlantSetup,
        *,
        beer_c: float,
        air_c: float | None = None,
        fermented: float = 0.0,
        seed: int = 1,
    ) -> None:
        self.setup = setup
        start_air = beer_c if air_c is None else air_c
        self.temps = [beer_c, start_air, start_air, start_air, start_air]
        self.elapsed_s = 0.0
        self.cooling_w = 0.0  # heat the compressor is pumping out of the evaporator now
        self.fermented = fermented
        self.fermentation_w = 0.0
        self._probe_beer = beer_c
        self._probe_air = start_air
        self._rng = random.Random(seed)
        self._build()

    def _build(self) -> None:
        s = self.setup
        v, f, h = s.vessel, s.fridge, s.heater
        links: list[tuple[int, int, float]] = [
            (BEER, AIR, f.h_inside * v.wetted_m2),
            (BEER, LINER, ph.radiative_h(v.emissivity) * v.wetted_m2),
            (AIR, LINER, f.air_liner_w_k),
            (EVAPORATOR, AIR, f.evaporator_air_w_k),
            (EVAPORATOR, LINER, f.evaporator_liner_w_k),
        ]
        capacity = [v.beer_j_k, f.air_j_k, f.liner_j_k, f.evaporator_j_k, 1.0]
        if h is not None:
            links += [
                (ELEMENT, BEER, h.to_beer_w_k),
                (ELEMENT, AIR, h.to_air_w_k),
                (ELEMENT, LINER, h.to_liner_w_k),
            ]
            capacity[ELEMENT] = h.element_j_k
        self._room_w_k = [0.0, f.leak_w_k, f.insulation_w_k, 0.0, 0.0]
        self._neighbours: list[list[tuple[int, float]]] = [[] for _ in capacity]
        for a, b, g in links:
            if g > 0:
                self._neighbours[a].append((b, g))
                self._neighbours[b].append((a, g))
        self._conductance = [
            sum(g for _, g in n) + self._room_w_k[i] for i, n in enumerate(self._neighbours)
        ]
        self._capacity = capacity
        self._decay: list[float] = []
        if h is None:
            self._conductance[ELEMENT] = 0.0
        self._nodes: tuple[tuple[int, float, float, float, tuple[tuple[int, float], ...]], ...]
        self.set_step(self.STEP_S)
        self._fermentable_kg = 0.0 if s.yeast is None else s.wort.fermentable_kg(v.litres)
        # Constant per plant, looked up once rather than every step (advance is the hot path
        # of the control benchmark); the same numbers, so the same results to the bit.
        self._yeast_k = 0.0 if s.yeast is None else s.yeast.rate_per_s
        self._heater_w = h.power_w if h is not None and h.works else 0.0

    def set_step(self, step_s: float) -> None:
        """Integrate in steps of ``step_s`` from now on (tests compare step sizes)."""
        self._step_s = step_s
        self._decay = [
            math.exp(-step_s * g / c) if g > 0 else 1.0
            for g, c in zip(self._conductance, self._capacity, strict=True)
        ]
        # Per node that exchanges heat, in update order: (index, total conductance,
        # decay, conductance to the room, neighbours).
        self._nodes = tuple(
            (i, g, self._decay[i], self._room_w_k[i], tuple(self._neighbours[i]))
            for i, g in enumerate(self._conductance)
            if g > 0
        )
        s = self.setup
        self._beer_probe_keep = math.exp(-step_s / s.beer_probe.lag_s)
        self._air_probe_keep = math.exp(-step_s / s.chamber_probe.lag_s)
        f = s.fridge
        self._start_keep = math.exp(-step_s / f.start_lag_s)
        self._stop_keep = math.exp(-step_s / f.stop_lag_s)

    # -- what can be observed -------------------------------------------------------

    @property
    def beer_c(self) -> float:
        return self.temps[BEER]

    @property
    def air_c(self) -> float:
        return self.temps[AIR]

    @property
    def liner_c(self) -> float:
        return self.temps[LINER]

    @property
    def evaporator_c(self) -> float:
        return self.temps[EVAPORATOR]

    def room_c(self, elapsed_s: float | None = None) -> float:
        return self.setup.room.at(self.elapsed_s if elapsed_s is None else elapsed_s)

    @property
    def gravity(self) -> float:
        """The beer's true specific gravity now (no yeast: the wort stays at its OG)."""
        wort = self.setup.wort
        return wort.og if self.setup.yeast is None else wort.sg_at(self.fermented)

    def _read(self, value_c: float, mount: ProbeMount) -> float:
        noisy = value_c + self._rng.gauss(0.0, mount.noise_c)
        return round(noisy / ph.DS18B20_STEP_C) * ph.DS18B20_STEP_C

    def read_beer(self) -> float:
        """The beer probe as a DS18B20 would report it now."""
        return self._read(self._probe_beer, self.setup.beer_probe)

    def read_chamber(self) -> float:
        return self._read(self._probe_air, self.setup.chamber_probe)

    def clone(self) -> Plant:
        """A copy that moves on alone from here (the setup and the built network are
        shared: neither changes while it runs; the probes' noise source is shared too)."""
        twin = copy.copy(self)
        twin.temps = list(self.temps)
        return twin

    # -- carrying on after a restart ------------------------------------------------

    def state(self) -> dict[str, float | list[float]]:
        """What ``restore`` needs to carry on from here (JSON-friendly)."""
        return {
            "temps_c": list(self.temps),
            "elapsed_s": self.elapsed_s,
            "fermented": self.fermented,
            "cooling_w": self.cooling_w,
        }

    def restore(
        self, temps_c: list[float], *, elapsed_s: float, fermented: float, cooling_w: float
    ) -> None:
        """Carry on from a ``state()``; the probes are taken as settled on it."""
        if len(temps_c) != len(self.temps):
            raise ValueError(f"{len(self.temps)} node temperatures, not {len(temps_c)}")
        self.temps = [float(t) for t in temps_c]
        self.elapsed_s = elapsed_s
        self.fermented = min(1.0, max(0.0, fermented))
        self.cooling_w = max(0.0, cooling_w)
        self._probe_beer, self._probe_air = self.temps[BEER], self.temps[AIR]

    # -- physics --------------------------------------------------------------------

    def advance(self, seconds: float, *, heater_on: bool, cooler_on: bool) -> None:
        if seconds == self._step_s:  # the usual call: one whole step
            self._step(seconds, heater_on, cooler_on)
            return
        remaining = seconds
        while remaining > 1e-9:
            dt = min(self._step_s, remaining)
            if abs(dt - self._step_s) > 1e-9:
                full = self._step_s
                self.set_step(dt)
                self._step(dt, heater_on, cooler_on)
                self.set_step(full)
            else:
                self._step(dt, heater_on, cooler_on)
            remaining -= dt

    def _step(self, dt: float, heater_on: bool, cooler_on: bool) -> None:
        s = self.setup
        temps = self.temps
        room = s.room.at(self.elapsed_s)
        # Compressor: towards its capacity at this evaporating temperature, or off.
        if cooler_on:
            goal = s.fridge.capacity_w(temps[EVAPORATOR])
            self.cooling_w = goal + (self.cooling_w - goal) * self._start_keep
        else:
            self.cooling_w *= self._stop_keep
        # Yeast: extract fermented in this step, and its heat (Yeast.rate_at, inlined).
        yeast = s.yeast
        fermented = self.fermented
        if yeast is not None and fermented < 1.0:
            rate = self._yeast_k * ph.YEAST_Q10 ** ((temps[BEER] - yeast.reference_c) / 10.0)
            rate *= fermented + yeast.seed
            rate *= 1.0 - fermented
            self.fermented = min(1.0, fermented + rate * dt)
            self.fermentation_w = ph.FERMENTATION_J_PER_KG_EXTRACT * self._fermentable_kg * rate
        else:
            self.fermentation_w = 0.0
        power = (
            self.fermentation_w,
            s.fridge.fan_w,
            0.0,
            -self.cooling_w,
            self._heater_w if heater_on else 0.0,
        )
        for i, g_total, decay, room_w_k, neighbours in self._nodes:
            pulled = room_w_k * room + power[i]
            for j, g in neighbours:
                pulled += g * temps[j]
            equilibrium = pulled / g_total
            temps[i] = equilibrium + (temps[i] - equilibrium) * decay
        mount = s.beer_probe
        beer, air = temps[BEER], temps[AIR]
        felt = beer + mount.air_weight * (air - beer)
        self._probe_beer = felt + (self._probe_beer - felt) * self._beer_probe_keep
        self._probe_air = air + (self._probe_air - air) * self._air_probe_keep
        self.elapsed_s += dt
