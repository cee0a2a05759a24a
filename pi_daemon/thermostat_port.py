"""What the daemon needs from its thermostat, and the samples it hands it.

The control package (pi_daemon/control) is pure; this port is the seam the
daemon's loop and request handler talk through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from beerpi_protocol import FaultCode, FaultInfo, ThermostatState


@dataclass(frozen=True, slots=True)
class ProbeSample:
    """One probe read: a temperature, or the error the backend reported."""

    temperature: float | None
    error: FaultCode | None
    at_s: float
    message: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    relays: Mapping[str, bool]
    reason: str = ""
    faults: tuple[FaultInfo, ...] = field(default_factory=tuple)


class ThermostatPort(Protocol):
    def controlled_relays(self) -> frozenset[str]:
        """Relays the thermostat drives now (empty while its mode is off)."""

    def relay_wait_s(self, relay: str, on: bool, now_s: float) -> float:
        """Seconds before ``relay`` may be switched to ``on`` (min on/off times)."""

    def record_switch(self, relay: str, on: bool, now_s: float) -> None: ...

    def probe_faults(self) -> Mapping[str, FaultCode]:
        """Probes the safety supervisor holds in fault, and why."""

    def step(
        self,
        now_s: float,
        now: datetime,
        samples: Mapping[str, ProbeSample],
        relays_on: Mapping[str, bool],
    ) -> Decision: ...

    def to_state(self) -> ThermostatState: ...

    def set_mode(self, mode: str) -> None:
        """Raises ValueError with a user-facing message."""

    def check_target(self, target: float) -> None:
        """Raises ValueError if ``target`` is out of the configured range."""

    def check_profile(self, profile: Mapping[str, Any]) -> None:
        """Raises ValueError naming the bad field of a profile."""

    def set_target(self, target: float) -> None: ...

    def set_profile(self, profile: Mapping[str, Any] | None, now: datetime) -> None: ...
