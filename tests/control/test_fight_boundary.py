"""The bench's fight and the relay gate's changeover are one boundary: the gate lets
the heater start once ``changeover_s`` has passed since the cooler stopped, and the
bench counts a fight only for a start sooner than that."""

from __future__ import annotations

from bench._control_loop import READ_S, MemoryRelay, Run, fights
from pi_daemon.safety import Cause, RelayGate, RelayRules
from pi_daemon.safety.limits import CHANGEOVER_S, COOLER_TIMING, HEATER_TIMING


def _first_heater_start_after_the_cooler() -> float:
    clock = [0.0]
    rules = RelayRules.build(
        {"heater": HEATER_TIMING, "cooler": COOLER_TIMING},
        start_s=-86_400.0,
        resting=[],
        interlock=("heater", "cooler"),
        changeover_s=CHANGEOVER_S,
    )
    gate = RelayGate({r: MemoryRelay(r) for r in ("heater", "cooler")}, rules, lambda: clock[0])
    gate.apply({"cooler": True, "heater": False}, 0.0, Cause.CONTROL)
    stop = 3600.0
    clock[0] = stop
    gate.apply({"cooler": False, "heater": False}, stop, Cause.CONTROL)
    t = stop
    while not gate.states()["heater"]:
        t += READ_S
        clock[0] = t
        gate.apply({"cooler": False, "heater": True}, t, Cause.CONTROL)  # wanted every read
    return t - stop


def _run(heater_start_after_stop_s: float) -> Run:
    r = Run("x", 86_400.0)
    r.starts["cooler"].append(0.0)
    r.stops["cooler"].append(3600.0)
    r.starts["heater"].append(3600.0 + heater_start_after_stop_s)
    return r


def test_the_earliest_start_the_gate_allows_is_not_a_fight() -> None:
    waited = _first_heater_start_after_the_cooler()
    assert waited == CHANGEOVER_S, "the gate holds the heater back exactly the changeover"
    assert fights(_run(waited)) == 0


def test_a_start_one_read_sooner_is_a_fight() -> None:
    assert fights(_run(CHANGEOVER_S - READ_S)) == 1
