"""Names and numbers of protocol v2; docs/protocol.md is the prose twin of this file."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final, Self

# "major.minor": a client refuses a daemon of another major version; a newer
# minor only adds optional fields and requests.
PROTOCOL_VERSION: Final = "2.2"
DEFAULT_PORT: Final = 8765
SOCKETIO_PATH: Final = "socket.io"
# Largest request payload a daemon accepts (bytes of JSON); engine.io enforces it.
MAX_PAYLOAD_BYTES: Final = 64 * 1024
# Largest piece of a photo/video one get_media answer carries (base64 makes it ~43 KiB),
# so a file crosses a socket.io link (dial-out) under the payload cap.
MEDIA_CHUNK_BYTES: Final = 32 * 1024
# Most a client reads of one file from the daemon's HTTP port: a photo is well under a
# MiB and a Pi's 10-minute H.264 video about 150 MiB; a daemon that sends more is cut off.
MAX_PHOTO_BYTES: Final = 16 * 1024 * 1024
MAX_VIDEO_BYTES: Final = 256 * 1024 * 1024
# A hydrometer's name: what the web service keeps (and a URL or a CSV cell carries)
# as it is, so the daemon refuses a reading under any other name rather than have it
# dropped further on.
HYDROMETER_ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# Specific gravity a hydrometer reading may have: below water-with-alcohol's
# 0.990 or above 1.200 (about 43 °P) it is a fault, not a beer.
SG_RANGE: Final = (0.990, 1.200)
# The same range in degrees Plato, rounded inwards to a tenth (numbers.sg_from_plato of
# each end is inside SG_RANGE): a brewer who gives °P is refused in °P, not in SG.
PLATO_RANGE: Final = (-2.6, 43.9)


def protocol_major(version: str) -> int | None:
    """Major number of a "major.minor" version string, None when unreadable."""
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


class _StrEnum(StrEnum):
    """str-valued enum that reads unknown values as None (forward compatible)."""

    @classmethod
    def parse(cls, value: object) -> Self | None:
        if not isinstance(value, str):
            return None
        try:
            return cls(value)
        except ValueError:
            return None


class Event(_StrEnum):
    """Pushes from the daemon to its clients."""

    DEVICE = "device"
    STATE = "state"
    PHOTO = "photo"
    FAULT = "fault"
    # Readings just recorded to the outbox, with their cursor (for history services).
    READINGS = "readings"


class Request(_StrEnum):
    """Requests a client sends; each is answered through the socket.io ack."""

    GET_STATE = "get_state"
    SET_RELAY = "set_relay"
    SET_THERMOSTAT = "set_thermostat"
    TAKE_PHOTO = "take_photo"
    RECORD_VIDEO = "record_video"
    READINGS_SINCE = "readings_since"
    GET_MEDIA = "get_media"
    SIMULATE = "simulate"
    # A short-lived signed URL for the daemon's HTTP API (the token never goes over HTTP).
    SIGN_URL = "sign_url"
    # A gravity reading taken elsewhere (an iSpindel through the web service or HA): 2.1.
    REPORT_GRAVITY = "report_gravity"
    # Hold a running profile where it is, go on, or end its step now: 2.2.
    PAUSE_PROFILE = "pause_profile"
    RESUME_PROFILE = "resume_profile"
    SKIP_STEP = "skip_step"


class Handshake(_StrEnum):
    """The connect handshake's two messages (before a link is authenticated)."""

    # Responder -> initiator: its nonce and its proof that it knows the token.
    CHALLENGE = "auth_challenge"
    # Initiator -> responder (with an acknowledgement): the initiator's proof.
    PROOF = "auth_proof"


class ErrorCode(_StrEnum):
    INVALID_ARGUMENT = "invalid_argument"
    UNKNOWN_REQUEST = "unknown_request"
    UNKNOWN_RELAY = "unknown_relay"
    UNKNOWN_PROBE = "unknown_probe"
    UNKNOWN_MEDIA = "unknown_media"
    RELAY_UNDER_THERMOSTAT_CONTROL = "relay_under_thermostat_control"
    RELAY_LOCKED_OUT = "relay_locked_out"
    # Heater and cooler are never on together: switch the other off first.
    INTERLOCK = "interlock"
    CAMERA_UNAVAILABLE = "camera_unavailable"
    BUSY = "busy"
    UNAUTHORIZED = "unauthorized"
    # The peer speaks another major protocol version (e.g. a v1 client sending its token).
    PROTOCOL_MISMATCH = "protocol_mismatch"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"


class ThermostatMode(_StrEnum):
    OFF = "off"
    HEAT = "heat"
    COOL = "cool"
    HEAT_COOL = "heat_cool"


class ThermostatAction(_StrEnum):
    OFF = "off"
    IDLE = "idle"
    HEATING = "heating"
    COOLING = "cooling"
    # A relay is wanted but must rest (minimum off time) first.
    WAITING = "waiting"
    # A fault holds every controlled relay off.
    FAULT = "fault"


class FaultCode(_StrEnum):
    """Why a probe, relay or the controller is in fault."""

    DISCONNECTED = "disconnected"
    CRC = "crc"
    RESET_85 = "reset_85"
    STUCK = "stuck"
    OUT_OF_RANGE = "out_of_range"
    IMPLAUSIBLE_JUMP = "implausible_jump"
    STALE = "stale"
    HIGH_CUTOFF = "high_cutoff"
    LOW_CUTOFF = "low_cutoff"
    MAX_RUN_TIME = "max_run_time"
    WATCHDOG = "watchdog"
    STORAGE = "storage"
    CAMERA = "camera"
    # The dial-out link to the web service is refused or down (local control goes on).
    LINK = "link"
    # A relay has run for a while without moving the chamber air its way.
    NO_EFFECT = "no_effect"
