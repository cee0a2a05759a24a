"""Property: whatever happens, the daemon's control core keeps the relay rules.

A hypothesis state machine drives the real control core (``Daemon`` with its
gate, thermostat and safety rules, the ``RequestHandler`` every client goes
through, and the simulated fermenter on gpiozero mock pins) on a clock the test
moves. Steps interleave requests from several clients (Home Assistant, the web
service's API, the dial-out link), sometimes while a control step runs,
thermostat modes, targets and profiles, probe faults, broken relays, room
changes, clock jumps (hours of control time, days of wall time), link drops
(in-flight dial-out requests cancelled, the link refused or lost) and watchdog
stalls. After every step it checks:

1. never both relays on (at every pin change, not only between steps);
2. no relay on before its minimum off time, and none off before its minimum on
   time unless a safety rule or a person switched it off;
3. every safety off applied in the step that called for it: the beer probe in
   fault or beyond a cut-off (from the sample the daemon read), a relay past
   its maximum run time (from the test's own record of the pins) unless its
   effect is seen (then no ``no_effect`` fault of it and no chamber probe
   fault may be active), a watchdog stall, and every active fault that holds
   relays;
4. every relay change went through the gate, and every answer is a clear one.

``BEERPI_PROPERTY_CASES`` and ``BEERPI_PROPERTY_STEPS`` set a bigger run; the
test prints how many cases and steps it ran (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from beerpi_protocol import ErrorCode, FaultCode
from pi_daemon.app import describe
from pi_daemon.config import load_config
from pi_daemon.control_adapter import build_thermostat
from pi_daemon.hardware.base import Relay
from pi_daemon.hardware.factory import build_hardware
from pi_daemon.media import MediaStore
from pi_daemon.outbox import Outbox
from pi_daemon.requests import RequestHandler
from pi_daemon.safety import Cause, Switch
from pi_daemon.safety.limits import DS18B20_RESET_C
from pi_daemon.safety.link import LinkHealth
from pi_daemon.safety.watchdog import Watchdog
from pi_daemon.service import Daemon

CASES = int(os.environ.get("BEERPI_PROPERTY_CASES", "50"))
STEPS = int(os.environ.get("BEERPI_PROPERTY_STEPS", "40"))
RELAYS = ("heater", "cooler")
WATCHDOG_S = 15.0
# Faults of the thermostat's probe: each holds heater and cooler off.
PROBE_FAULTS = {
    FaultCode.DISCONNECTED,
    FaultCode.CRC,
    FaultCode.RESET_85,
    FaultCode.STUCK,
    FaultCode.OUT_OF_RANGE,
    FaultCode.IMPLAUSIBLE_JUMP,
    FaultCode.STALE,
}
CLEAR_ERRORS = {code.value for code in ErrorCode} - {ErrorCode.INTERNAL_ERROR.value}

TOTALS = {
    "cases": 0,
    "steps": 0,
    "switches": 0,
    "safety_offs": 0,
    "refusals": 0,
    "long_runs": 0,
}


class JumpClock:
    """Control clock and wall clock that move only when told; the wall may jump alone."""

    speed = 1.0

    def __init__(self) -> None:
        self._t = 0.0
        self._wall = datetime(2026, 6, 1, tzinfo=UTC)

    def advance(self, seconds: float) -> None:
        self._t += seconds
        self._wall += timedelta(seconds=seconds)

    def jump_wall(self, seconds: float) -> None:
        self._wall += timedelta(seconds=seconds)

    def monotonic(self) -> float:
        return self._t

    def now(self) -> datetime:
        return self._wall

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


class RealClock:
    """The watchdog's "real" seconds, moved by the test."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class RecordedRelay:
    """Wraps a simulated relay: every pin change is recorded and checked as it happens."""

    def __init__(self, relay: Relay, machine: ControlCore) -> None:
        self._relay = relay
        self._machine = machine

    @property
    def id(self) -> str:
        return self._relay.id

    @property
    def is_on(self) -> bool:
        return self._relay.is_on

    def on(self) -> None:
        self._relay.on()
        self._machine.pin_changed(self.id, True)

    def off(self) -> None:
        self._relay.off()
        self._machine.pin_changed(self.id, False)

    def close(self) -> None:
        self._relay.close()


