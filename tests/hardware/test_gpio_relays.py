"""GpioRelay on gpiozero's mock pins: pin levels for both board polarities."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from pi_daemon.hardware.base import Relay, RelayError
from pi_daemon.hardware.gpio_relays import GpioRelay


@pytest.fixture
def factory() -> MockFactory:
    return MockFactory()


def _level(factory: Any, pin: int) -> bool:
    return bool(factory.pin(pin).state)


@pytest.mark.parametrize(("active_high", "on_level"), [(True, True), (False, False)])
def test_on_off_drive_the_pin(factory: Any, active_high: bool, on_level: bool) -> None:
    relay = GpioRelay("heater", 17, active_high=active_high, pin_factory=factory)
    assert relay.is_on is False
    assert _level(factory, 17) is (not on_level)
    relay.on()
    assert relay.is_on is True
    assert _level(factory, 17) is on_level
    relay.off()
    assert relay.is_on is False
    assert _level(factory, 17) is (not on_level)


@pytest.mark.parametrize("active_high", [True, False])
def test_starts_off_even_when_the_pin_was_at_the_on_level(factory: Any, active_high: bool) -> None:
    # GPIO2 has a hardware pull-up (reads high before we claim it); GPIO22 reads low.
    for pin in (2, 22):
        relay = GpioRelay(f"r{pin}", pin, active_high=active_high, pin_factory=factory)
        assert relay.is_on is False
        assert factory.pin(pin).function == "output"
        assert _level(factory, pin) is (not active_high)


@pytest.mark.parametrize("active_high", [True, False])
def test_close_switches_off_then_releases(factory: Any, active_high: bool) -> None:
    relay = GpioRelay("cooler", 27, active_high=active_high, pin_factory=factory)
    relay.on()
    relay.close()
    pin = factory.pin(27)
    assert pin.function == "input"  # released
    assert bool(pin.state) is (not active_high)  # and left at the off level
    assert pin.states[-1].state is (not active_high)
    assert relay.closed
    assert relay.is_on is False
    relay.close()  # twice is harmless
    # The pin is free again for the next owner.
    GpioRelay("cooler", 27, active_high=active_high, pin_factory=factory).close()


def test_pin_in_use_is_a_relay_error(factory: Any) -> None:
    heater = GpioRelay("heater", 17, pin_factory=factory)
    with pytest.raises(RelayError, match="cooler on GPIO 17"):
        GpioRelay("cooler", 17, pin_factory=factory)
    heater.close()


def test_invalid_pin_is_a_relay_error(factory: Any) -> None:
    with pytest.raises(RelayError):
        GpioRelay("heater", 99, pin_factory=factory)


def test_gpiozero_absent_is_a_relay_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gpiozero", None)
    with pytest.raises(RelayError, match="not installed"):
        GpioRelay("heater", 17)


def test_is_a_relay(factory: Any) -> None:
    relay: Relay = GpioRelay("heater", "GPIO17", pin_factory=factory)
    assert relay.id == "heater"


class _LgpioError(Exception):
    """What lgpio raises (``lgpio.error``): not a gpiozero error, and gpiozero passes it on."""


def test_a_pin_another_process_holds_is_named_not_a_traceback() -> None:
    """On a Pi, lgpio refuses a pin another process has claimed with 'GPIO busy'
    (a second daemon on another data dir, an old script): the daemon's start says
    which relay and pin, and what to look for."""
    from gpiozero.pins.mock import MockPin

    class BusyPin(MockPin):  # type: ignore[misc]
        def _set_function(self, value: str) -> None:
            if value == "output":
                raise _LgpioError("GPIO busy")
            super()._set_function(value)

    busy = MockFactory(pin_class=BusyPin)
    with pytest.raises(RelayError) as caught:
        GpioRelay("heater", 17, pin_factory=busy)
    assert str(caught.value) == (
        "relay heater on GPIO 17: GPIO busy; another program holds this pin "
        "(another beerpi-daemon, or an old script)"
    )
