"""A fermenter plant built from physics, for benchmarks, tests and demos.

``Plant(PlantSetup(...), beer_c=...)`` is a fermenter in a fridge or freezer:
beer and vessel, chamber air, inner liner, evaporator and heater element, a
compressor with start-up lag, probes with lag and DS18B20 quantisation, a
room with a daily swing and yeast whose heat follows the extract it ferments.
The parts come sized from geometry and materials (parts.py, docs/control.md).
"""

from .model import Plant, PlantSetup
from .parts import (
    ALE,
    COLD_ROOM,
    FREE_AIR,
    HOT_ROOM,
    LAGER,
    MILD_ROOM,
    TAPED,
    THERMOWELL,
    Fridge,
    Heater,
    ProbeMount,
    Room,
    Vessel,
    Wort,
    Yeast,
    bar_fridge,
    bucket,
    chest_freezer,
    conical,
    dead,
    glass_carboy,
    heat_belt,
    tube_heater,
)

__all__ = [
    "ALE",
    "COLD_ROOM",
    "FREE_AIR",
    "HOT_ROOM",
    "LAGER",
    "MILD_ROOM",
    "TAPED",
    "THERMOWELL",
    "Fridge",
    "Heater",
    "Plant",
    "PlantSetup",
    "ProbeMount",
    "Room",
    "Vessel",
    "Wort",
    "Yeast",
    "bar_fridge",
    "bucket",
    "chest_freezer",
    "conical",
    "dead",
    "glass_carboy",
    "heat_belt",
    "tube_heater",
]
