"""The one gate every relay change goes through.

``RelayRules`` says what may switch and when; it is pure and shared by the
gate, which enforces it, and the thermostat, which plans with it. ``RelayGate``
owns the relays: the thermostat's decisions, a switch by hand from any client,
safety offs (probe faults, cut-offs, max-run lock-outs), the watchdog and
shutdown all switch through it, so the rules hold on every path:

- Off is always allowed at once, except that the thermostat's own
  decisions keep a relay on for its minimum on time.
- On is refused while a hold is in force (a fault, the watchdog, shutdown),
  while the relay is locked out after its maximum run time, while it rests
  its minimum off time, and while its interlocked partner is on (heater and
  cooler are never on together). The thermostat's decisions also wait the
  changeover time after the partner stopped.
- Offs are applied before ons, so the interlock holds even for an instant.

The gate is thread-safe: the watchdog thread switches relays off through it
while the event loop may be blocked.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from beerpi_protocol import ErrorCode
from pi_daemon.hardware.base import Relay
from pi_daemon.text import duration

from .guard import RelayGuard
from .limits import RelayTiming

_LOGGER = logging.getLogger(__name__)


class Cause(enum.Enum):
    """Who asks for a switch; it decides which rules apply."""

    CONTROL = "thermostat"  # the thermostat's own decisions
    MANUAL = "by hand"  # a person: set_relay from any client, or a mode change
    SAFETY = "safety"  # a fault, a cut-off, a max-run lock-out, the watchdog, shutdown


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a switch was refused, for people; ``code`` is the request's error code."""

    code: ErrorCode
    message: str
    wait_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Switch:
    """One relay change the gate made."""

    relay: str
    on: bool
    at_s: float
    cause: Cause
    reason: str


class RelayRules:
    """Guards, the interlock, the changeover and the holds: what may switch now."""

    def __init__(
        self,
        guards: Mapping[str, RelayGuard],
        *,
        interlock: tuple[str, str] | None = None,
        changeover_s: float = 0.0,
    ) -> None:
        self.guards = dict(guards)
        self._partner: dict[str, str] = {}
        if interlock is not None:
            first, second = interlock
            self._partner = {first: second, second: first}
        self.changeover_s = changeover_s
        # relay -> holder ("thermostat", "watchdog", "shutdown") -> why it is held off
        self._holds: dict[str, dict[str, str]] = {rid: {} for rid in self.guards}

    @classmethod
    def build(
        cls,
        timings: Mapping[str, RelayTiming],
        *,
        start_s: float,
        resting: Iterable[str] = (),
        interlock: tuple[str, str] | None = None,
        changeover_s: float = 0.0,
    ) -> RelayRules:
        """Fresh guards; relays in ``resting`` rest their minimum off time from ``start_s``."""
        rest = set(resting)
        guards = {
            rid: RelayGuard(timing, since_s=start_s if rid in rest else None)
            for rid, timing in timings.items()
        }
        return cls(guards, interlock=interlock, changeover_s=changeover_s)

    def partner(self, relay: str) -> str | None:
        return self._partner.get(relay)

    def is_on(self, relay: str) -> bool:
        guard = self.guards.get(relay)
        return guard is not None and guard.is_on

    # -- holds -------------------------------------------------------------------

    def set_holds(self, holder: str, reasons: Mapping[str, str]) -> None:
        """``holder`` now holds exactly these relays off (relay -> why); others are let go."""
        for rid, held in self._holds.items():
            if rid in reasons:
                held[holder] = reasons[rid]
            else:
                held.pop(holder, None)

    def held(self, relay: str) -> str | None:
        """Why ``relay`` is held off, None when it is not."""
        held = self._holds.get(relay)
        if not held:
            return None
        return next(iter(held.values()))

    def clear_lockouts(self) -> None:
        """A person changed the mode: max-run lock-outs clear."""
        for guard in self.guards.values():
            guard.clear_trip()

    # -- the rules ---------------------------------------------------------------

    def refuse_on(self, relay: str, now_s: float, cause: Cause) -> Refusal | None:
        guard = self.guards[relay]
        if guard.is_on:
            return None
        partner = self.partner(relay)
        if partner is not None and self.is_on(partner):
            return Refusal(ErrorCode.INTERLOCK, f"{partner} is on: switch it off first")
        if guard.locked(now_s):
            wait = guard.locked_for(now_s)
            return Refusal(
                ErrorCode.RELAY_LOCKED_OUT,
                f"{relay} is locked out after running longer than its maximum run time; "
                f"it may switch on again in {duration(wait)}",
                wait,
            )
        why = self.held(relay)
        if why is not None:
            return Refusal(ErrorCode.RELAY_LOCKED_OUT, f"{relay} is held off: {why}")
        allowed, wait = guard.can_switch(now_s, True)
        if not allowed:
            return Refusal(
                ErrorCode.RELAY_LOCKED_OUT,
                f"{relay} must rest {duration(wait)} more (minimum off time)",
                wait,
            )
        if cause is Cause.CONTROL and partner is not None:
            stopped = self.guards[partner].ran_until_s
            if stopped is not None:
                wait = self.changeover_s - (now_s - stopped)
                if wait > 0:
                    return Refusal(
                        ErrorCode.RELAY_LOCKED_OUT,
                        f"{relay} waits {duration(wait)} after the {partner} (changeover)",
                        wait,
                    )
        return None

    def refuse_off(self, relay: str, now_s: float, cause: Cause) -> Refusal | None:
        if cause is not Cause.CONTROL:
            return None  # a person or a safety rule: off at once
        left = self.guards[relay].min_on_left(now_s)
        if left > 0:
            return Refusal(
                ErrorCode.RELAY_LOCKED_OUT,
                f"{relay} finishing its minimum on time ({duration(left)} left)",
                left,
            )
        return None

    def refuse(self, relay: str, on: bool, now_s: float, cause: Cause) -> Refusal | None:
        if on:
            return self.refuse_on(relay, now_s, cause)
        return self.refuse_off(relay, now_s, cause)

    def manual_wait_s(self, relay: str, now_s: float) -> float:
        """How long before ``relay`` may be switched on by hand by its own rules (0: now)."""
        guard = self.guards.get(relay)
        if guard is None or guard.is_on:
            return 0.0
        return guard.can_switch(now_s, True)[1]


