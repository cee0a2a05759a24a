"""A fault as the control package tracks it: on the control clock, turned into FaultInfo late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from beerpi_protocol import FaultCode, FaultInfo
from beerpi_protocol.timestamps import iso


@dataclass(frozen=True, slots=True)
class Fault:
    source: str
    code: FaultCode
    message: str
    since_s: float

    def to_info(self, now_s: float, now_wall: datetime) -> FaultInfo:
        since = now_wall - timedelta(seconds=max(0.0, now_s - self.since_s))
        return FaultInfo(source=self.source, code=self.code, message=self.message, since=iso(since))


def keep_since(old: Fault | None, new: Fault) -> Fault:
    """A fault that persists keeps its first time (and its first message)."""
    if old is not None and old.code == new.code and old.source == new.source:
        return old
    return new
