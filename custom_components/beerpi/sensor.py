"""Sensors: a temperature per probe, and the fermentation profile's progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfTemperature, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BeerPiConfigEntry, BeerPiCoordinator
from .entity import BeerPiEntity
from .protocol.models import ProfileProgress

# Pushes arrive for the whole device at once; nothing here polls.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class BeerPiProfileSensorEntityDescription(SensorEntityDescription):
    value_fn: Callable[[ProfileProgress], float | None]


PROFILE_SENSORS: tuple[BeerPiProfileSensorEntityDescription, ...] = (
    BeerPiProfileSensorEntityDescription(
        key="profile_step",
        translation_key="profile_step",
        # Humans count steps from 1; the protocol counts from 0.
        value_fn=lambda profile: None if profile.finished else profile.step + 1,
    ),
    BeerPiProfileSensorEntityDescription(
        key="profile_step_time_left",
        translation_key="profile_step_time_left",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        suggested_display_precision=1,
        value_fn=lambda profile: profile.step_time_left_s,
    ),
    BeerPiProfileSensorEntityDescription(
        key="profile_time_left",
        translation_key="profile_time_left",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        suggested_display_precision=1,
        value_fn=lambda profile: profile.total_time_left_s,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BeerPiConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    known: set[str] = set()

    @callback
    def add_new_probes() -> None:
        """Probes plugged in after setup show up in a later ``state``."""
        probes = [p for p in coordinator.probe_ids() if p not in known]
        known.update(probes)
        if probes:
            async_add_entities(BeerPiTemperatureSensor(coordinator, p) for p in probes)

    add_new_probes()
    entry.async_on_unload(coordinator.async_add_listener(add_new_probes))
    if coordinator.device.thermostat.probe is not None:
        async_add_entities(
            BeerPiProfileSensor(coordinator, description) for description in PROFILE_SENSORS
        )


class BeerPiTemperatureSensor(BeerPiEntity, SensorEntity):
    """Temperature of one probe; unknown while the probe is in fault."""

    _attr_translation_key = "probe_temperature"
    _attr_device_class = SensorDeviceClass.TEMPERATURE
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = UnitOfTemperature.CELSIUS
    _attr_suggested_display_precision = 1

    def __init__(self, coordinator: BeerPiCoordinator, probe_id: str) -> None:
        super().__init__(coordinator, f"temperature_{probe_id}")
        self._probe_id = probe_id
        self._attr_translation_placeholders = {"probe": coordinator.probe_name(probe_id)}

    @property
    def available(self) -> bool:
        return super().available and self._probe_id in self.coordinator.data.probes

    @property
    def native_value(self) -> float | None:
        return self.coordinator.data.probes[self._probe_id].temperature


class BeerPiProfileSensor(BeerPiEntity, SensorEntity):
    """Progress of the running fermentation profile; unknown when none runs."""

    entity_description: BeerPiProfileSensorEntityDescription

    def __init__(
        self,
        coordinator: BeerPiCoordinator,
        description: BeerPiProfileSensorEntityDescription,
    ) -> None:
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> float | None:
        profile = self.coordinator.data.thermostat.profile
        return None if profile is None else self.entity_description.value_fn(profile)
