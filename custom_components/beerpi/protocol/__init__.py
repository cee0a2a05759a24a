"""BeerPi protocol v1: models, constants, errors and the socket.io client.

This package is the single source of the protocol in Python. It must stay free
of Home Assistant and of the daemon: the integration carries a verbatim copy
(``make vendor``), so every import inside it is relative.
"""

from .const import (
    DEFAULT_PORT,
    PROTOCOL_VERSION,
    ErrorCode,
    Event,
    FaultCode,
    Request,
    ThermostatAction,
    ThermostatMode,
)
from .errors import (
    BeerPiAuthError,
    BeerPiConnectionError,
    BeerPiError,
    BeerPiProtocolVersionError,
    BeerPiRequestError,
)
from .models import (
    DeviceInfo,
    FaultInfo,
    HydrometerReading,
    MediaInfo,
    ProbeInfo,
    ProbeState,
    ProfileProgress,
    ProfileStep,
    Reading,
    ReadingsPage,
    RelayInfo,
    RelayState,
    State,
    ThermostatInfo,
    ThermostatState,
)

__all__ = [
    "DEFAULT_PORT",
    "PROTOCOL_VERSION",
    "BeerPiAuthError",
    "BeerPiConnectionError",
    "BeerPiError",
    "BeerPiProtocolVersionError",
    "BeerPiRequestError",
    "DeviceInfo",
    "ErrorCode",
    "Event",
    "FaultCode",
    "FaultInfo",
    "HydrometerReading",
    "MediaInfo",
    "ProbeInfo",
    "ProbeState",
    "ProfileProgress",
    "ProfileStep",
    "Reading",
    "ReadingsPage",
    "RelayInfo",
    "RelayState",
    "Request",
    "State",
    "ThermostatAction",
    "ThermostatInfo",
    "ThermostatMode",
    "ThermostatState",
]
