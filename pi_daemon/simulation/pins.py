"""gpiozero mock pins that announce a level change before it happens.

The simulated fermenter integrates its model up to "now" with the relays as
they *were*; hooking the pin itself (not the relay class) means the real
GpioRelay drives the simulation exactly as it drives a Pi.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin


class ObservedPin(MockPin):  # type: ignore[misc]  # gpiozero is untyped
    def _change_state(self, value: bool) -> Any:
        if self._state != value:
            hook = getattr(self.factory, "before_change", None)
            if hook is not None:
                hook()
        return super()._change_state(value)


class SimulationPinFactory(MockFactory):  # type: ignore[misc]
    """A MockFactory whose pins call ``before_change()`` before any level change."""

    def __init__(self) -> None:
        super().__init__(pin_class=ObservedPin)
        self.before_change: Callable[[], None] | None = None
