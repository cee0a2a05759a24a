"""The daemon's core: read the probes, run the thermostat, switch relays, record, publish.

One loop, one read period at a time. Everything it learns becomes a protocol
``State`` that is published to every transport (the socket.io server, and the
dial-out link when configured) after each read and after each command, when
any of them has a listener: with nobody connected the daemon reads and
controls but builds no state nobody would receive (a client gets one on
connecting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from beerpi_protocol import (
    DeviceInfo,
    Event,
    FaultCode,
    FaultInfo,
    MediaInfo,
    ProbeState,
    ReadingsPage,
    RelayState,
    State,
)
from beerpi_protocol.timestamps import iso

from .clock import Clock
from .config import DaemonConfig
from .control import ControlDecision, ProbeSample
from .control_adapter import DaemonThermostat
from .gravity import GravityError, HydrometerBook, HydrometerSource
from .gravity.store import GravityStoreError, gravity_document, load_gravity, save_gravity
from .hardware.base import Camera, Probe, ProbeError, Relay
from .media import MediaStore
from .outbox import NewReading, Outbox, OutboxError
from .safety import Cause, RelayGate, Switch
from .safety.history import REFRESH_S, history_document, save_history
from .safety.limits import probe_read_timeout_s
from .safety.supervisor import HOLDER
from .safety.watchdog import Watchdog
from .set_aside import SetAside, set_aside

_LOGGER = logging.getLogger(__name__)

# Clock seconds between writes of gravity.json (see keep_gravity).
GRAVITY_SAVE_S = 600.0
# The data dir's stores whose failed writes raise the `storage` fault.
OUTBOX_STORE = "outbox"
HISTORY_STORE = "relay history"
THERMOSTAT_STORE = "thermostat settings"
# The outbox's file could not be opened at start: in memory until a restart.
OUTBOX_FILE_STORE = "outbox file"

Publisher = Callable[[str, dict[str, Any]], Awaitable[None]]
# Whether a publisher has anyone to send to right now.
Audience = Callable[[], bool]


@dataclass
class Hardware:
    """What the daemon drives, built once from the config (real or simulated)."""

    probes: dict[str, Probe]
    relays: dict[str, Relay]
    camera: Camera | None
    # The simulated fermenter and probes, for the `simulate` request; None on hardware.
    simulation: Any = None
    names: dict[str, str] = field(default_factory=dict)
    # Tilts over Bluetooth, the simulated Tilt: polled once per control step.
    hydrometers: list[HydrometerSource] = field(default_factory=list)

    async def start_hydrometers(self) -> None:
        for source in self.hydrometers:
            await source.start()

    async def close_hydrometers(self) -> None:
        for source in self.hydrometers:
            try:
                await source.close()
            except Exception:
                _LOGGER.exception("could not stop a hydrometer source")

    async def checkpoint(self) -> None:
        """Let the simulation keep its state on disk (nothing to keep on real hardware)."""
        if self.simulation is not None:
            await self.simulation.checkpoint()

    def close(self) -> None:
        """Relays off first (the gate has switched them off already): every exit path."""
        for relay in self.relays.values():
            try:
                relay.close()
            except Exception:
                _LOGGER.exception("could not switch relay %s off", relay.id)
        if self.simulation is not None:
            self.simulation.save()
        for probe in self.probes.values():
            with contextlib.suppress(Exception):
                probe.close()
        if self.camera is not None:
            with contextlib.suppress(Exception):
                self.camera.close()


class Daemon:
    def __init__(
        self,
        config: DaemonConfig,
        hardware: Hardware,
        clock: Clock,
        outbox: Outbox,
        media: MediaStore,
        device: DeviceInfo,
        thermostat: DaemonThermostat,
    ) -> None:
        self.config = config
        self.hardware = hardware
        self.clock = clock
        self.outbox = outbox
        self.media = media
        self.device = device
        self.thermostat = thermostat
        self._publishers: list[tuple[Publisher, Audience]] = []
        self._samples: dict[str, ProbeSample] = {}
        self._probe_states: dict[str, ProbeState] = {
            probe_id: ProbeState() for probe_id in hardware.probes
        }
        self._faults: dict[tuple[str, str], FaultInfo] = {}
        self._extra_faults: dict[tuple[str, str], FaultInfo] = {}
        self._last_record_s: float | None = None
        self._latest_photo: MediaInfo | None = None
        self.gravity = HydrometerBook()
        self.gravity_path = config.storage.data_dir / "gravity.json"
        # Files moved aside at start-up (here gravity.json; app.py adds the others).
        self.set_aside: list[SetAside] = []
        try:
            self.gravity.restore(*load_gravity(self.gravity_path))
        except GravityStoreError as err:
            self.set_aside.append(
                set_aside(
                    self.gravity_path,
                    str(err),
                    "the hydrometers' gravity starts anew (a step waiting on stable "
                    "gravity waits a full window again)",
                    now=clock.now(),
                )
            )
        self._gravity_saved = self.gravity.changes
        self._gravity_saved_s: float | None = None
        self._gravity_failing = False
        self._camera_lock = asyncio.Lock()
        self._lock = asyncio.Lock()  # one control step or command at a time
        # Every relay change goes through the gate (see pi_daemon/safety).
        self.gate = RelayGate(hardware.relays, thermostat.rules, clock.monotonic)
        self._history_dirty = False
        # When the history was last written (or tried): it is rewritten every REFRESH_S,
        # so that a restart can tell a current file from a stale one.
        self._history_saved_s: float | None = None
        # What in the data dir cannot be written now -> why: one `storage` fault says all
        # (the relay history warns only as it enters this, once per spell).
        self._storage_errors: dict[str, str] = {}
        self.gate.listeners.append(self._switched)
        self.watchdog = Watchdog(
            config.watchdog_s, on_stall=self.on_watchdog_stall, on_recover=self.on_watchdog_recover
        )
        self._watchdog_fault: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Task[None]] = set()
        # Set once the safety rules have judged the probes: until then no probe fault or
        # cut-off holds a relay, so nothing may be served (app.py waits for it).
        self.assessed = asyncio.Event()
        latest = media.latest("photo")
        if latest is not None:
            self._latest_photo = latest.info()

    # -- publishing ----------------------------------------------------------

    def add_publisher(self, publisher: Publisher, audience: Audience) -> Callable[[], None]:
        """``audience()`` says whether ``publisher`` has anyone to send to at the moment."""
        entry = (publisher, audience)
        self._publishers.append(entry)
        return lambda: self._publishers.remove(entry)

    def has_audience(self) -> bool:
        return any(audience() for _publisher, audience in self._publishers)

    async def publish(self, event: Event, payload: dict[str, Any]) -> None:
        for publisher, audience in list(self._publishers):
            if not audience():
                continue
            try:
                await publisher(event.value, payload)
            except Exception:
                _LOGGER.exception("publishing %s failed", event.value)

    def state(self) -> State:
        relays_on = self.gate.states()
        controlled = self.thermostat.controlled_relays()
        now_s = self.clock.monotonic()
        now = self.clock.now()
        rules = self.gate.rules
        return State(
            timestamp=iso(now),
            probes=dict(self._probe_states),
            relays={
                rid: RelayState(
                    on=on,
                    controlled_by="thermostat" if rid in controlled else None,
                    locked_for_s=round(rules.manual_wait_s(rid, now_s), 1),
                )
                for rid, on in relays_on.items()
            },
            thermostat=self.thermostat.to_state(now),
            faults=tuple(self._faults.values()) + tuple(self._extra_faults.values()),
            latest_photo=self._latest_photo,
            hydrometers=self.gravity.readings(),
        )

    async def publish_state(self) -> None:
        """The state to every listener; with none, not even built (the idle daemon's cost)."""
        if self.has_audience():
            await self.publish(Event.STATE, self.state().to_dict())

    # -- the watchdog --------------------------------------------------------

    def start_watchdog(self) -> None:
        """Start the watchdog thread; call from the event loop."""
        self._loop = asyncio.get_running_loop()
        self.watchdog.start()

    def stop_watchdog(self) -> None:
        self.watchdog.stop()

    def on_watchdog_stall(self, stalled_s: float) -> None:
        """In the watchdog's thread, the event loop perhaps blocked: relays off now."""
        message = (
            f"control loop stalled for {stalled_s:.1f} s (limit {self.watchdog.limit_s:g} s): "
            "every relay off"
        )
        self.gate.emergency_off("watchdog", message)
        # The fault goes out as soon as the loop runs (at once if only the control task hung).
        self._watchdog_fault = message
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._push_watchdog_fault)

    def on_watchdog_recover(self) -> None:
        """In the loop: a control step that began after the stall has completed."""
        self._push_watchdog_fault()
        self.gate.release("watchdog")
        self._spawn(self.set_extra_fault("thermostat", FaultCode.WATCHDOG, None))

    def _push_watchdog_fault(self) -> None:
        message, self._watchdog_fault = self._watchdog_fault, None
        if message is not None:
            self._spawn(self.set_extra_fault("thermostat", FaultCode.WATCHDOG, message))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- the loop ------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Read, control, record and publish each period until ``stop`` is set."""
        period_s = self.read_period_s()
        next_s = self.clock.monotonic()
        while not stop.is_set():
            await self.cycle()
            next_s += period_s
            delay = next_s - self.clock.monotonic()
            if delay < 0:  # fell behind (slow probes): do not try to catch up in a burst
                next_s = self.clock.monotonic()
                delay = 0
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for wraps stop.wait()
            # in a task it then cancels, a task made and thrown away every period.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay / self.clock.speed):
                    await stop.wait()

    def read_period_s(self) -> float:
        """Clock seconds between reads; at most ~20 reads per real second at high --sim-speed."""
        return max(self.config.sampling.read_interval_s, self.clock.speed * 0.05)

    async def cycle(self) -> None:
        started = self.watchdog.now()
        self._push_watchdog_fault()
        samples = await self._read_probes()
        async with self._lock:
            self._samples.update(samples)
            self._collect_gravity()
            await self._control()
        self.assessed.set()
        self.watchdog.feed(started)
        await self._record()
        await self.keep_history()
        await self.keep_gravity()
        await self.keep_thermostat()
        await self.publish_state()

    async def _read_probes(self) -> dict[str, ProbeSample]:
        probes = self.hardware.probes
        results = await asyncio.gather(
            *(self._read_one(probe) for probe in probes.values()), return_exceptions=False
        )
        return dict(zip(probes, results, strict=True))

    async def _read_one(self, probe: Probe) -> ProbeSample:
        timeout_s = probe_read_timeout_s(
            self.watchdog.limit_s, self.read_period_s() / self.clock.speed
        )
        try:
            async with asyncio.timeout(timeout_s):
                value = await probe.read()
        except ProbeError as err:
            _LOGGER.debug("probe %s: %s", probe.id, err.message)
            return ProbeSample(None, err.code, self.clock.monotonic())
        except TimeoutError:
            return ProbeSample(None, FaultCode.DISCONNECTED, self.clock.monotonic())
        except Exception:  # a backend bug must not stop the thermostat
            _LOGGER.exception("probe %s read failed", probe.id)
            return ProbeSample(None, FaultCode.DISCONNECTED, self.clock.monotonic())
        if not math.isfinite(value):
            return ProbeSample(None, FaultCode.OUT_OF_RANGE, self.clock.monotonic())
        return ProbeSample(value, None, self.clock.monotonic())

    def _collect_gravity(self) -> None:
        now = self.clock.now()
        for source in self.hardware.hydrometers:
            try:
                readings = source.poll(now)
            except Exception:  # a backend bug must not stop the thermostat
                _LOGGER.exception("hydrometer poll failed")
                continue
            for reading in readings:
                try:
                    self.gravity.add(reading)
                except GravityError as err:
                    _LOGGER.debug("hydrometer %s: %s", reading.id, err)

    async def control_now(self) -> None:
        """A control step outside the loop (after a command); the caller holds command_lock."""
        await self._control()

    async def _control(self) -> None:
        """One thermostat step on the latest samples; its holds and relays go to the gate."""
        now_s = self.clock.monotonic()
        now = self.clock.now()
        self.thermostat.end_step_on_gravity(now, self.gravity.history)
        decision = self.thermostat.step(now_s, now, self._samples, self.gate.states())
        self._apply(decision, now_s)
        self._update_probe_states(now)
        await self._set_faults(
            {
                (f.source, f.code.value if f.code else ""): f
                for f in self.thermostat.faults(decision)
            },
            now,
        )

    def _apply(self, decision: ControlDecision, now_s: float) -> None:
        # The safety verdict first: those relays go off in this very step.
        self.gate.hold(HOLDER, decision.holds, now_s)
        wanted = {rid: on for rid, on in decision.relays.items() if rid in self.hardware.relays}
        refused = self.gate.apply(wanted, now_s, Cause.CONTROL, decision.reason)
        for rid, refusal in refused.items():
            # The thermostat plans with the gate's rules; a refusal here is a bug, not a risk.
            _LOGGER.warning("the gate kept %s as it was: %s", rid, refusal.message)

    def release(self, relays: tuple[str, ...]) -> None:
        """Switch off relays the thermostat stopped driving (a person changed its mode)."""
        now_s = self.clock.monotonic()
        for rid in relays:
            if rid in self.hardware.relays:
                self.gate.switch(rid, False, now_s, Cause.MANUAL, "thermostat mode changed")

    def shutdown_relays(self) -> None:
        """Every relay off and held, for good: the daemon is stopping."""
        self.gate.emergency_off("shutdown", "the daemon is stopping")

    def _switched(self, change: Switch) -> None:
        self._history_dirty = True

    async def keep_history(self, *, now: bool = False) -> None:
        """Keep the relays' last switches on disk (a restart keeps rests and changeover).

        Written after each switch, at least every REFRESH_S and when ``now`` (as the
        daemon stops): its ``saved_at`` tells a restart the file is current. A
        failed write raises the `storage` fault until a write succeeds: the file is
        stale meanwhile, and a restart then knows less than it should (see
        pi_daemon/safety/history.py for what still holds).
        """
        now_s = self.clock.monotonic()
        last_s = self._history_saved_s
        due = last_s is None or now_s - last_s >= self._save_every_s(REFRESH_S)
        if not (self._history_dirty or due or now):
            return
        self._history_dirty = False
        self._history_saved_s = now_s
        path = self.thermostat.history_path
        document = history_document(self.gate.rules.guards, now_s, self.clock.now())
        try:
            await asyncio.to_thread(save_history, path, document)
        except OSError as err:
            self._history_dirty = True  # try again next step; warn once per spell
            failing = HISTORY_STORE in self._storage_errors
            log = _LOGGER.debug if failing else _LOGGER.warning
            log("cannot keep the relay history: %s", err)
            await self._storage_failing(HISTORY_STORE, f"cannot write the relay history: {err}")
        else:
            await self._storage_failing(HISTORY_STORE, None)

    async def keep_thermostat(self) -> None:
        """Store thermostat settings applied while the data dir refused them (a mode off).

        Raises the `storage` fault while they are not on disk (a restart meanwhile
        would return to the stored mode) and clears it once they are.
        """
        thermostat = self.thermostat
        if thermostat.unsaved is None and THERMOSTAT_STORE not in self._storage_errors:
            return
        async with self._lock:
            try:
                thermostat.save_unsaved()
            except OSError as err:
                await self._storage_failing(
                    THERMOSTAT_STORE, f"cannot store the thermostat settings: {err}"
                )
                return
        await self._storage_failing(THERMOSTAT_STORE, None)

    async def thermostat_unsaved(self, error: str) -> None:
        """A request applied thermostat settings the data dir refused (see keep_thermostat)."""
        await self._storage_failing(THERMOSTAT_STORE, error)

    def _save_every_s(self, clock_s: float) -> float:
        """``clock_s`` between writes of a file kept on disk, and two real seconds at
        least at a high --sim-speed (each write is fsync'd)."""
        return max(clock_s, self.clock.speed * 2.0)

    async def files_were_set_aside(self, records: Iterable[SetAside]) -> None:
        """Raise the `storage` fault for each file moved aside at start; a restart clears it."""
        for record in records:
            await self._storage_failing(f"set aside: {record.path.name}", record.message())

    async def outbox_file_unusable(self, why: str) -> None:
        """Raise the `storage` fault for an outbox kept in memory; only a restart clears it."""
        await self._storage_failing(OUTBOX_FILE_STORE, why)

    async def _storage_failing(self, store: str, error: str | None) -> None:
        """``store`` cannot be written (``error``) or can again (None).

        One `storage` fault covers the data dir: raised while any store fails,
        its message says which, cleared once every one is written again.
        """
        if error is None:
            self._storage_errors.pop(store, None)
        else:
            self._storage_errors[store] = error
        message = "; ".join(self._storage_errors.values()) or None
        await self.set_extra_fault("storage", FaultCode.STORAGE, message)

    async def keep_gravity(self, *, now: bool = False) -> None:
        """Keep the gravity book on disk (a restart keeps a stability window going).

        At most every ``GRAVITY_SAVE_S`` of the clock (and two real seconds at a
        high --sim-speed), unless ``now`` (shutdown): a power cut loses that
        much gravity at worst, a hole the conditions' hourly slices ride over.
        """
        changes = self.gravity.changes
        if changes == self._gravity_saved:
            return
        now_s = self.clock.monotonic()
        last_s = self._gravity_saved_s
        if not now and last_s is not None and now_s - last_s < self._save_every_s(GRAVITY_SAVE_S):
            return
        document = gravity_document(self.gravity.readings(), self.gravity.histories())
        try:
            await asyncio.to_thread(save_gravity, self.gravity_path, document)
        except OSError as err:
            log = _LOGGER.debug if self._gravity_failing else _LOGGER.warning
            log("cannot keep the gravity history: %s", err)
            self._gravity_failing = True
            return
        self._gravity_failing = False
        self._gravity_saved, self._gravity_saved_s = changes, now_s

    def _update_probe_states(self, now: datetime) -> None:
        faulty = self.thermostat.probe_faults()
        for probe_id, sample in self._samples.items():
            fault = faulty.get(probe_id)
            previous = self._probe_states.get(probe_id, ProbeState())
            if fault is None and sample.temperature is not None:
                self._probe_states[probe_id] = ProbeState(
                    temperature=round(sample.temperature, 3),
                    timestamp=iso(self._sample_time(sample, now)),
                )
            else:
                self._probe_states[probe_id] = ProbeState(
                    temperature=None, timestamp=previous.timestamp, fault=fault
                )

    def _sample_time(self, sample: ProbeSample, now: datetime) -> datetime:
        return now - timedelta(seconds=max(0.0, self.clock.monotonic() - sample.at_s))

    async def _set_faults(self, faults: dict[tuple[str, str], FaultInfo], now: datetime) -> None:
        raised = [f for key, f in faults.items() if key not in self._faults]
        cleared = [f for key, f in self._faults.items() if key not in faults]
        self._faults = faults
        for fault in raised:
            _LOGGER.warning("fault raised: %s %s: %s", fault.source, fault.code, fault.message)
            await self.publish(Event.FAULT, fault.to_dict())
        for fault in cleared:
            _LOGGER.info("fault cleared: %s %s", fault.source, fault.code)
            cleared_info = FaultInfo(
                source=fault.source,
                code=fault.code,
                message=fault.message,
                since=iso(now),
                active=False,
            )
            await self.publish(Event.FAULT, cleared_info.to_dict())

    async def set_extra_fault(self, source: str, code: FaultCode, message: str | None) -> None:
        """Raise (message given) or clear (None) a fault from outside the thermostat.

        A raised fault given a new message keeps its time and says the new one in
        the next state (no new event: it is the same fault).
        """
        key = (source, code.value)
        now = iso(self.clock.now())
        raised = self._extra_faults.get(key)
        if message is not None and raised is not None and raised.message != message:
            self._extra_faults[key] = replace(raised, message=message)
        elif message is not None and raised is None:
            fault = FaultInfo(source=source, code=code, message=message, since=now)
            self._extra_faults[key] = fault
            _LOGGER.warning("fault raised: %s %s: %s", source, code.value, message)
            await self.publish(Event.FAULT, fault.to_dict())
        elif message is None and key in self._extra_faults:
            fault = self._extra_faults.pop(key)
            _LOGGER.info("fault cleared: %s %s", source, code.value)
            cleared = FaultInfo(
                source=source, code=code, message=fault.message, since=now, active=False
            )
            await self.publish(Event.FAULT, cleared.to_dict())

    async def _record(self) -> None:
        now_s = self.clock.monotonic()
        interval = self.config.record_interval_s
        if self._last_record_s is not None and now_s - self._last_record_s < interval:
            return
        self._last_record_s = now_s
        await self.hardware.checkpoint()
        now = self.clock.now()
        batch = [
            NewReading(probe_id, self._sample_time(self._samples[probe_id], now), state.temperature)
            for probe_id, state in self._probe_states.items()
            if state.temperature is not None and probe_id in self._samples
        ]
        if not batch:
            return
        try:
            stored = await self.outbox.append(batch, now)
        except OutboxError as err:
            # Control goes on without history: the beer matters more than the graph.
            await self._storage_failing(OUTBOX_STORE, str(err))
            return
        await self._storage_failing(OUTBOX_STORE, None)
        page = ReadingsPage(readings=stored, cursor=str(stored[-1].seq))
        await self.publish(Event.READINGS, page.to_dict())

    # -- commands (called by the request handler) -----------------------------

    def set_latest_photo(self, info: MediaInfo) -> None:
        self._latest_photo = info

    @property
    def camera_lock(self) -> asyncio.Lock:
        return self._camera_lock

    @property
    def command_lock(self) -> asyncio.Lock:
        return self._lock

    def caption(self) -> list[str]:
        lines = [iso(self.clock.now())]
        for probe_id, state in self._probe_states.items():
            name = self.hardware.names.get(probe_id, probe_id)
            value = "fault" if state.temperature is None else f"{state.temperature:.2f} °C"
            lines.append(f"{name}: {value}")
        return lines

    def probe_samples(self) -> Mapping[str, ProbeSample]:
        return self._samples
