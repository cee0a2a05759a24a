"""Climate: the daemon's on-Pi thermostat (it keeps running when HA is away)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.climate import (
    ATTR_HVAC_MODE,
    ClimateEntity,
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.const import ATTR_TEMPERATURE, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BeerPiConfigEntry, BeerPiCoordinator
from .entity import BeerPiEntity
from .helpers import call_daemon
from .protocol.const import ThermostatAction, ThermostatMode

# The daemon serialises its commands; one at a time keeps errors attributable.
PARALLEL_UPDATES = 1

_HVAC_MODES: dict[ThermostatMode, HVACMode] = {
    ThermostatMode.OFF: HVACMode.OFF,
    ThermostatMode.HEAT: HVACMode.HEAT,
    ThermostatMode.COOL: HVACMode.COOL,
    ThermostatMode.HEAT_COOL: HVACMode.HEAT_COOL,
}
_THERMOSTAT_MODES = {hvac: mode for mode, hvac in _HVAC_MODES.items()}
# Resting relays (minimum off time) and a fault both hold the relays off.
_HVAC_ACTIONS: dict[ThermostatAction, HVACAction] = {
    ThermostatAction.OFF: HVACAction.OFF,
    ThermostatAction.IDLE: HVACAction.IDLE,
    ThermostatAction.HEATING: HVACAction.HEATING,
    ThermostatAction.COOLING: HVACAction.COOLING,
    ThermostatAction.WAITING: HVACAction.IDLE,
    ThermostatAction.FAULT: HVACAction.IDLE,
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BeerPiConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    if coordinator.device.thermostat.probe is not None:
        async_add_entities([BeerPiThermostat(coordinator)])


class BeerPiThermostat(BeerPiEntity, ClimateEntity):
    """Target, mode and action of the thermostat; the current temperature is its probe's."""

    _attr_translation_key = "thermostat"
    _attr_name = None
    _attr_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_target_temperature_step = 0.1
    _attr_precision = 0.1
    _attr_supported_features = (
        ClimateEntityFeature.TARGET_TEMPERATURE
        | ClimateEntityFeature.TURN_ON
        | ClimateEntityFeature.TURN_OFF
    )

    def __init__(self, coordinator: BeerPiCoordinator) -> None:
        super().__init__(coordinator, "thermostat")
        info = coordinator.device.thermostat
        self._probe_id = info.probe
        self._attr_min_temp = info.min_target
        self._attr_max_temp = info.max_target
        # Only the modes its relays can carry out.
        modes = [HVACMode.OFF]
        if info.heater is not None:
            modes.append(HVACMode.HEAT)
        if info.cooler is not None:
            modes.append(HVACMode.COOL)
        if info.heater is not None and info.cooler is not None:
            modes.append(HVACMode.HEAT_COOL)
        self._attr_hvac_modes = modes

    @property
    def current_temperature(self) -> float | None:
        probe = self.coordinator.data.probes.get(self._probe_id or "")
        return None if probe is None else probe.temperature

    @property
    def target_temperature(self) -> float | None:
        return self.coordinator.data.thermostat.target

    @property
    def hvac_mode(self) -> HVACMode | None:
        mode = self.coordinator.data.thermostat.mode
        return None if mode is None else _HVAC_MODES[mode]

    @property
    def hvac_action(self) -> HVACAction | None:
        action = self.coordinator.data.thermostat.action
        return None if action is None else _HVAC_ACTIONS[action]

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        mode = _THERMOSTAT_MODES[hvac_mode].value
        await call_daemon(self.coordinator.client.set_thermostat(mode=mode))

    async def async_set_temperature(self, **kwargs: Any) -> None:
        hvac_mode: HVACMode | None = kwargs.get(ATTR_HVAC_MODE)
        mode = None if hvac_mode is None else _THERMOSTAT_MODES[hvac_mode].value
        target: float | None = kwargs.get(ATTR_TEMPERATURE)
        await call_daemon(self.coordinator.client.set_thermostat(mode=mode, target=target))
