"""What one control step tells the daemon to do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from beerpi_protocol import FaultInfo, ProfileProgress, ThermostatAction


@dataclass(frozen=True, slots=True)
class ControlDecision:
    """Apply ``relays`` (offs before ons), then switch ``force_off`` off whoever drives them.

    ``relays``: desired state of each relay the thermostat drives (empty when off).
    ``force_off``: relays that must go off now even if driven by hand (cut-off,
    maximum run time).
    """

    relays: Mapping[str, bool]
    action: ThermostatAction
    reason: str
    target_c: float | None
    faults: tuple[FaultInfo, ...]
    profile: ProfileProgress | None
    force_off: tuple[str, ...] = ()
    chamber_setpoint_c: float | None = None
