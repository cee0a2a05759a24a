"""The chamber ``beerpi-daemon --simulate`` runs: the physics plant of plant/.

A 20 L bucket of ale in a chest freezer with a 60 W tube heater in its air, in a
room at ``simulation.room_c`` with a daily swing of ±2 °C: one of the benchmark's
set-ups (bench/_control_scenarios.py), so the demo's fermenter behaves like the
fermenters BeerPi's control is measured on (an evaporator and a liner that make
the air coast on after a stop, a compressor start-up lag, fermentation heat
peaking on day 2). The probes (probes.py) read the beer and the chamber air.

On top of the plant: a room held at a set temperature (the ``simulate``
request's ambient) and the state a restarted daemon carries on from.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .plant import ALE, MILD_ROOM, Plant, PlantSetup, Room, bucket, chest_freezer, tube_heater

ROOM_SWING_C = MILD_ROOM.daily_swing_c


def demo_setup(room_c: float = 20.0) -> PlantSetup:
    room = Room(
        name=f"room {room_c:g} ± {ROOM_SWING_C:g} °C", mean_c=room_c, daily_swing_c=ROOM_SWING_C
    )
    return PlantSetup(
        vessel=bucket(20.0),
        fridge=chest_freezer(),
        heater=tube_heater(),
        room=room,
        yeast=ALE,
    )


class ChamberModel:
    """The plant with an overridable room; ``advance`` moves it forward in time."""

    def __init__(
        self,
        *,
        room_c: float = 20.0,
        beer_c: float = 20.0,
        air_c: float | None = None,
        seed: int = 1,
    ) -> None:
        # The air starts at the beer's temperature (a chamber closed on its beer a
        # while ago), so a fresh simulation does not open with a jolt.
        self.plant = Plant(
            demo_setup(room_c), beer_c=beer_c, air_c=beer_c if air_c is None else air_c, seed=seed
        )
        self._room = self.plant.setup.room
        self._ambient_override_c: float | None = None

    @property
    def beer_c(self) -> float:
        return self.plant.beer_c

    @property
    def air_c(self) -> float:
        return self.plant.air_c

    @property
    def elapsed_s(self) -> float:
        return self.plant.elapsed_s

    @property
    def ambient_override_c(self) -> float | None:
        """A room held at this temperature (the ``simulate`` request), or None: the daily curve."""
        return self._ambient_override_c

    @ambient_override_c.setter
    def ambient_override_c(self, celsius: float | None) -> None:
        self._ambient_override_c = celsius
        room = (
            self._room
            if celsius is None
            else Room(name=f"held at {celsius:g} °C", mean_c=celsius, daily_swing_c=0.0)
        )
        self.plant.setup = replace(self.plant.setup, room=room)

    def room_c(self) -> float:
        return self.plant.room_c()

    def advance(self, seconds: float, *, heater_on: bool, cooler_on: bool) -> None:
        self.plant.advance(seconds, heater_on=heater_on, cooler_on=cooler_on)

    def state(self) -> dict[str, Any]:
        """What ``restore`` needs, with the beer and air at the top for a reader."""
        return {"beer_c": self.beer_c, "air_c": self.air_c, **self.plant.state()}

    def restore(
        self,
        *,
        beer_c: float,
        air_c: float,
        elapsed_s: float,
        temps_c: list[float] | None = None,
        fermented: float = 0.0,
        cooling_w: float = 0.0,
    ) -> None:
        """Carry on from ``state()``. A state with only the beer and the air (format 1,
        from the old two-node model) puts the chamber's other parts at the air's
        temperature and the yeast at its start."""
        if temps_c is None:
            temps_c = [beer_c] + [air_c] * (len(self.plant.temps) - 1)
        self.plant.restore(temps_c, elapsed_s=elapsed_s, fermented=fermented, cooling_w=cooling_w)
