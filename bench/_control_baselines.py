"""The thermostats a brewer would otherwise use, as controllers for the closed loop.

Each one sees what BeerPi sees (the same DS18B20 readings every 10 s) and its
wishes go through the same relay guard as BeerPi's (bench/_control_loop.py).

- ``Inkbird``: an ITC-308-style controller on the beer probe, per its manual:
  cooling on at TS + CD, off at TS; heating on at TS - HD, off at TS;
  the cooling output waits the compressor delay PT after it last stopped.
- ``GenericThermostat``: Home Assistant's ``generic_thermostat`` (read in
  home-assistant/core, homeassistant/components/generic_thermostat/climate.py):
  one entity per switch, so a brewer runs two on the beer sensor, a heater and
  an ``ac_mode`` cooler, both set to the target. A switch turns on when
  ``target > cur + cold_tolerance`` (heater) or ``target < cur - hot_tolerance``
  (cooler) and off at the opposite tolerance, after ``min_cycle_duration``
  since it last toggled; both tolerances default to 0.3.
- ``Hysteresis``: BeerPi's old baseline, kept for comparison and named for
  what it is: ±0.5 °C around the target with no dead band and no stop at the
  target (heat until target + 0.5, cool until target - 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Inputs:
    now_s: float
    target_c: float
    beer_c: float  # the beer probe's reading
    chamber_c: float  # the chamber probe's reading
    heating: bool  # the relays as they are now
    cooling: bool


class Inkbird:
    name = "Inkbird ITC-308 (±0.5 °C)"

    def __init__(
        self, *, heat_diff_c: float = 0.5, cool_diff_c: float = 0.5, delay_s: float = 180.0
    ):
        self.heat_diff_c = heat_diff_c
        self.cool_diff_c = cool_diff_c
        self.delay_s = delay_s
        self._cool_stopped_s = 0.0  # power-up counts as a stop: the delay applies at start

    def __call__(self, i: Inputs) -> tuple[bool, bool]:
        ts = i.target_c
        if i.cooling:
            cool = i.beer_c > ts
            if not cool:
                self._cool_stopped_s = i.now_s
        else:
            cool = i.beer_c >= ts + self.cool_diff_c and i.now_s - self._cool_stopped_s >= (
                self.delay_s
            )
        heat = i.beer_c < ts if i.heating else i.beer_c <= ts - self.heat_diff_c
        return heat and not cool, cool


class GenericThermostat:
    name = "Home Assistant generic_thermostat ×2 (±0.3 °C)"

    def __init__(
        self,
        *,
        cold_tolerance_c: float = 0.3,
        hot_tolerance_c: float = 0.3,
        min_cycle_s: float = 0.0,
    ) -> None:
        self.cold = cold_tolerance_c
        self.hot = hot_tolerance_c
        self.min_cycle_s = min_cycle_s
        self._toggled_s = {"heater": -1e12, "cooler": -1e12}
        self._was = {"heater": False, "cooler": False}

    def _entity(self, rid: str, on: bool, i: Inputs, ac_mode: bool) -> bool:
        if on != self._was[rid]:
            self._toggled_s[rid] = i.now_s  # _async_switch_changed: the switch toggled
            self._was[rid] = on
        too_cold = i.target_c > i.beer_c + self.cold
        too_hot = i.target_c < i.beer_c - self.hot
        if on:
            stop = too_cold if ac_mode else too_hot
            return not (stop and i.now_s - self._toggled_s[rid] >= self.min_cycle_s)
        return too_hot if ac_mode else too_cold

    def __call__(self, i: Inputs) -> tuple[bool, bool]:
        heat = self._entity("heater", i.heating, i, ac_mode=False)
        cool = self._entity("cooler", i.cooling, i, ac_mode=True)
        return heat, cool


class Hysteresis:
    name = "old bench baseline: ±0.5 °C, no dead band"

    def __call__(self, i: Inputs) -> tuple[bool, bool]:
        band = 0.5
        heat = i.beer_c < i.target_c + band if i.heating else i.beer_c <= i.target_c - band
        cool = i.beer_c > i.target_c - band if i.cooling else i.beer_c >= i.target_c + band
        return heat and not cool, cool
