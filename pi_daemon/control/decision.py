"""What one control step tells the daemon to do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from beerpi_protocol import FaultInfo, ProfileProgress, ThermostatAction


@dataclass(frozen=True, slots=True)
class ControlDecision:
    """Hand ``holds`` to the relay gate first, then ``relays``.

    ``relays``: desired state of each relay the thermostat drives (empty when off).
    ``holds``: relays that must go off now and stay off whoever asks (relay ->
    why): the safety rules' verdict of this step (probe fault, cut-off, max run).
    """

    relays: Mapping[str, bool]
    action: ThermostatAction
    reason: str
    target_c: float | None
    faults: tuple[FaultInfo, ...]
    profile: ProfileProgress | None
    holds: Mapping[str, str] = field(default_factory=dict)
    chamber_setpoint_c: float | None = None
