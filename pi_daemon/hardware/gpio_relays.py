"""Relay channels on GPIO pins, driven through gpiozero's OutputDevice."""

from __future__ import annotations

from typing import Any

from .base import RelayError


class GpioRelay:
    """One relay channel; implements ``Relay``.

    Relay boards are often active-low (the coil is energised when the pin is
    low): ``active_high=False`` inverts the pin so ``on()`` still means on.
    ``pin_factory`` is passed to gpiozero as is (``MockFactory()`` in
    simulation and tests; None picks the Pi's own).
    """

    def __init__(
        self, id: str, pin: int | str, *, active_high: bool = True, pin_factory: Any = None
    ) -> None:
        self._id = id
        self._pin = pin
        self._active_high = active_high
        try:
            from gpiozero import GPIOZeroError, OutputDevice
        except ImportError as exc:
            raise RelayError("gpiozero is not installed (pip install gpiozero)") from exc
        try:
            # initial_value=False: the relay is driven off as soon as the pin is claimed.
            self._device: Any = OutputDevice(
                pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
            )
        except (GPIOZeroError, ValueError) as exc:
            raise RelayError(f"relay {id} on GPIO {pin}: {exc}") from exc
        except Exception as exc:
            # The pin library's own, which gpiozero passes on: lgpio's `error('GPIO
            # busy')` when another process (a second daemon, an old script) holds the pin.
            hint = ""
            if "busy" in str(exc).lower():
                hint = "; another program holds this pin (another beerpi-daemon, or an old script)"
            raise RelayError(f"relay {id} on GPIO {pin}: {exc}{hint}") from exc

    @property
    def id(self) -> str:
        return self._id

    @property
    def pin(self) -> int | str:
        return self._pin

    @property
    def active_high(self) -> bool:
        return self._active_high

    @property
    def closed(self) -> bool:
        return bool(self._device.closed)

    @property
    def is_on(self) -> bool:
        return not self.closed and bool(self._device.is_active)

    def on(self) -> None:
        self._device.on()

    def off(self) -> None:
        self._device.off()

    def close(self) -> None:
        """Switch off, then release the pin; safe to call twice."""
        if self.closed:
            return
        # A released pin floats to an input, which an active-low board may read
        # as on: drive it off first so the relay rests while the pin is released.
        try:
            self._device.off()
        finally:
            self._device.close()
