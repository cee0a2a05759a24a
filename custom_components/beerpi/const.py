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
# A daemon that speaks another major protocol version is not retried with the backoff:
# once in this long, or at once when zeroconf sees it again (it restarted, maybe updated).
PROTOCOL_RETRY_S: Final = 3600.0

# Options: how long entities keep their last values after the link drops (like
# ESPHome's devices that sleep or reboot) before they become unavailable.
CONF_UNAVAILABLE_AFTER: Final = "unavailable_after"
DEFAULT_UNAVAILABLE_AFTER_S: Final = 60
MAX_UNAVAILABLE_AFTER_S: Final = 3600

# A DS18B20 at 12-bit resolution reads in steps of 1/16 °C: finer digits are noise.
PROBE_RESOLUTION_C: Final = 1 / 16
# Most probe and hydrometer sensors one daemon gets, whatever its state lists: a
# brewery has a handful of probes, and the daemon keeps at most 16 hydrometers.
MAX_PROBE_SENSORS: Final = 32
MAX_HYDROMETER_SENSORS: Final = 16
# A Tilt comes in these colours; the daemon gives one it listens to the id
# "tilt-<colour>" unless its config names it otherwise (pi_daemon/config.py's
# TILT_COLOURS). Such a Tilt's gravity sensor is named by its colour ("Red Tilt
# gravity", a translation of its own); any other hydrometer by its id.
TILT_COLOURS: Final = ("red", "green", "black", "purple", "orange", "blue", "yellow", "pink")
# Targets go to the daemon in °C to a hundredth: a whole °F (65 °F is 18.33 °C) comes
# back as that whole °F, where a tenth of a °C (18.3) showed 64.9 °F.
TARGET_DECIMALS: Final = 2

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
# Pausing, resuming and skipping a profile step (protocol 2.2).
SERVICE_PAUSE_PROFILE: Final = "pause_profile"
SERVICE_RESUME_PROFILE: Final = "resume_profile"
SERVICE_SKIP_STEP: Final = "skip_step"
ATTR_STEP: Final = "step"

EVENT_FAULT_RAISED: Final = "fault_raised"
EVENT_FAULT_CLEARED: Final = "fault_cleared"

# Every fault code the integration names and translates (docs/protocol.md). A code a
# newer daemon adds reads as None in the models and is shown as UNKNOWN_FAULT_CODE.
# "link" (the daemon's dial-out link refused) and "no_effect" (a relay on without effect
# on its probe) come with the safety work; listed here so their texts exist first.
FAULT_CODES: Final = (
    "disconnected",
    "crc",
    "reset_85",
    "stuck",
    "out_of_range",
    "implausible_jump",
    "stale",
    "high_cutoff",
    "low_cutoff",
    "max_run_time",
    "watchdog",
    "storage",
    "camera",
    "link",
    "no_effect",
)
UNKNOWN_FAULT_CODE: Final = "unknown"

# Fired on the bus for every fault raised or cleared; device triggers listen to it.
BEERPI_EVENT: Final = "beerpi_event"
ATTR_SOURCE: Final = "source"
ATTR_CODE: Final = "code"
ATTR_MESSAGE: Final = "message"
