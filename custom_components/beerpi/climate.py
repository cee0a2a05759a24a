"""Climate: the daemon's on-Pi thermostat (it keeps running when HA is away)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.climate import (
    ATTR_HVAC_MODE,
    ClimateEntity,
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.components.climate import DOMAIN as CLIMATE_DOMAIN
from homeassistant.const import ATTR_TEMPERATURE, UnitOfTemperature
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoredExtraData, RestoreEntity
from homeassistant.util.unit_conversion import TemperatureConverter

from .const import DOMAIN, TARGET_DECIMALS
from .coordinator import BeerPiConfigEntry, BeerPiCoordinator
from .entity import BeerPiEntity
from .helpers import call_daemon, probe_celsius, range_in_unit, runnable_modes
from .protocol.const import ThermostatAction, ThermostatMode
from .protocol.models import ProfileProgress

# The daemon serialises its commands; one at a time keeps errors attributable.
PARALLEL_UPDATES = 1

# Who sets the target: a running fermentation profile, or the user.
PRESET_PROFILE = "profile"
PRESET_MANUAL = "manual"
ATTR_THERMOSTAT_ACTION = "thermostat_action"
ATTR_REASON = "reason"
ATTR_PROFILE = "profile"
ATTR_LAST_ON_MODE = "last_on_mode"

_HVAC_MODES: dict[ThermostatMode, HVACMode] = {
    ThermostatMode.OFF: HVACMode.OFF,
    ThermostatMode.HEAT: HVACMode.HEAT,
    ThermostatMode.COOL: HVACMode.COOL,
    ThermostatMode.HEAT_COOL: HVACMode.HEAT_COOL,
}
_THERMOSTAT_MODES = {hvac: mode for mode, hvac in _HVAC_MODES.items()}
# Home Assistant has no action for "a relay is wanted but resting" nor for "a fault holds
# the relays off": both are idle there (nothing runs); ``thermostat_action`` tells them apart.
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


def running_profile(profile: ProfileProgress | None) -> ProfileProgress | None:
    """The profile that sets the target now (a finished one no longer does)."""
    return None if profile is None or profile.finished else profile


class BeerPiThermostat(BeerPiEntity, ClimateEntity, RestoreEntity):
    """Target, mode and action of the thermostat; the current temperature is its probe's."""

    _attr_translation_key = "thermostat"
    _attr_target_temperature_step = 0.1
    _attr_precision = 0.1
    _attr_supported_features = (
        ClimateEntityFeature.TARGET_TEMPERATURE
        | ClimateEntityFeature.PRESET_MODE
        | ClimateEntityFeature.TURN_ON
        | ClimateEntityFeature.TURN_OFF
    )
    # The daemon's explanation changes with every reading; the recorder keeps the action.
    _unrecorded_attributes = frozenset({ATTR_REASON})

    def __init__(self, coordinator: BeerPiCoordinator) -> None:
        super().__init__(coordinator, "thermostat")
        info = coordinator.device.thermostat
        self._probe_id = info.probe
        self._range_c = (info.min_target, info.max_target)
        # Only the modes its relays can carry out.
        modes = [_HVAC_MODES[mode] for mode in runnable_modes(info)]
        self._attr_hvac_modes = modes
        self._attr_preset_modes = [PRESET_PROFILE, PRESET_MANUAL]
        # What turn_on goes back to; the widest mode until the daemon has run in one.
        self._last_on_mode = modes[-1]

    async def async_added_to_hass(self) -> None:
        extra = await self.async_get_last_extra_data()
        last = None if extra is None else extra.as_dict().get(ATTR_LAST_ON_MODE)
        if last in self._attr_hvac_modes and last != HVACMode.OFF:
            self._last_on_mode = HVACMode(last)
        self._remember_on_mode()
        await super().async_added_to_hass()

    @property
    def extra_restore_state_data(self) -> RestoredExtraData:
        return RestoredExtraData({ATTR_LAST_ON_MODE: self._last_on_mode.value})

    def _remember_on_mode(self) -> None:
        mode = self.hvac_mode
        if mode is not None and mode != HVACMode.OFF:
            self._last_on_mode = mode

    @callback
    def _handle_coordinator_update(self) -> None:
        self._remember_on_mode()
        super()._handle_coordinator_update()

    # The daemon works in °C; the entity speaks Home Assistant's unit. Home Assistant checks
    # a new target against min_temp and max_temp before the entity sees it, and says the
    # range in the entity's unit: in °C, a °F home typing 100 was told "37.77777777777778
    # ... -2.0 to 35.0". Converted here, it reads "100.0 ... 28.4 to 95.0".
    @property
    def temperature_unit(self) -> str:
        return self.hass.config.units.temperature_unit

    def _from_celsius(self, value: float | None) -> float | None:
        if value is None:
            return None
        return TemperatureConverter.convert(value, UnitOfTemperature.CELSIUS, self.temperature_unit)

    @property
    def min_temp(self) -> float:
        return range_in_unit(*self._range_c, self.temperature_unit)[0]

    @property
    def max_temp(self) -> float:
        return range_in_unit(*self._range_c, self.temperature_unit)[1]

    @property
    def current_temperature(self) -> float | None:
        probe = self.coordinator.data.probes.get(self._probe_id or "")
        return None if probe is None else self._from_celsius(probe_celsius(probe.temperature))

    @property
    def target_temperature(self) -> float | None:
        target = self.coordinator.data.thermostat.target
        return None if target is None else self._from_celsius(round(target, TARGET_DECIMALS))

    @property
    def hvac_mode(self) -> HVACMode | None:
        mode = self.coordinator.data.thermostat.mode
        return None if mode is None else _HVAC_MODES[mode]

    @property
    def hvac_action(self) -> HVACAction | None:
        action = self.coordinator.data.thermostat.action
        return None if action is None else _HVAC_ACTIONS[action]

    @property
    def preset_mode(self) -> str:
        profile = running_profile(self.coordinator.data.thermostat.profile)
        return PRESET_MANUAL if profile is None else PRESET_PROFILE

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        thermostat = self.coordinator.data.thermostat
        profile = running_profile(thermostat.profile)
        return {
            ATTR_THERMOSTAT_ACTION: None if thermostat.action is None else thermostat.action.value,
            ATTR_REASON: thermostat.reason,
            ATTR_PROFILE: None if profile is None else profile.name,
        }

    def _compared_attributes(self) -> Mapping[str, Any]:
        # The reason alone changes with every reading (it quotes temperatures): it is
        # refreshed whenever anything else the entity shows changes.
        return {k: v for k, v in self.extra_state_attributes.items() if k != ATTR_REASON}

    def _check_runnable(self, hvac_mode: HVACMode) -> None:
        if hvac_mode not in self.hvac_modes:
            # Home Assistant checks set_hvac_mode's mode, not set_temperature's: the same
            # refusal here (a fermenter with one relay lacks modes), before the target is sent.
            raise ServiceValidationError(
                translation_domain=CLIMATE_DOMAIN,
                translation_key="not_valid_hvac_mode",
                translation_placeholders={"mode": hvac_mode, "modes": ", ".join(self.hvac_modes)},
            )

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        self._check_runnable(hvac_mode)  # older Home Assistant (2025.4) does not check it
        mode = _THERMOSTAT_MODES[hvac_mode].value
        await call_daemon(self.coordinator.client.set_thermostat(mode=mode))

    async def async_turn_on(self) -> None:
        """Back to the mode it ran in last (heat_cool if it never ran)."""
        await self.async_set_hvac_mode(self._last_on_mode)

    async def async_set_temperature(self, **kwargs: Any) -> None:
        hvac_mode: HVACMode | None = kwargs.get(ATTR_HVAC_MODE)
        if hvac_mode is not None:
            self._check_runnable(hvac_mode)
        mode = None if hvac_mode is None else _THERMOSTAT_MODES[hvac_mode].value
        target: float | None = kwargs.get(ATTR_TEMPERATURE)
        if target is not None:
            profile = running_profile(self.coordinator.data.thermostat.profile)
            if profile is not None:
                # The daemon would drop a weeks-long profile for this one target: ask first.
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="profile_running",
                    translation_placeholders={"profile": profile.name},
                )
            celsius = TemperatureConverter.convert(
                target, self.temperature_unit, UnitOfTemperature.CELSIUS
            )
            target = round(celsius, TARGET_DECIMALS)
        await call_daemon(self.coordinator.client.set_thermostat(mode=mode, target=target))

    async def async_set_preset_mode(self, preset_mode: str) -> None:
        """Manual stops the running profile; a profile is started with beerpi.set_profile."""
        if preset_mode == self.preset_mode:
            return
        if preset_mode == PRESET_MANUAL:
            await call_daemon(self.coordinator.client.set_thermostat(clear_profile=True))
            return
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_profile_running"
        )