# -- strategies ------------------------------------------------------------------------

clients = st.sampled_from(["home_assistant", "web_api", "dialout"])
targets = st.floats(min_value=-2.0, max_value=35.0, allow_nan=False)
steps = st.builds(
    lambda kind, target, hours: {"kind": kind, "target": target, "hours": hours},
    st.sampled_from(["hold", "ramp"]),
    targets,
    st.sampled_from([0.05, 0.5, 2.0, 12.0, 72.0]),
)
set_relay = st.builds(
    lambda relay, on: ("set_relay", {"relay": relay, "on": on}),
    st.sampled_from(RELAYS),
    st.booleans(),
)
set_mode = st.builds(
    lambda mode: ("set_thermostat", {"mode": mode}),
    st.sampled_from(["off", "heat", "cool", "heat_cool"]),
)
set_target = st.builds(lambda target: ("set_thermostat", {"target": target}), targets)
start_profile = st.builds(
    lambda mode, target, hours, more: (
        "set_thermostat",
        {
            "mode": mode,
            "profile": {
                "name": "p",
                "steps": [{"kind": "hold", "target": target, "hours": hours}, *more],
            },
        },
    ),
    st.sampled_from(["heat", "cool", "heat_cool"]),
    targets,
    st.sampled_from([0.05, 0.5, 2.0, 12.0]),
    st.lists(steps, max_size=3),
)
probe_fault = st.builds(
    lambda probe, fault: ("simulate", {"probe": probe, "fault": fault}),
    st.sampled_from(["beer", "fridge"]),
    st.sampled_from(["disconnected", "crc", "reset_85", "stuck"]),
)
probe_clear = st.builds(
    lambda probe: ("simulate", {"probe": probe, "clear": True}), st.sampled_from(["beer", "fridge"])
)
room = st.builds(
    lambda c: ("simulate", {"ambient": c}), st.sampled_from([-10.0, 5.0, 20.0, 35.0, 60.0])
)
break_relay = st.builds(
    lambda relay, broken: ("simulate", {"relay": relay, "broken": broken}),
    st.sampled_from(RELAYS),
    st.booleans(),
)
# Repeats weight the mix: mostly switching and thermostat changes, faults cleared as often
# as raised, so that relays do move.
requests = st.one_of(
    set_relay,
    set_relay,
    set_relay,
    set_mode,
    set_mode,
    set_target,
    start_profile,
    st.just(("set_thermostat", {"profile": None})),
    st.just(("get_state", {})),
    probe_fault,
    probe_clear,
    probe_clear,
    room,
    break_relay,
)
# (client, (request, payload))
Asked = tuple[str, tuple[str, dict[str, Any]]]
durations = st.sampled_from(
    [0.5, 1.0, 5.0, 30.0, 59.0, 61.0, 121.0, 179.0, 300.0, 601.0, 1801.0, 3600.0]
)
batches = st.lists(st.tuples(clients, requests), min_size=1, max_size=4)


