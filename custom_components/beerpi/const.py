"""Constants of the BeerPi integration."""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "beerpi"
MANUFACTURER: Final = "BeerPi"

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.CLIMATE,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]

# Backoff between reconnect tries: quick after a blip, gentle during an outage.
RECONNECT_MIN_DELAY_S: Final = 1.0
RECONNECT_MAX_DELAY_S: Final = 60.0

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_SECONDS: Final = "seconds"
ATTR_NAME: Final = "name"
ATTR_STEPS: Final = "steps"
ATTR_KIND: Final = "kind"
ATTR_TARGET: Final = "target"
ATTR_HOURS: Final = "hours"
ATTR_DAYS: Final = "days"
ATTR_MODE: Final = "mode"

SERVICE_SET_PROFILE: Final = "set_profile"
SERVICE_CLEAR_PROFILE: Final = "clear_profile"
SERVICE_RECORD_VIDEO: Final = "record_video"

EVENT_FAULT_RAISED: Final = "fault_raised"
EVENT_FAULT_CLEARED: Final = "fault_cleared"

# Fired on the bus for every fault raised or cleared; device triggers listen to it.
BEERPI_EVENT: Final = "beerpi_event"
ATTR_SOURCE: Final = "source"
ATTR_CODE: Final = "code"
ATTR_MESSAGE: Final = "message"
