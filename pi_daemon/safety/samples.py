"""What the daemon hands the safety rules and the thermostat for each probe."""

from __future__ import annotations

from dataclasses import dataclass

from beerpi_protocol import FaultCode


@dataclass(frozen=True, slots=True)
class ProbeSample:
    """The latest read of one probe: a temperature, or the backend's error code.

    ``at_s`` is the read's time on the control clock (monotonic seconds).
    """

    temperature: float | None
    error: FaultCode | None
    at_s: float