class ControlCore(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        TOTALS["cases"] += 1
        self.loop = asyncio.new_event_loop()
        shm = Path("/dev/shm")
        self.dir = Path(tempfile.mkdtemp(prefix="beerpi-prop-", dir=shm if shm.is_dir() else None))
        self.clock = JumpClock()
        self.real = RealClock()
        self.pins: list[tuple[float, str, bool]] = []
        self.gate_log: list[Switch] = []
        self.problems: list[str] = []
        self.stalled = False
        self.cycled = False
        self.cycles = 0
        self.loop.run_until_complete(self._build())

    async def _build(self) -> None:
        config = load_config(
            None,
            {
                "simulate": True,
                "server.token": "property-token-0123",
                "storage.data_dir": str(self.dir),
                "storage.record_interval_s": 3600.0,
                "simulation.probe_conversion_s": 0.0,
                "camera.enabled": False,
                "zeroconf.enabled": False,
                "safety.watchdog_s": WATCHDOG_S,
            },
        )
        self.outbox = Outbox(self.dir / "outbox.sqlite3", max_age_s=86400.0, max_rows=10_000)
        await self.outbox.open()
        hardware = build_hardware(config, self.clock)
        hardware.relays = {rid: RecordedRelay(r, self) for rid, r in hardware.relays.items()}
        self.hardware = hardware
        thermostat = build_thermostat(config, self.dir, self.clock)
        media = MediaStore(self.dir / "media", keep_photos=2, keep_videos=2)
        device = describe(config, hardware, "p")
        daemon = Daemon(config, hardware, self.clock, self.outbox, media, device, thermostat)
        daemon.watchdog = Watchdog(
            WATCHDOG_S,
            on_stall=daemon.on_watchdog_stall,
            on_recover=daemon.on_watchdog_recover,
            clock=self.real,
        )
        daemon.gate.listeners.append(self.gate_log.append)
        self.daemon = daemon
        self.handler = RequestHandler(daemon)
        self.settings = thermostat.settings
        self.link = LinkHealth(
            "http://service.invalid",
            lambda message: daemon.set_extra_fault("dialout", FaultCode.LINK, message),
            fault_after_s=0.0,
        )
        # Each relay's last change as the pins saw it: (time, on). The cooler rests from start.
        guards = daemon.gate.rules.guards
        self.last_change = {rid: (g.since_s, g.is_on) for rid, g in guards.items()}
        self.checked = 0

    def teardown(self) -> None:
        async def close() -> None:
            await self.handler.close()
            await self.outbox.close()
            self.hardware.close()

        try:
            self.loop.run_until_complete(close())
        finally:
            self.loop.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- what the test sees ------------------------------------------------------------

    def pin_changed(self, relay: str, on: bool) -> None:
        self.pins.append((self.clock.monotonic(), relay, on))
        relays = self.hardware.relays
        if all(relays[r].is_on for r in RELAYS):
            self.problems.append(f"heater and cooler both on at {self.clock.monotonic()} s")

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    def answer_ok(self, name: str, answer: object) -> None:
        assert isinstance(answer, dict), answer
        if answer.get("ok") is not True:
            assert answer.get("error") in CLEAR_ERRORS, (name, answer)
            TOTALS["refusals"] += 1

    async def _cycle(self) -> None:
        # A read takes time: no two reads share a timestamp (as on a real clock).
        self.clock.advance(0.25)
        self.real.t += 0.1
        await self.daemon.cycle()
        self.cycled = True
        self.cycles += 1
        if self.stalled:
            self.stalled = False  # the cycle began after the stall: recovered

    # -- steps ----------------------------------------------------------------------------

    # Rules are picked evenly; the main ones appear twice so that most steps are time
    # passing and clients asking.
    @rule(seconds=durations)
    def tick(self, seconds: float) -> None:
        """Time passes; one control step."""
        self.clock.advance(seconds)
        self.run(self._cycle())

    @rule(seconds=durations)
    def tick_again(self, seconds: float) -> None:
        self.tick(seconds)

    @rule(batch=batches, during_step=st.booleans(), step_first=st.booleans())
    def clients_ask_again(self, batch: list[Asked], during_step: bool, step_first: bool) -> None:
        self.clients_ask(batch, during_step, step_first)

    @rule(batch=batches, during_step=st.booleans(), step_first=st.booleans())
    def clients_ask(self, batch: list[Asked], during_step: bool, step_first: bool) -> None:
        """Several clients at once, perhaps while a control step runs."""

        async def go() -> list[Any]:
            work: list[Any] = [self.handler.handle(name, payload) for _, (name, payload) in batch]
            if during_step:
                work.insert(0 if step_first else len(work), self._cycle())
            return await asyncio.gather(*work)

        answers = [a for a in self.run(go()) if a is not None]
        for (_, (name, _payload)), answer in zip(batch, answers, strict=False):
            self.answer_ok(name, answer)

    @rule(
        hours=st.sampled_from([1.0, 4.5, 9.0, 30.0]),
        wall_days=st.sampled_from([0.0, -3.0, 2.0, 400.0]),
    )
    def clock_jump(self, hours: float, wall_days: float) -> None:
        """The control clock leaps hours ahead (a long stall or suspend); the wall clock jumps."""
        self.clock.jump_wall(wall_days * 86400.0)
        self.clock.advance(hours * 3600.0)
        self.run(self._cycle())

    @rule(
        batch=st.lists(requests, min_size=1, max_size=3),
        yields=st.integers(min_value=0, max_value=4),
        event=st.sampled_from(["refused", "unreachable", "dropped", "connected"]),
    )
    def link_drops(self, batch: list[tuple[str, dict[str, Any]]], yields: int, event: str) -> None:
        """The dial-out link goes mid-request: its requests are cancelled, its state moves."""
        before = self.daemon.gate.states()

        async def go() -> None:
            tasks = [asyncio.create_task(self.handler.handle(n, p)) for n, p in batch]
            for _ in range(yields):
                await asyncio.sleep(0)
            for task in tasks:
                task.cancel()
            for (name, _), result in zip(
                batch, await asyncio.gather(*tasks, return_exceptions=True), strict=True
            ):
                if not isinstance(result, BaseException):
                    self.answer_ok(name, result)
            moved = self.daemon.gate.states()
            if event == "refused":
                await self.link.refused("unauthorized")
            elif event == "unreachable":
                await self.link.unreachable("connection refused")
            elif event == "dropped":
                await self.link.dropped(0.5)
            else:
                await self.link.connected()
            # The link's state alone never switches anything.
            assert self.daemon.gate.states() == moved

        self.run(go())
        assert set(before) == set(self.daemon.gate.states())

    @precondition(lambda self: self.cycles % 7 == 6)
    @rule()
    def watchdog_stalls(self) -> None:
        """The loop stands still past the watchdog's limit: its thread switches everything off."""
        self.real.t += WATCHDOG_S + 1.0
        self.daemon.watchdog.check()
        self.stalled = True

    # -- what must hold after every step ---------------------------------------------------

    @invariant()
    def never_both_on(self) -> None:
        TOTALS["steps"] += 1
        assert not self.problems, self.problems
        states = self.daemon.gate.states()
        assert not (states["heater"] and states["cooler"])

    @invariant()
    def every_change_went_through_the_gate(self) -> None:
        assert [(t, r, on) for t, r, on in self.pins] == [
            (s.at_s, s.relay, s.on) for s in self.gate_log
        ]

    @invariant()
    def minimum_times_held(self) -> None:
        for change in self.gate_log[self.checked :]:
            TOTALS["switches"] += 1
            timing = self.settings.timing(change.relay)
            since, was_on = self.last_change[change.relay]
            assert was_on != change.on
            held = float("inf") if since is None else change.at_s - since
            if change.on:
                assert held >= timing.min_off_s, f"{change} after {held} s off"
            elif held < timing.min_on_s:
                assert change.cause is not Cause.CONTROL, f"{change} after {held} s on"
            if change.cause is Cause.SAFETY:
                TOTALS["safety_offs"] += 1
            self.last_change[change.relay] = (change.at_s, change.on)
        self.checked = len(self.gate_log)

    @invariant()
    def safety_offs_applied_in_the_same_step(self) -> None:
        states = self.daemon.gate.states()
        now = self.clock.monotonic()
        if self.stalled:
            assert not any(states.values()), "a watchdog stall left a relay on"
        faults = self.daemon.state().faults
        if self.cycled:
            sample = self.daemon.probe_samples().get("beer")
            safety = self.settings.safety
            if sample is not None and (
                sample.error is not None
                or sample.temperature is None
                or sample.temperature == DS18B20_RESET_C
                or not safety.probe_min_c <= sample.temperature <= safety.probe_max_c
                or not safety.low_cutoff_c <= sample.temperature <= safety.high_cutoff_c
            ):
                assert not any(states[r] for r in RELAYS), f"beer sample {sample}, relays {states}"
            # Past its maximum run time a relay runs on only while its effect is seen: the
            # chamber probe readable and no no_effect fault of it (else it is locked out).
            unjudged = {
                f.source
                for f in faults
                if f.code is FaultCode.NO_EFFECT
                or (f.code in PROBE_FAULTS and f.source == self.settings.chamber_probe)
            }
            for rid in RELAYS:
                since, on = self.last_change[rid]
                limit = self.settings.timing(rid).max_run_s
                if on and limit is not None and since is not None and now - since > limit:
                    TOTALS["long_runs"] += 1
                    blame = unjudged & {rid, self.settings.chamber_probe}
                    assert not blame, f"{rid} on for {now - since} s with {blame} faults"
        for fault in faults:
            held: tuple[str, ...]
            beer_fault = fault.code in PROBE_FAULTS and fault.source == self.settings.probe
            if beer_fault or fault.code in (FaultCode.HIGH_CUTOFF, FaultCode.LOW_CUTOFF):
                held = RELAYS
            elif fault.code is FaultCode.MAX_RUN_TIME:
                held = (fault.source,)
            elif fault.code is FaultCode.WATCHDOG:
                held = tuple(states)
            else:
                continue
            assert not any(states[r] for r in held), f"{fault.code} active, relays {states}"


@pytest.mark.timeout(1800)
def test_the_control_core_keeps_the_relay_rules() -> None:
    for key in TOTALS:
        TOTALS[key] = 0
    run_state_machine_as_test(
        ControlCore,
        settings=settings(
            max_examples=CASES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            # No "explain" phase: its line tracing makes a failing run take many minutes.
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # Invariants run once before the first step too.
    steps = TOTALS["steps"] - TOTALS["cases"]
    print(
        f"\ncontrol core property: {TOTALS['cases']} cases, {steps} steps, "
        f"{TOTALS['switches']} relay changes ({TOTALS['safety_offs']} safety offs), "
        f"{TOTALS['refusals']} refused requests, {TOTALS['long_runs']} checks of a relay "
        "past its maximum run time"
    )
    assert TOTALS["switches"] > 0


def test_the_checks_see_each_kind_of_safety_off() -> None:
    """The same machine, scripted, so every kind of safety off is checked on every run."""
    core = ControlCore()

    def step(name: str, *args: Any, **kwargs: Any) -> None:
        getattr(core, name)(*args, **kwargs)
        for check in (
            core.never_both_on,
            core.every_change_went_through_the_gate,
            core.minimum_times_held,
            core.safety_offs_applied_in_the_same_step,
        ):
            check()

    def ask(*requests: tuple[str, dict[str, Any]], during_step: bool = False) -> None:
        step("clients_ask", [("web_api", r) for r in requests], during_step, False)

    def heater_on() -> bool:
        return core.daemon.gate.is_on("heater")

    try:
        step("tick", 1.0)
        ask(("set_relay", {"relay": "heater", "on": True}))
        assert heater_on()
        # The beer probe fails while a step runs: off in that very step.
        ask(("simulate", {"probe": "beer", "fault": "disconnected"}), during_step=True)
        assert not heater_on()
        ask(("simulate", {"probe": "beer", "clear": True}))
        step("tick", 1.0)
        step("tick", 121.0)
        ask(("set_relay", {"relay": "heater", "on": True}))
        assert heater_on()
        step("watchdog_stalls")  # off from the watchdog's thread
        assert not heater_on()
        step("tick", 121.0)  # recovered
        ask(("simulate", {"relay": "heater", "broken": True}))
        ask(("set_thermostat", {"mode": "heat", "target": 35.0}))
        step("tick", 5.0)
        assert heater_on()
        step("clock_jump", 4.5, 0.0)  # a dead heater past its 4 h maximum run: locked out
        assert not heater_on()
        assert FaultCode.MAX_RUN_TIME in {f.code for f in core.daemon.state().faults}
        ask(("simulate", {"relay": "heater", "broken": False}), ("set_thermostat", {"mode": "off"}))
        step("tick", 121.0)
        ask(("set_thermostat", {"mode": "heat"}))
        step("tick", 5.0)
        assert heater_on()
        step("clock_jump", 4.5, 0.0)  # a working one runs on past it
        assert heater_on()
        assert core.daemon.state().faults == ()
        ask(("set_thermostat", {"mode": "off"}))
        step("tick", 1800.0)
        ask(("simulate", {"ambient": 60.0}), ("set_relay", {"relay": "heater", "on": True}))
        step("clock_jump", 30.0, 0.0)  # the beer passes the high cut-off
        assert not heater_on()
        causes = [c.cause for c in core.gate_log if not c.on]
        assert causes.count(Cause.SAFETY) >= 4
    finally:
        core.teardown()
