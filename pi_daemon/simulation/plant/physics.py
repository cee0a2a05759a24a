"""Physical constants the fermenter plant is built from; docs/control.md gives the sources.

Every number here is a property of a material or a physical law, not a fit to
a controller: the parts in parts.py derive heat capacities and conductances
from them and from a vessel's or a fridge's size.
"""

from __future__ import annotations

# Specific heats, J/(kg K).
WORT_J_PER_KG_K = 4000.0  # 12 °P wort ~3.95, finished beer ~4.05 kJ/(kg K)
AIR_J_PER_KG_K = 1005.0
GLASS_J_PER_KG_K = 840.0  # soda-lime glass
HDPE_J_PER_KG_K = 1900.0  # a plastic fermenting bucket
STAINLESS_J_PER_KG_K = 500.0  # 304 stainless steel
STEEL_J_PER_KG_K = 490.0  # a chest freezer's inner liner (painted steel)
ALUMINIUM_J_PER_KG_K = 900.0  # evaporator plates, tube heaters
HIPS_J_PER_KG_K = 1300.0  # high-impact polystyrene, a fridge's inner liner
RUBBER_J_PER_KG_K = 1400.0  # a brew belt's silicone/neoprene jacket

# Densities, kg/m^3 (wort in kg/L).
WORT_KG_PER_L = 1.03  # between OG 1.050 and FG 1.010
AIR_KG_PER_M3 = 1.2
HIPS_KG_PER_M3 = 1050.0
STEEL_KG_PER_M3 = 7850.0

# Heat transfer.
STEFAN_BOLTZMANN_W_M2_K4 = 5.670e-8
ROOM_K = 290.0  # radiation is linearised around 17 °C
# Natural convection from a vessel or a wall to still air at a few kelvin of
# difference (laminar, h = 1.42 (dT/L)^0.25 gives 2.2..3.1 for dT 2..8 K, L 0.3 m).
H_STILL_AIR_W_M2_K = 2.5
# With a small circulation fan moving the chamber air at about 1 m/s.
H_FAN_AIR_W_M2_K = 8.0
POLYURETHANE_FOAM_W_M_K = 0.025  # a fridge's or freezer's insulation

# Emissivities (long-wave).
EMISSIVITY_PLASTIC = 0.90
EMISSIVITY_GLASS = 0.92
EMISSIVITY_STAINLESS = 0.15  # brushed 304


def radiative_h(emissivity: float) -> float:
    """Linearised radiative coefficient to surrounding walls, W/(m^2 K): 4 e sigma T^3."""
    return 4.0 * emissivity * STEFAN_BOLTZMANN_W_M2_K4 * ROOM_K**3


# Fermentation: heat released per kg of extract fermented (140 kcal/kg, 252 BTU/lb),
# and how much faster yeast works per 10 K (Q10).
FERMENTATION_J_PER_KG_EXTRACT = 586e3
YEAST_Q10 = 2.0

# A DS18B20 at 12-bit resolution.
DS18B20_STEP_C = 1 / 16
