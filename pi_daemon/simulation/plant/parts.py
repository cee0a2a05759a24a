"""The parts of a fermentation chamber, each sized from its geometry and materials.

A part holds the lumped numbers the model integrates (heat capacities in J/K,
conductances in W/K, powers in W); the preset functions say where each number
comes from, and docs/control.md walks through them with sources.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import physics as ph


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class Vessel:
    """The fermenter with its beer; the wall is lumped with the beer (it is thin)."""

    name: str
    litres: float
    wall_j_k: float
    # Outside area wetted by the beer on the inside: where the beer's heat leaves.
    wetted_m2: float
    emissivity: float

    def __post_init__(self) -> None:
        _check(self.litres > 0 and self.wetted_m2 > 0, f"{self.name}: size must be positive")

    @property
    def beer_j_k(self) -> float:
        return self.litres * ph.WORT_KG_PER_L * ph.WORT_J_PER_KG_K + self.wall_j_k


def _cylinder_wetted_m2(litres: float, diameter_m: float) -> float:
    """Side and bottom of a cylinder of ``diameter_m`` filled with ``litres``."""
    base_m2 = math.pi * diameter_m**2 / 4
    height_m = litres / 1000 / base_m2
    return math.pi * diameter_m * height_m + base_m2


def glass_carboy(litres: float = 5.0) -> Vessel:
    """A glass demijohn/carboy: 5 L in a 0.19 m demijohn (2.3 kg of glass), or 20 L in
    a 23 L carboy of 0.29 m (7 kg)."""
    diameter_m, glass_kg = (0.19, 2.3) if litres <= 10 else (0.29, 7.0)
    return Vessel(
        name=f"glass carboy {litres:g} L",
        litres=litres,
        wall_j_k=glass_kg * ph.GLASS_J_PER_KG_K,
        wetted_m2=_cylinder_wetted_m2(litres, diameter_m),
        emissivity=ph.EMISSIVITY_GLASS,
    )


def bucket(litres: float = 20.0) -> Vessel:
    """A 30 L HDPE fermenting bucket (0.32 m across, 1.1 kg)."""
    return Vessel(
        name=f"plastic bucket {litres:g} L",
        litres=litres,
        wall_j_k=1.1 * ph.HDPE_J_PER_KG_K,
        wetted_m2=_cylinder_wetted_m2(litres, 0.32),
        emissivity=ph.EMISSIVITY_PLASTIC,
    )


def conical(litres: float = 50.0) -> Vessel:
    """A 55 L stainless conical: 0.40 m cylinder on a 0.30 m cone, 14 kg of 304 steel."""
    radius_m, cone_h_m = 0.20, 0.30
    cone_l = math.pi * radius_m**2 * cone_h_m / 3 * 1000
    cone_m2 = math.pi * radius_m * math.hypot(radius_m, cone_h_m)
    side_h_m = max(0.0, litres - cone_l) / 1000 / (math.pi * radius_m**2)
    return Vessel(
        name=f"stainless conical {litres:g} L",
        litres=litres,
        wall_j_k=14.0 * ph.STAINLESS_J_PER_KG_K,
        wetted_m2=cone_m2 + 2 * math.pi * radius_m * side_h_m,
        emissivity=ph.EMISSIVITY_STAINLESS,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Fridge:
    """A fridge or chest freezer as a chamber: air, inner liner and evaporator nodes.

    The liner is the inner wall (plastic or steel, with the foam just behind it);
    the insulation joins it to the room. The compressor pumps heat out of the
    evaporator; its capacity rises with the evaporating temperature, and it
    takes ``start_lag_s`` to come up to capacity after a start (and
    ``stop_lag_s`` to die away after a stop: refrigerant still boiling).
    """

    name: str
    air_j_k: float
    liner_j_k: float
    liner_m2: float
    insulation_w_k: float
    leak_w_k: float
    evaporator_j_k: float
    evaporator_air_w_k: float
    evaporator_liner_w_k: float
    cooling_w: float
    cooling_ref_c: float = -10.0
    cooling_per_k: float = 0.03
    start_lag_s: float = 90.0
    stop_lag_s: float = 45.0
    fan_w: float = 0.0  # a circulation fan: its heat, and forced convection inside

    @property
    def h_inside(self) -> float:
        return ph.H_FAN_AIR_W_M2_K if self.fan_w > 0 else ph.H_STILL_AIR_W_M2_K

    @property
    def air_liner_w_k(self) -> float:
        return self.h_inside * self.liner_m2

    def capacity_w(self, evaporator_c: float) -> float:
        """Cooling at this evaporating temperature (a linear fit to rating tables)."""
        factor = 1.0 + self.cooling_per_k * (evaporator_c - self.cooling_ref_c)
        return self.cooling_w * min(1.8, max(0.3, factor))


def _box_m2(width_m: float, depth_m: float, height_m: float) -> float:
    return 2 * (width_m * depth_m + width_m * height_m + depth_m * height_m)


def bar_fridge(*, fan: bool = False) -> Fridge:
    """A weak chamber: an 84 L mini bar fridge (0.42 x 0.40 x 0.50 m inside), HIPS
    liner, 25 mm of foam, a small plate evaporator in the air, 45 W of cooling at -10 °C."""
    inner_m2 = _box_m2(0.42, 0.40, 0.50)
    outer_m2 = _box_m2(0.47, 0.45, 0.55)
    mean_m2 = math.sqrt(inner_m2 * outer_m2)
    liner_kg = inner_m2 * 0.002 * ph.HIPS_KG_PER_M3
    foam_j_k = inner_m2 * 0.01 * 35.0 * 1500.0  # the first centimetre of foam follows the liner
    return Fridge(
        name="weak mini fridge (45 W)" + (" + fan" if fan else ""),
        # The air left around a fermenter (~0.05 m3) and the shelves and door bins.
        air_j_k=0.05 * ph.AIR_KG_PER_M3 * ph.AIR_J_PER_KG_K + 250.0,
        liner_j_k=liner_kg * ph.HIPS_J_PER_KG_K + foam_j_k,
        liner_m2=inner_m2,
        insulation_w_k=ph.POLYURETHANE_FOAM_W_M_K / 0.025 * mean_m2,
        leak_w_k=0.4,
        # 0.35 kg of aluminium plate plus tubing and refrigerant.
        evaporator_j_k=0.35 * ph.ALUMINIUM_J_PER_KG_K + 150.0,
        evaporator_air_w_k=3.0,
        evaporator_liner_w_k=0.0,
        cooling_w=45.0,
        fan_w=1.5 if fan else 0.0,
    )


def chest_freezer(*, fan: bool = False) -> Fridge:
    """A strong chamber: a 220 L chest freezer (0.90 x 0.45 x 0.55 m inside), steel
    liner with the evaporator tubes bonded behind it (a cold wall), 60 mm of foam,
    180 W of cooling at -10 °C."""
    inner_m2 = _box_m2(0.90, 0.45, 0.55)
    outer_m2 = _box_m2(1.02, 0.57, 0.67)
    mean_m2 = math.sqrt(inner_m2 * outer_m2)
    liner_kg = inner_m2 * 0.0005 * ph.STEEL_KG_PER_M3
    foam_j_k = inner_m2 * 0.01 * 35.0 * 1500.0
    return Fridge(
        name="strong chest freezer (180 W)" + (" + fan" if fan else ""),
        air_j_k=0.17 * ph.AIR_KG_PER_M3 * ph.AIR_J_PER_KG_K + 200.0,
        liner_j_k=liner_kg * ph.STEEL_J_PER_KG_K + foam_j_k,
        liner_m2=inner_m2,
        insulation_w_k=ph.POLYURETHANE_FOAM_W_M_K / 0.060 * mean_m2,
        leak_w_k=0.3,
        # 1.5 kg of copper/aluminium tubing and its refrigerant.
        evaporator_j_k=1.5 * ph.ALUMINIUM_J_PER_KG_K + 200.0,
        evaporator_air_w_k=0.5,
        evaporator_liner_w_k=25.0,
        cooling_w=180.0,
        fan_w=1.5 if fan else 0.0,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Heater:
    """A heating element with its own heat capacity, joined to the beer, air and walls."""

    name: str
    power_w: float
    element_j_k: float
    to_beer_w_k: float
    to_air_w_k: float
    to_liner_w_k: float
    works: bool = True  # a dead heater: the relay clicks, nothing warms


def heat_belt(power_w: float = 25.0) -> Heater:
    """A brew belt (25 W, 5 x 80 cm) or a heat wrap (100 W, ~0.12 m2) around the vessel.

    Its inside presses on the wall: ~100 W/(m2 K) through 3 mm of plastic and the
    beer's film; its outside loses to the air by convection and radiation.
    """
    contact_m2 = 0.04 if power_w <= 40 else 0.12
    outside_h = ph.H_STILL_AIR_W_M2_K + ph.radiative_h(ph.EMISSIVITY_PLASTIC)
    return Heater(
        name=f"heat belt {power_w:g} W",
        power_w=power_w,
        element_j_k=contact_m2 * 5.0 * ph.RUBBER_J_PER_KG_K,  # ~5 kg/m2 of jacket
        to_beer_w_k=100.0 * contact_m2,
        to_air_w_k=ph.H_STILL_AIR_W_M2_K * contact_m2,
        to_liner_w_k=(outside_h - ph.H_STILL_AIR_W_M2_K) * contact_m2,
    )


def tube_heater(power_w: float = 60.0) -> Heater:
    """A greenhouse tube heater in the chamber air: 0.5 kg aluminium tube, 0.09 m2 of
    surface that runs ~60 K above the air (convection ~6, radiation ~5 W/(m2 K))."""
    return Heater(
        name=f"tube heater {power_w:g} W",
        power_w=power_w,
        element_j_k=0.5 * ph.ALUMINIUM_J_PER_KG_K + 100.0,
        to_beer_w_k=0.0,
        to_air_w_k=6.0 * 0.09,
        to_liner_w_k=5.0 * 0.09,
    )


def dead(heater: Heater) -> Heater:
    """The same heater, broken: a relay that clicks but delivers no power."""
    return Heater(
        name=f"{heater.name} (dead)",
        power_w=heater.power_w,
        element_j_k=heater.element_j_k,
        to_beer_w_k=heater.to_beer_w_k,
        to_air_w_k=heater.to_air_w_k,
        to_liner_w_k=heater.to_liner_w_k,
        works=False,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeMount:
    """Where a DS18B20 sits: how slowly it follows, and how much chamber air it feels."""

    name: str
    lag_s: float
    air_weight: float = 0.0
    noise_c: float = 0.02


# In a stainless thermowell in the beer: about a minute behind, no air.
THERMOWELL = ProbeMount(name="thermowell", lag_s=60.0)
# Taped to the vessel's side under a foam pad: the wall's lag and a little air.
TAPED = ProbeMount(name="taped to the fermenter", lag_s=600.0, air_weight=0.05)
# Hanging in the chamber air (a TO-92 or a sheathed probe in still air).
FREE_AIR = ProbeMount(name="free air", lag_s=150.0, air_weight=1.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Room:
    """The room around the chamber: a mean and a daily swing, coldest at ``coldest_h``."""

    name: str
    mean_c: float
    daily_swing_c: float
    coldest_h: float = 6.0

    def at(self, elapsed_s: float) -> float:
        hours = elapsed_s / 3600.0
        phase = 2 * math.pi * (hours - self.coldest_h) / 24.0
        return self.mean_c - self.daily_swing_c * math.cos(phase)


COLD_ROOM = Room(name="cold garage 10 ± 4 °C", mean_c=10.0, daily_swing_c=4.0)
MILD_ROOM = Room(name="room 20 ± 2 °C", mean_c=20.0, daily_swing_c=2.0)
HOT_ROOM = Room(name="hot summer room 28 ± 3 °C", mean_c=28.0, daily_swing_c=3.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Yeast:
    """How fast a strain ferments: the heat peaks ``peak_h`` after pitching at ``reference_c``.

    Extract is consumed autocatalytically (yeast grows on what it eats):
    dF/dt = k (F + seed) (1 - F), F the fraction fermented; the peak rate comes
    when F is about half, at t = ln(1/seed) / (k (1 + seed)). ``seed`` sets the
    lag phase. k doubles per 10 K (Q10).
    """

    name: str
    reference_c: float
    peak_h: float
    seed: float = 0.005

    @property
    def rate_per_s(self) -> float:
        return math.log(1 / self.seed) / ((1 + self.seed) * self.peak_h * 3600.0)

    def rate_at(self, beer_c: float) -> float:
        return self.rate_per_s * float(ph.YEAST_Q10 ** ((beer_c - self.reference_c) / 10.0))


ALE = Yeast(name="ale yeast", reference_c=19.0, peak_h=44.0)
LAGER = Yeast(name="lager yeast", reference_c=10.0, peak_h=68.0, seed=0.008)


@dataclass(frozen=True, slots=True, kw_only=True)
class Wort:
    """What there is to ferment: 12.4 °P (OG 1.050), 65 % of the extract fermentable
    (a real degree of fermentation of 65 %, i.e. ~80 % apparent attenuation)."""

    plato: float = 12.4
    fermentable: float = 0.65
    # Real over apparent attenuation: alcohol is lighter than water, so a hydrometer
    # sees more sugar gone than has gone (the usual 0.81, after Balling).
    real_per_apparent: float = 0.81

    def fermentable_kg(self, litres: float) -> float:
        return litres * ph.WORT_KG_PER_L * self.plato / 100.0 * self.fermentable

    @property
    def og(self) -> float:
        """Original gravity from °Plato (the ASBC polynomial's usual inverse)."""
        return 1.0 + self.plato / (258.6 - self.plato / 258.2 * 227.1)

    def sg_at(self, fermented: float) -> float:
        """What a hydrometer reads when ``fermented`` (0..1) of the fermentable extract is gone.

        The same fraction the yeast's heat comes from: heat released is in
        proportion to extract fermented, and so is the fall of the gravity, OG - SG.
        """
        apparent = self.fermentable / self.real_per_apparent
        return self.og - (self.og - 1.0) * apparent * min(1.0, max(0.0, fermented))
