"""Beer temperature cut-offs: beyond them heater and cooler go off, whatever the mode."""

from __future__ import annotations

from beerpi_protocol import FaultCode

from .faults import Fault
from .limits import SafetySettings


def check_cutoff(
    probe_id: str,
    value_c: float | None,
    current: Fault | None,
    settings: SafetySettings,
    now_s: float,
) -> Fault | None:
    """The cut-off fault in force after this reading (None when clear).

    A tripped cut-off holds until the beer is back inside by the hysteresis, so
    it does not chatter on the limit. No reading (probe in fault) keeps it as is.
    """
    if value_c is None:
        return current
    high, low, margin = settings.high_cutoff_c, settings.low_cutoff_c, settings.cutoff_hysteresis_c
    if value_c > high:
        code, text = FaultCode.HIGH_CUTOFF, f"above the {high:g} °C cut-off"
    elif value_c < low:
        code, text = FaultCode.LOW_CUTOFF, f"below the {low:g} °C cut-off"
    elif current is not None and (
        (current.code == FaultCode.HIGH_CUTOFF and value_c > high - margin)
        or (current.code == FaultCode.LOW_CUTOFF and value_c < low + margin)
    ):
        return current
    else:
        return None
    if current is not None and current.code == code:
        return current
    message = f"{probe_id} at {value_c:.1f} °C, {text}: heater and cooler off"
    return Fault(probe_id, code, message, now_s)
