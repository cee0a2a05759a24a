"""Timeline events derived from two successive ``state`` snapshots.

The daemon pushes whole snapshots; pages want "heater on at 18:02", "target
19 → 20 °C", "profile step 2", so the recorder stores what changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from beerpi_protocol.models import State

from .store import Event, EventKind
from .timefmt import now, parse_iso


def _when(state: State) -> datetime:
    if state.timestamp:
        try:
            return parse_iso(state.timestamp)
        except ValueError:
            pass
    return now()


def state_events(device: str, previous: State | None, state: State) -> Iterator[Event]:
    """Nothing for the first snapshot of a link: it is a baseline, not a change."""
    if previous is None:
        return
    when = _when(state)
    for relay_id, relay in state.relays.items():
        before = previous.relays.get(relay_id)
        if before is not None and before.on != relay.on:
            data = {"relay": relay_id, "on": relay.on, "controlled_by": relay.controlled_by}
            yield Event(device, when, EventKind.RELAY, data)
    old, new = previous.thermostat, state.thermostat
    if old.mode != new.mode:
        yield Event(
            device,
            when,
            EventKind.MODE,
            {"mode": _value(new.mode), "previous": _value(old.mode)},
        )
    if old.target != new.target:
        yield Event(device, when, EventKind.TARGET, {"target": new.target, "previous": old.target})
    old_step = None if old.profile is None else (old.profile.name, old.profile.step)
    new_step = None if new.profile is None else (new.profile.name, new.profile.step)
    if new_step is not None and new_step != old_step:
        assert new.profile is not None
        yield Event(
            device,
            when,
            EventKind.PROFILE_STEP,
            {
                "profile": new.profile.name,
                "step": new.profile.step,
                "finished": new.profile.finished,
            },
        )


def _value(mode: object) -> str | None:
    return None if mode is None else str(mode)
