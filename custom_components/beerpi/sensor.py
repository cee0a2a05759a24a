"""Sensors: a temperature per probe, a gravity per hydrometer, the target in force, the
profile's progress, run times."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import Platform, UnitOfTemperature, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoredExtraData, RestoreEntity
from homeassistant.util import dt as dt_util

from .const import (
    DOMAIN,
    MAX_HYDROMETER_SENSORS,
    MAX_PROBE_SENSORS,
    TARGET_DECIMALS,
    TILT_COLOURS,
)
from .coordinator import BeerPiConfigEntry, BeerPiCoordinator
from .entity import BeerPiEntity
from .helpers import probe_celsius
from .protocol.const import ThermostatMode
from .protocol.models import HydrometerReading, ProfileProgress, State

# Pushes arrive for the whole device at once; nothing here polls.
PARALLEL_UPDATES = 0

# Run time is shown in hours to this many decimals (0.01 h = 36 s): finer would write
# a state every push while a relay runs.
RUN_TIME_DECIMALS = 2
# Sensors of earlier versions, replaced by the "ends at" timestamps (they changed on
# every push, about 86,000 recorder rows a day each).
RETIRED_KEYS = ("profile_step_time_left", "profile_time_left")


def running_profile(state: State) -> ProfileProgress | None:
    profile = state.thermostat.profile
    return None if profile is None or profile.finished else profile


def profile_ends_at(state: State, *, step_only: bool) -> datetime | None:
    """When the running step (or the whole profile) ends, on the daemon's clock; None while
    paused.

    As the daemon gives it (protocol 2.2). From an older daemon: from ``started_at`` and
    the step lengths, so the value is the same in every push; or (when a step may end on
    gravity) from the push's time plus the time left, to the minute.
    """
    profile = running_profile(state)
    # A paused profile has no end until it resumes.
    if profile is None or profile.paused:
        return None
    # A 2.2 daemon says when (from its plan: pauses and skips included, stable per push).
    given = profile.step_ends_at if step_only else profile.ends_at
    if given is not None and (ends := dt_util.parse_datetime(given)) is not None:
        return ends
    started = dt_util.parse_datetime(profile.started_at or "")
    # A step that may end on gravity has no fixed end: only the daemon's time left knows
    # what gravity already cut short.
    fixed = not any(step.ends_on_gravity for step in profile.steps)
    if started is not None and profile.steps and fixed:
        steps = profile.steps[: profile.step + 1] if step_only else profile.steps
        return started + timedelta(hours=sum(step.hours for step in steps))
    now = dt_util.parse_datetime(state.timestamp or "") or dt_util.utcnow()
    left = profile.step_time_left_s if step_only else profile.total_time_left_s
    return (now + timedelta(seconds=left)).replace(second=0, microsecond=0)


def tilt_colour(hydrometer_id: str) -> str | None:
    """The colour of a Tilt the daemon named as it does by default ("tilt-red"), else None.

    Exactly the daemon's form: ids are case-sensitive there, so "Tilt-Red" is another
    hydrometer (one a person named) and keeps its own name.
    """
    prefix, _, colour = hydrometer_id.partition("-")
    return colour if prefix == "tilt" and colour in TILT_COLOURS else None


def target_in_force(state: State) -> float | None:
    """The target the thermostat holds the beer at; none while it is off."""
    thermostat = state.thermostat
    if thermostat.target is None or thermostat.mode in (None, ThermostatMode.OFF):
        return None
    return round(thermostat.target, TARGET_DECIMALS)


@dataclass(frozen=True, kw_only=True)
class BeerPiSensorEntityDescription(SensorEntityDescription):
    value_fn: Callable[[State], float | datetime | None]


THERMOSTAT_SENSORS: tuple[BeerPiSensorEntityDescription, ...] = (
    BeerPiSensorEntityDescription(
        key="target",
        translation_key="target",
        device_class=SensorDeviceClass.TEMPERATURE,
        # Long-term statistics: graph the set-point against the beer.
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        value_fn=target_in_force,
    ),
    BeerPiSensorEntityDescription(
        key="profile_step",
        translation_key="profile_step",
        # Humans count steps from 1; the protocol counts from 0.
        value_fn=lambda state: None if (p := running_profile(state)) is None else p.step + 1,
    ),
    BeerPiSensorEntityDescription(
        key="profile_step_ends_at",
        translation_key="profile_step_ends_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda state: profile_ends_at(state, step_only=True),
    ),
    BeerPiSensorEntityDescription(
        key="profile_ends_at",
        translation_key="profile_ends_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda state: profile_ends_at(state, step_only=False),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BeerPiConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    registry = er.async_get(hass)
    for key in RETIRED_KEYS:
        unique_id = f"{coordinator.device_id}_{key}"
        if entity_id := registry.async_get_entity_id(Platform.SENSOR, DOMAIN, unique_id):
            registry.async_remove(entity_id)
    known: set[str] = set()

    @callback
    def add_new_probes() -> None:
        """Probes plugged in after setup show up in a later ``state``."""
        # At most MAX_PROBE_SENSORS in all: each becomes an entity for good.
        probes = [p for p in coordinator.probe_ids() if p not in known]
        probes = probes[: max(0, MAX_PROBE_SENSORS - len(known))]
        known.update(probes)
        if probes:
            async_add_entities(BeerPiTemperatureSensor(coordinator, p) for p in probes)

    add_new_probes()
    entry.async_on_unload(coordinator.async_add_listener(add_new_probes))
    known_hydrometers: set[str] = set()

    @callback
    def add_new_hydrometers() -> None:
        """A hydrometer appears in the state when it first reports (protocol 2.1)."""
        found = [h for h in coordinator.hydrometer_ids() if h not in known_hydrometers]
        found = found[: max(0, MAX_HYDROMETER_SENSORS - len(known_hydrometers))]
        known_hydrometers.update(found)
        if found:
            async_add_entities(BeerPiGravitySensor(coordinator, h) for h in found)

    add_new_hydrometers()
    entry.async_on_unload(coordinator.async_add_listener(add_new_hydrometers))
    if coordinator.device.thermostat.probe is not None:
        async_add_entities(
            BeerPiSensor(coordinator, description) for description in THERMOSTAT_SENSORS
        )
    async_add_entities(
        BeerPiRunTimeSensor(coordinator, relay.id, daily=daily)
        for relay in coordinator.device.relays
        for daily in (True, False)
    )


class BeerPiTemperatureSensor(BeerPiEntity, SensorEntity):
    """Temperature of one probe at its resolution; unknown while the probe is in fault."""

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
        return probe_celsius(self.coordinator.data.probes[self._probe_id].temperature)


class BeerPiGravitySensor(BeerPiEntity, SensorEntity):
    """Specific gravity of one hydrometer (a Tilt, an iSpindel), as the daemon last heard it.

    Home Assistant has no device class or unit for specific gravity (its own Tilt and
    RAPT integrations leave both unset): a unitless measurement, three decimals.
    """

    _attr_translation_key = "hydrometer_gravity"
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_suggested_display_precision = 3

    def __init__(self, coordinator: BeerPiCoordinator, hydrometer_id: str) -> None:
        # The unique id keeps the daemon's id: renaming must not orphan an entity.
        super().__init__(coordinator, f"gravity_{hydrometer_id}")
        self._hydrometer_id = hydrometer_id
        if (colour := tilt_colour(hydrometer_id)) is not None:
            # "Red Tilt gravity": a colour is a word to translate, not a value to insert.
            self._attr_translation_key = f"tilt_{colour}_gravity"
        else:
            # An iSpindel (or a Tilt given an id of its own) is named as its owner named it.
            self._attr_translation_placeholders = {"hydrometer": hydrometer_id}

    def _reading(self) -> HydrometerReading | None:
        return next(
            (h for h in self.coordinator.data.hydrometers if h.id == self._hydrometer_id), None
        )

    @property
    def available(self) -> bool:
        return super().available and self._reading() is not None

    @property
    def native_value(self) -> float | None:
        reading = self._reading()
        return None if reading is None else reading.sg


class BeerPiSensor(BeerPiEntity, SensorEntity):
    """A value of the thermostat's state: target in force, profile step and end times."""

    entity_description: BeerPiSensorEntityDescription

    def __init__(
        self,
        coordinator: BeerPiCoordinator,
        description: BeerPiSensorEntityDescription,
    ) -> None:
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> float | datetime | None:
        return self.entity_description.value_fn(self.coordinator.data)


