"""The relay gate's rules, one by one (the property test mixes them all on the live core)."""

from __future__ import annotations

import threading
import time

from beerpi_protocol import ErrorCode
from pi_daemon.safety import Cause, RelayGate, RelayRules, RelayTiming
from tests.control.control_rig import FakeRelay

TIMING = RelayTiming(min_on_s=60.0, min_off_s=120.0)


def make_gate(changeover_s: float = 0.0) -> tuple[RelayGate, dict[str, FakeRelay]]:
    relays = {rid: FakeRelay(rid) for rid in ("heater", "cooler", "pump")}
    rules = RelayRules.build(
        {"heater": TIMING, "cooler": TIMING, "pump": RelayTiming()},
        start_s=-1000.0,
        interlock=("heater", "cooler"),
        changeover_s=changeover_s,
    )
    return RelayGate(relays, rules, lambda: 0.0), relays


def test_interlock_refuses_the_second_relay_whoever_asks() -> None:
    gate, relays = make_gate()
    assert gate.switch("heater", True, 0.0, Cause.MANUAL) is None
    for cause in Cause:
        refusal = gate.switch("cooler", True, 0.0, cause)
        assert refusal is not None
        assert refusal.code is ErrorCode.INTERLOCK
        assert refusal.message == "heater is on: switch it off first"
    assert not relays["cooler"].is_on
    assert gate.switch("pump", True, 0.0, Cause.MANUAL) is None  # not interlocked


def test_the_hardware_is_the_truth() -> None:
    gate, relays = make_gate()
    relays["cooler"].on()  # behind the gate's back (a driver, a test)
    refusal = gate.switch("heater", True, 0.0, Cause.MANUAL)
    assert refusal is not None
    assert refusal.code is ErrorCode.INTERLOCK


def test_offs_go_before_ons() -> None:
    gate, _ = make_gate()
    gate.switch("heater", True, 0.0, Cause.MANUAL)
    order: list[tuple[str, bool]] = []
    gate.listeners.append(lambda change: order.append((change.relay, change.on)))
    assert gate.apply({"cooler": True, "heater": False}, 200.0, Cause.MANUAL) == {}
    assert order == [("heater", False), ("cooler", True)]


def test_off_is_at_once_except_for_the_thermostats_own_minimum_on_time() -> None:
    gate, relays = make_gate()
    gate.switch("heater", True, 0.0, Cause.CONTROL)
    kept = gate.switch("heater", False, 10.0, Cause.CONTROL)
    assert kept is not None
    assert "minimum on time" in kept.message
    assert relays["heater"].is_on
    assert gate.switch("heater", False, 10.0, Cause.MANUAL) is None
    assert not relays["heater"].is_on
    gate.switch("cooler", True, 200.0, Cause.CONTROL)
    assert gate.switch("cooler", False, 201.0, Cause.SAFETY) is None


def test_minimum_off_time_for_everyone() -> None:
    gate, _ = make_gate()
    gate.switch("heater", True, 0.0, Cause.MANUAL)
    gate.switch("heater", False, 100.0, Cause.MANUAL)
    for cause in Cause:
        refusal = gate.switch("heater", True, 150.0, cause)
        assert refusal is not None
        assert refusal.code is ErrorCode.RELAY_LOCKED_OUT
        assert refusal.wait_s == 70.0
    assert gate.switch("heater", True, 220.0, Cause.MANUAL) is None


def test_a_hold_switches_off_now_and_refuses_on_until_released() -> None:
    gate, relays = make_gate()
    gate.switch("heater", True, 0.0, Cause.CONTROL)
    gate.hold("thermostat", {"heater": "beer probe in fault: crc"}, 5.0)
    assert not relays["heater"].is_on  # within its minimum on time: safety does not wait
    refusal = gate.switch("heater", True, 500.0, Cause.MANUAL)
    assert refusal is not None
    assert refusal.message == "heater is held off: beer probe in fault: crc"
    gate.hold("thermostat", {}, 500.0)
    assert gate.switch("heater", True, 500.0, Cause.MANUAL) is None


def test_changeover_applies_to_the_thermostat_only() -> None:
    gate, _ = make_gate(changeover_s=1800.0)
    gate.switch("cooler", True, 0.0, Cause.MANUAL)
    gate.switch("cooler", False, 100.0, Cause.MANUAL)
    refusal = gate.switch("heater", True, 200.0, Cause.CONTROL)
    assert refusal is not None
    assert "(changeover)" in refusal.message
    assert gate.switch("heater", True, 200.0, Cause.MANUAL) is None  # a person may


class HangingRelay(FakeRelay):
    """A relay whose driver call hangs (while the gate holds its lock)."""

    def __init__(self, relay_id: str, release: threading.Event) -> None:
        super().__init__(relay_id)
        self._release = release

    def on(self) -> None:
        super().on()
        self._release.wait(5)


def test_the_watchdog_switches_off_even_when_the_gate_hangs() -> None:
    release = threading.Event()
    relays = {"heater": HangingRelay("heater", release), "cooler": FakeRelay("cooler")}
    rules = RelayRules.build({"heater": TIMING, "cooler": TIMING}, start_s=-1000.0)
    gate = RelayGate(relays, rules, lambda: 0.0)
    stuck = threading.Thread(target=gate.switch, args=("heater", True, 0.0, Cause.MANUAL))
    stuck.start()
    time.sleep(0.1)  # the switch hangs inside the gate, its lock held
    started = time.monotonic()
    gate.emergency_off("watchdog", "control loop stalled")
    assert time.monotonic() - started < 2.0
    assert not relays["heater"].is_on
    release.set()
    stuck.join()
    refusal = gate.switch("cooler", True, 1.0, Cause.MANUAL)
    assert refusal is not None  # still held by the watchdog
    gate.release("watchdog")
    assert gate.switch("cooler", True, 1.0, Cause.MANUAL) is None


def test_a_relay_held_off_while_its_driver_was_switching_it_on_ends_off() -> None:
    """The watchdog's emergency off does not wait for a loop hung inside ``relay.on()``;
    when that call returns at last, the relay must not stay on under the hold."""
    gate, relays = make_gate()
    heater = relays["heater"]
    switch_on = heater.on

    def hung_on() -> None:
        # The watchdog acts from its thread while this driver call is stuck.
        watchdog = threading.Thread(target=gate.emergency_off, args=("watchdog", "loop stalled"))
        watchdog.start()
        watchdog.join()
        switch_on()  # the stuck call completes after the emergency off

    heater.on = hung_on  # type: ignore[method-assign]
    refusal = gate.switch("heater", True, 0.0, Cause.CONTROL)
    assert refusal is not None
    assert refusal.message == "heater is held off: loop stalled"
    assert not heater.is_on
    assert gate.rules.held("heater") == "loop stalled"
