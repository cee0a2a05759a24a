"""What the demand algorithm asks of the relays, before the relay guard has its say."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Direction(Enum):
    HEAT = "heat"
    COOL = "cool"


@dataclass(frozen=True, slots=True)
class Demand:
    heat: bool
    cool: bool
    why: str
    # A relay it would otherwise switch on but holds back, and why (None: none is).
    held: Direction | None = None
    wait: str | None = None