class BeerPiRunTimeSensor(BeerPiEntity, SensorEntity, RestoreEntity):
    """How long a relay has been on, today or in total, from the pushed relay state.

    The daemon reports whether a relay is on, not for how long, so Home Assistant adds
    the time between consecutive pushes (on the daemon's clock, so a simulation run
    faster than real time counts its own hours) while the relay is on. Time while the
    link is down is not counted: nobody knows it. The counts survive a restart of Home
    Assistant; "today" starts again at local midnight.
    """

    _attr_device_class = SensorDeviceClass.DURATION
    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_native_unit_of_measurement = UnitOfTime.HOURS
    _attr_suggested_display_precision = 1

    def __init__(self, coordinator: BeerPiCoordinator, relay_id: str, *, daily: bool) -> None:
        key = "run_time_today" if daily else "run_time"
        super().__init__(coordinator, f"{relay_id}_{key}")
        self._attr_translation_key = key
        self._attr_translation_placeholders = {"relay": coordinator.relay_name(relay_id)}
        self._relay_id = relay_id
        self._daily = daily
        self._seconds = 0.0
        self._day: date | None = None
        # The daemon time of the last push that found the relay on (None: off, or unknown).
        self._on_at: datetime | None = None
        # The last snapshot before the link dropped, until another one comes.
        self._down_state: State | None = None

    async def async_added_to_hass(self) -> None:
        extra = await self.async_get_last_extra_data()
        stored: dict[str, Any] = {} if extra is None else extra.as_dict()
        seconds = stored.get("seconds")
        day = stored.get("day")
        if isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0:
            self._seconds = float(seconds)
            self._day = _parse_day(day)
        self._count()
        await super().async_added_to_hass()

    @property
    def extra_restore_state_data(self) -> RestoredExtraData:
        day = None if self._day is None else self._day.isoformat()
        return RestoredExtraData({"seconds": self._seconds, "day": day})

    @property
    def native_value(self) -> float:
        return round(self._seconds / 3600, RUN_TIME_DECIMALS)

    @callback
    def _count(self) -> None:
        """Add the time since the last push if the relay was on, and note whether it is now."""
        state = self.coordinator.data
        now = dt_util.parse_datetime(state.timestamp or "")
        if now is None:
            return
        if not self.coordinator.link_up:
            # Nobody knows what runs while the link is down: not counted.
            self._on_at = None
            self._down_state = state
            return
        if state is self._down_state:
            # The snapshot from before the drop, shown again as the link comes back (before
            # the daemon's new one): counting from its time would add the outage. Not its
            # time compared: a Pi without a clock may come back with an earlier one.
            return
        self._down_state = None
        since = self._on_at
        if self._daily:
            today = dt_util.as_local(now).date()
            if today != self._day:
                # A new day: what ran before local midnight belonged to the day before.
                self._seconds = 0.0
                midnight = dt_util.start_of_local_day(today)
                since = None if since is None else max(since, midnight)
            self._day = today
        if since is not None and now > since:
            self._seconds += (now - since).total_seconds()
        relay = state.relays.get(self._relay_id)
        self._on_at = now if relay is not None and relay.on else None

    @callback
    def _handle_coordinator_update(self) -> None:
        self._count()
        super()._handle_coordinator_update()


def _parse_day(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
