"""Actions: run, pause, resume, skip a step of and stop a fermentation profile."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import UnitOfTemperature
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.unit_conversion import TemperatureConverter

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DAYS,
    ATTR_HOURS,
    ATTR_KIND,
    ATTR_MODE,
    ATTR_NAME,
    ATTR_STEP,
    ATTR_STEPS,
    ATTR_TARGET,
    DOMAIN,
    SERVICE_CLEAR_PROFILE,
    SERVICE_PAUSE_PROFILE,
    SERVICE_RESUME_PROFILE,
    SERVICE_SET_PROFILE,
    SERVICE_SKIP_STEP,
    TARGET_DECIMALS,
)
from .coordinator import BeerPiCoordinator
from .helpers import call_daemon, range_placeholders, runnable_modes, shown
from .protocol.const import ThermostatMode
from .protocol.requests import MAX_PROFILE_STEPS
from .validation import vol

_DURATION = vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False))
# A step lasts ``hours`` or ``days``, as in docs/protocol.md.
_STEP_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required(ATTR_KIND): vol.In(["hold", "ramp"]),
            vol.Required(ATTR_TARGET): vol.Coerce(float),
            vol.Exclusive(ATTR_HOURS, "duration"): _DURATION,
            vol.Exclusive(ATTR_DAYS, "duration"): _DURATION,
            # A hold that ends on gravity (protocol 2.1; the daemon checks the ranges).
            vol.Optional("until_sg"): vol.Coerce(float),
            vol.Optional("stable_within"): vol.Coerce(float),
            vol.Optional("stable_hours"): vol.Coerce(float),
            vol.Optional("hydrometer"): cv.string,
        }
    ),
    cv.has_at_least_one_key(ATTR_HOURS, ATTR_DAYS),
)
SET_PROFILE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_NAME): cv.string,
        vol.Required(ATTR_STEPS): vol.All(cv.ensure_list, [_STEP_SCHEMA], vol.Length(min=1)),
        vol.Optional(ATTR_MODE): vol.In([mode.value for mode in ThermostatMode]),
    }
)
CLEAR_PROFILE_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
# -- pause, resume, skip (protocol 2.2) --
PAUSE_RESUME_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
SKIP_STEP_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        # Counted from 1, as the profile step sensor shows it.
        vol.Optional(ATTR_STEP): vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_PROFILE_STEPS)),
    }
)


# The daemon counts a profile's steps from 0 ("steps[1].until_sg must be ..."); the
# action, its own refusals, skip_step and the profile step sensor count them from 1.
PROFILE_FIELDS = {"steps[]": "step"}


def _coordinator(call: ServiceCall) -> BeerPiCoordinator:
    """The loaded BeerPi entry an action names."""
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
    entry = call.hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED and entry.reason:
        # Its set-up failed (the Pi out of reach when Home Assistant started, a refused
        # token): say so, rather than only "not loaded".
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_set_up",
            translation_placeholders={"title": entry.title, "reason": entry.reason},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    coordinator: BeerPiCoordinator = entry.runtime_data
    return coordinator


def _celsius_step(
    coordinator: BeerPiCoordinator, index: int, step: dict[str, Any], unit: str
) -> dict[str, Any]:
    """A step with its target from Home Assistant's unit system to the daemon's °C.

    A target outside the daemon's range is refused here, in the unit it was given in:
    the daemon's own refusal says its range in °C.
    """
    given: float = step[ATTR_TARGET]
    target = round(
        TemperatureConverter.convert(given, unit, UnitOfTemperature.CELSIUS), TARGET_DECIMALS
    )
    info = coordinator.device.thermostat
    if not info.min_target <= target <= info.max_target:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="step_target_out_of_range",
            translation_placeholders={
                "step": str(index + 1),
                "target": shown(given),
                **range_placeholders(info.min_target, info.max_target, unit),
            },
        )
    return {**step, ATTR_TARGET: target}


async def _async_set_profile(call: ServiceCall) -> None:
    coordinator = _coordinator(call)
    unit = call.hass.config.units.temperature_unit
    steps = call.data[ATTR_STEPS]
    profile: dict[str, Any] = {
        "steps": [_celsius_step(coordinator, i, dict(step), unit) for i, step in enumerate(steps)]
    }
    mode: str | None = call.data.get(ATTR_MODE)
    runnable = runnable_modes(coordinator.device.thermostat)
    if mode is not None and mode not in runnable:
        # The daemon would refuse it too, in its own English words.
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="mode_not_available",
            translation_placeholders={"mode": mode, "modes": ", ".join(runnable)},
        )
    # Without a name the daemon names the profile itself ("" would be refused).
    if name := call.data.get(ATTR_NAME, "").strip():
        profile["name"] = name
    await call_daemon(
        coordinator.client.set_thermostat(mode=mode, profile=profile),
        PROFILE_FIELDS,
    )


async def _async_clear_profile(call: ServiceCall) -> None:
    coordinator = _coordinator(call)
    await call_daemon(coordinator.client.set_thermostat(clear_profile=True))


# -- pause, resume, skip (protocol 2.2) --
def _running(call: ServiceCall) -> BeerPiCoordinator:
    """The entry's coordinator, if its daemon runs a profile (the daemon checks again)."""
    coordinator = _coordinator(call)
    profile = coordinator.data.thermostat.profile
    if profile is None or profile.finished:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_profile_running"
        )
    return coordinator


async def _async_pause_profile(call: ServiceCall) -> None:
    await call_daemon(_running(call).client.pause_profile())


async def _async_resume_profile(call: ServiceCall) -> None:
    await call_daemon(_running(call).client.resume_profile())


async def _async_skip_step(call: ServiceCall) -> None:
    step = call.data.get(ATTR_STEP)
    await call_daemon(_running(call).client.skip_step(None if step is None else step - 1))


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    hass.services.async_register(
        DOMAIN, SERVICE_SET_PROFILE, _async_set_profile, schema=SET_PROFILE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_CLEAR_PROFILE, _async_clear_profile, schema=CLEAR_PROFILE_SCHEMA
    )
    # -- pause, resume, skip (protocol 2.2) --
    hass.services.async_register(
        DOMAIN, SERVICE_PAUSE_PROFILE, _async_pause_profile, schema=PAUSE_RESUME_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_RESUME_PROFILE, _async_resume_profile, schema=PAUSE_RESUME_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SKIP_STEP, _async_skip_step, schema=SKIP_STEP_SCHEMA
    )
