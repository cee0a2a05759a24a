"""A thermal model of a fermenter standing in a fridge (a "fermentation chamber").

The daemon's simulation runs the physics plant (chamber.py, plant/) instead;
this two-node model stays only as the model of the control tests' rig
(tests/control/control_rig.py).

Two lumped heat capacities: the beer (about 20 L of water) and the chamber air
with the fridge's walls and shelves. The beer exchanges heat only with the air;
the air with the beer and, through the fridge's insulation, with the room. The
heater warms the air, the fridge's compressor cools it, and a fermenting beer
gives off heat following a curve that peaks a day or two after pitching.

Numbers are typical of a homebrew chamber: a compressor removes about 80 W, a
heat mat or bulb adds about 60 W, 20 L of beer has a time constant of about
3 hours against the air. The model is deterministic for a given seed, so the
benchmark runs BeerPi's controller and the baseline on the same fortnight.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

WATER_J_PER_KG_K = 4186.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FermenterParams:
    beer_litres: float = 20.0
    # Air, walls and shelves of the chamber, J/K.
    chamber_heat_capacity_j_k: float = 25_000.0
    beer_to_air_w_k: float = 8.0
    air_to_room_w_k: float = 2.5
    heater_w: float = 60.0
    cooler_w: float = 80.0
    # Fermentation heat: total energy and when it peaks after pitching.
    fermentation_peak_w: float = 25.0
    fermentation_peak_h: float = 40.0
    fermentation_spread: float = 0.55
    # Room temperature: mean, daily swing (peak to mean), and slow random drift.
    room_mean_c: float = 20.0
    room_daily_swing_c: float = 3.0
    room_drift_c: float = 1.0
    seed: int = 1


class FermenterModel:
    """State and physics of the chamber; ``advance`` moves it forward in time."""

    MAX_STEP_S = 10.0

    def __init__(
        self,
        params: FermenterParams | None = None,
        *,
        beer_c: float = 20.0,
        air_c: float | None = None,
    ) -> None:
        self.params = params or FermenterParams()
        self.beer_c = beer_c
        self.air_c = beer_c if air_c is None else air_c
        self.elapsed_s = 0.0
        # An ambient set through the `simulate` request overrides the room curve.
        self.ambient_override_c: float | None = None
        rng = random.Random(self.params.seed)
        # Slow random drift of the room: a few random sinusoids, fixed by the seed.
        self._drift = [
            (rng.uniform(0.2, 1.0), rng.uniform(6 * 3600, 60 * 3600), rng.uniform(0, 2 * math.pi))
            for _ in range(3)
        ]
        self._beer_capacity = self.params.beer_litres * WATER_J_PER_KG_K

    def room_c(self, elapsed_s: float | None = None) -> float:
        if self.ambient_override_c is not None:
            return self.ambient_override_c
        t = self.elapsed_s if elapsed_s is None else elapsed_s
        p = self.params
        daily = p.room_daily_swing_c * math.sin(2 * math.pi * (t / 86_400.0 - 0.25))
        drift = sum(
            a * math.sin(2 * math.pi * t / period + phase) for a, period, phase in self._drift
        )
        return p.room_mean_c + daily + p.room_drift_c * drift / 1.8

    def fermentation_w(self, elapsed_s: float | None = None) -> float:
        """Heat from the yeast: a log-normal bump peaking ``fermentation_peak_h`` after pitch."""
        t_h = (self.elapsed_s if elapsed_s is None else elapsed_s) / 3600.0
        if t_h <= 0:
            return 0.0
        p = self.params
        x = math.log(t_h / p.fermentation_peak_h) / p.fermentation_spread
        return p.fermentation_peak_w * math.exp(-0.5 * x * x)

    def advance(self, seconds: float, *, heater_on: bool, cooler_on: bool) -> None:
        """Integrate the model over ``seconds`` with the relays as given (explicit Euler)."""
        p = self.params
        remaining = seconds
        while remaining > 1e-9:
            dt = min(self.MAX_STEP_S, remaining)
            room = self.room_c()
            beer_to_air_w = p.beer_to_air_w_k * (self.beer_c - self.air_c)
            air_to_room_w = p.air_to_room_w_k * (self.air_c - room)
            power_air_w = beer_to_air_w - air_to_room_w
            if heater_on:
                power_air_w += p.heater_w
            if cooler_on:
                power_air_w -= p.cooler_w
            power_beer_w = self.fermentation_w() - beer_to_air_w
            self.beer_c += power_beer_w * dt / self._beer_capacity
            self.air_c += power_air_w * dt / p.chamber_heat_capacity_j_k
            self.elapsed_s += dt
            remaining -= dt