class RelayGate:
    """Owns the relays; see the module docstring."""

    def __init__(
        self, relays: Mapping[str, Relay], rules: RelayRules, now: Callable[[], float]
    ) -> None:
        missing = set(relays) - set(rules.guards)
        if missing:
            raise ValueError(f"no relay rules for {', '.join(sorted(missing))}")
        self._relays = dict(relays)
        self.rules = rules
        self._now = now
        self._lock = threading.Lock()
        # Observers of every change (the daemon persists the history; tests check it).
        self.listeners: list[Callable[[Switch], None]] = []

    @property
    def relay_ids(self) -> tuple[str, ...]:
        return tuple(self._relays)

    def is_on(self, relay: str) -> bool:
        """The relay as the hardware reports it."""
        return self._relays[relay].is_on

    def states(self) -> dict[str, bool]:
        return {rid: relay.is_on for rid, relay in self._relays.items()}

    # -- switching -----------------------------------------------------------------

    def switch(
        self, relay: str, on: bool, now_s: float, cause: Cause, reason: str = ""
    ) -> Refusal | None:
        """Switch one relay if the rules allow it; the refusal says why not."""
        with self._lock:
            return self._switch(relay, on, now_s, cause, reason)

    def apply(
        self, wanted: Mapping[str, bool], now_s: float, cause: Cause, reason: str = ""
    ) -> dict[str, Refusal]:
        """Several relays at once, offs first; returns the refusals."""
        refused: dict[str, Refusal] = {}
        with self._lock:
            for rid, on in sorted(wanted.items(), key=lambda item: item[1]):
                refusal = self._switch(rid, on, now_s, cause, reason)
                if refusal is not None:
                    refused[rid] = refusal
        return refused

    def hold(self, holder: str, reasons: Mapping[str, str], now_s: float) -> None:
        """``holder`` holds these relays off (relay -> why): off now, on refused until let go."""
        with self._lock:
            self._hold(holder, reasons, now_s)

    def release(self, holder: str) -> None:
        with self._lock:
            self.rules.set_holds(holder, {})

    def emergency_off(self, holder: str, reason: str) -> None:
        """Every relay off and held, from any thread (the watchdog, shutdown).

        If the lock cannot be had (the event loop hung inside a relay call), the
        relays are switched off anyway: a stuck driver must not keep them on.
        """
        locked = self._lock.acquire(timeout=0.5)
        try:
            now_s = self._now()
            if locked:
                self._hold(holder, dict.fromkeys(self._relays, reason), now_s)
                return
            _LOGGER.error("relay gate busy; switching relays off without it (%s)", reason)
            self.rules.set_holds(holder, dict.fromkeys(self._relays, reason))
            for relay in self._relays.values():
                try:
                    relay.off()
                except Exception:
                    _LOGGER.exception("could not switch %s off", relay.id)
        finally:
            if locked:
                self._lock.release()

    # -- under the lock ---------------------------------------------------------------

    def _hold(self, holder: str, reasons: Mapping[str, str], now_s: float) -> None:
        self.rules.set_holds(holder, {r: why for r, why in reasons.items() if r in self._relays})
        for rid, why in reasons.items():
            if rid in self._relays:
                self._switch(rid, False, now_s, Cause.SAFETY, why)

    def _switch(
        self, relay_id: str, on: bool, now_s: float, cause: Cause, reason: str
    ) -> Refusal | None:
        relay = self._relays[relay_id]
        guard = self.rules.guards[relay_id]
        partner = self.rules.partner(relay_id)
        for rid in (relay_id, partner):
            if rid in self._relays and self._relays[rid].is_on != self.rules.guards[rid].is_on:
                self.rules.guards[rid].record(now_s, self._relays[rid].is_on)  # hardware wins
        if relay.is_on == on:
            return None
        refusal = self.rules.refuse(relay_id, on, now_s, cause)
        if refusal is not None:
            return refusal
        try:
            if on:
                relay.on()
            else:
                relay.off()
        except Exception:
            _LOGGER.exception("could not switch %s %s", relay_id, "on" if on else "off")
        if on and (why := self.rules.held(relay_id)) is not None:
            # Held while the driver was switching it on: the watchdog's emergency off does
            # not wait for this lock when the loop hangs in a relay call. The hold wins.
            try:
                relay.off()
            except Exception:
                _LOGGER.exception("could not switch %s off", relay_id)
            guard.record(now_s, relay.is_on)
            return Refusal(ErrorCode.RELAY_LOCKED_OUT, f"{relay_id} is held off: {why}")
        if relay.is_on != on:
            guard.record(now_s, relay.is_on)
            return Refusal(ErrorCode.INTERNAL_ERROR, f"{relay_id} did not switch; see the log")
        guard.record(now_s, on)
        change = Switch(relay_id, on, now_s, cause, reason)
        why = f"{cause.value}: {reason}" if reason else cause.value
        _LOGGER.info("%s %s (%s)", relay_id, "on" if on else "off", why)
        for listener in list(self.listeners):
            try:
                listener(change)
            except Exception:
                _LOGGER.exception("relay listener failed")
        return None
