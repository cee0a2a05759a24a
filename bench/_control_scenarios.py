"""The scenario matrix: fermenters, chambers, heaters, probes, rooms and schedules.

Each set-up is built from the plant's physical parts (pi_daemon/simulation/plant,
derivations in docs/control.md); each schedule is what a brewer would run.
"""

from __future__ import annotations

from pi_daemon.simulation.plant import (
    ALE,
    COLD_ROOM,
    HOT_ROOM,
    LAGER,
    MILD_ROOM,
    TAPED,
    THERMOWELL,
    PlantSetup,
    bar_fridge,
    bucket,
    chest_freezer,
    conical,
    dead,
    glass_carboy,
    heat_belt,
    tube_heater,
)

from ._control_loop import Programme, Scenario, hold, ramp

# Ale: pitched at 20 °C, held at 19 °C through the fermentation (heat peaks on day
# 2), then raised 2 °C to finish (a step, judged for overshoot).
ALE_HOLD = Programme(20.0, (hold(19.0, 5), hold(21.0, 2)))
# Ale, then a cold crash to 2 °C.
ALE_CRASH = Programme(20.0, (hold(19.0, 4), hold(2.0, 3)))
# Lager: pitched at 12 °C, held at 10 °C (heat peaks on day 3), a diacetyl rest
# ramped to 16 °C over a day, held 2 days.
LAGER_DREST = Programme(12.0, (hold(10.0, 5), ramp(16.0, 24), hold(16.0, 2)))
# Lager held at 10 °C for a week.
LAGER_HOLD = Programme(12.0, (hold(10.0, 7),))


def _s(name: str, programme: Programme, note: str = "", **setup: object) -> Scenario:
    return Scenario(name, PlantSetup(**setup), programme, note)  # type: ignore[arg-type]


MATRIX: tuple[Scenario, ...] = (
    _s(
        "ale 20 L bucket, freezer, belt 25 W",
        ALE_HOLD,
        vessel=bucket(20),
        fridge=chest_freezer(),
        heater=heat_belt(25),
        room=MILD_ROOM,
        yeast=ALE,
    ),
    _s(
        "ale 20 L bucket, weak fridge, belt 25 W, hot room",
        ALE_HOLD,
        vessel=bucket(20),
        fridge=bar_fridge(),
        heater=heat_belt(25),
        room=HOT_ROOM,
        yeast=ALE,
    ),
    _s(
        "ale 5 L carboy, taped probe, belt 25 W, cold room",
        ALE_HOLD,
        vessel=glass_carboy(5),
        fridge=chest_freezer(),
        heater=heat_belt(25),
        beer_probe=TAPED,
        room=COLD_ROOM,
        yeast=ALE,
    ),
    _s(
        "ale 5 L carboy, weak fridge, belt 100 W",
        ALE_HOLD,
        vessel=glass_carboy(5),
        fridge=bar_fridge(),
        heater=heat_belt(100),
        room=MILD_ROOM,
        yeast=ALE,
    ),
    _s(
        "ale 50 L conical, freezer + fan, belt 100 W, hot room",
        ALE_HOLD,
        vessel=conical(50),
        fridge=chest_freezer(fan=True),
        heater=heat_belt(100),
        room=HOT_ROOM,
        yeast=ALE,
    ),
    _s(
        "ale 20 L bucket, freezer, tube heater, cold room",
        ALE_HOLD,
        vessel=bucket(20),
        fridge=chest_freezer(),
        heater=tube_heater(60),
        room=COLD_ROOM,
        yeast=ALE,
    ),
    _s(
        "lager 20 L bucket, freezer, tube heater, diacetyl rest",
        LAGER_DREST,
        vessel=bucket(20),
        fridge=chest_freezer(),
        heater=tube_heater(60),
        room=MILD_ROOM,
        yeast=LAGER,
    ),
    _s(
        "lager 20 L carboy, weak fridge, taped probe, belt 25 W",
        LAGER_HOLD,
        vessel=glass_carboy(20),
        fridge=bar_fridge(),
        heater=heat_belt(25),
        beer_probe=TAPED,
        room=MILD_ROOM,
        yeast=LAGER,
    ),
    _s(
        "lager 50 L conical, freezer + fan, tube heater, cold room, diacetyl rest",
        LAGER_DREST,
        vessel=conical(50),
        fridge=chest_freezer(fan=True),
        heater=tube_heater(60),
        room=COLD_ROOM,
        yeast=LAGER,
    ),
    _s(
        "lager 20 L bucket, freezer, no heater",
        LAGER_HOLD,
        vessel=bucket(20),
        fridge=chest_freezer(),
        heater=None,
        room=MILD_ROOM,
        yeast=LAGER,
    ),
    _s(
        "cold crash to 2 °C, 20 L bucket, freezer, tube heater",
        ALE_CRASH,
        vessel=bucket(20),
        fridge=chest_freezer(),
        heater=tube_heater(60),
        room=MILD_ROOM,
        yeast=ALE,
    ),
    _s(
        "cold crash to 2 °C, 20 L bucket, weak fridge, belt 25 W, hot room",
        ALE_CRASH,
        "the fridge cannot reach 2 °C in a 28 °C room",
        vessel=bucket(20),
        fridge=bar_fridge(),
        heater=heat_belt(25),
        room=HOT_ROOM,
        yeast=ALE,
    ),
    _s(
        "dead heater: 20 L bucket, freezer, belt 25 W broken, cold room",
        ALE_HOLD,
        "the heater's relay clicks but nothing warms: nothing can hold 19 °C",
        vessel=bucket(20),
        fridge=chest_freezer(),
        heater=dead(heat_belt(25)),
        beer_probe=THERMOWELL,
        room=COLD_ROOM,
        yeast=ALE,
    ),
)
