"""The relays' last switches on disk, so that a restart keeps their rests and the changeover.

Without it a restart forgets that the cooler just ran (the heater would start
at once on the cold air, against the changeover). Times are stored as
wall-clock instants and turned back into control-clock seconds at start-up; a
relay that was on when the daemon stopped counts as switched off at start-up.
A missing or unreadable file means no history.

The file may also be stale: written after each switch, it stops changing when
the data dir refuses writes (a full SD card, a file system remounted
read-only), and a power blip may come before anyone notices. The daemon
therefore writes it at least every REFRESH_S, with the time it did
(``saved_at``): one saved within FRESH_S of start-up was being written until
just before, and is trusted. Any other (older, no ``saved_at``, a clock that
went back) only ever adds waits: the relays in ``may_have_run`` (those the
thermostat drove when it stopped) count as having run until start-up, so their
interlocked partner waits the changeover from then. Whatever the file, the
relays in ``resting`` (the compressor) rest their minimum off time from
start-up, as after a power cut. A longer wait the file records is kept: each
time is the later of the two. No file at all is a first start (a switch writes
it): no relay ran, nothing waits the changeover.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from beerpi_protocol.timestamps import iso, parse_iso
from pi_daemon.files import write_atomic

from .guard import RelayGuard
from .limits import RelayTiming

_LOGGER = logging.getLogger(__name__)
FORMAT_VERSION = 1
# Older than this, a switch no longer matters for any rest or changeover.
FORGET_AFTER_S = 86_400.0
# The daemon rewrites the file at least this often, switches or not ...
REFRESH_S = 60.0
# ... so one saved less than this before start-up is current: a restart (the
# daemon writes it as it stops), or a power blip while the data dir took writes.
FRESH_S = 3 * REFRESH_S


def history_document(
    guards: Mapping[str, RelayGuard], now_s: float, now_wall: datetime
) -> dict[str, Any]:
    def wall(at_s: float | None) -> str | None:
        return None if at_s is None else iso(now_wall - timedelta(seconds=now_s - at_s))

    return {
        "version": FORMAT_VERSION,
        "saved_at": iso(now_wall),
        "relays": {
            rid: {"on": g.is_on, "since": wall(g.since_s), "ran_until": wall(g.ran_until_s)}
            for rid, g in guards.items()
        },
    }


def save_history(path: Path, document: Mapping[str, Any]) -> None:
    write_atomic(path, json.dumps(document, indent=1) + "\n")


def _read(path: Path) -> dict[str, Any]:
    """The file's document; {} when missing, unreadable or of another format."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        _LOGGER.warning("ignoring the relay history %s: %s", path, err)
        return {}
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        _LOGGER.warning("ignoring the relay history %s: unknown format", path)
        return {}
    return document


def _fresh(document: Mapping[str, Any], now_wall: datetime) -> bool:
    """Saved within FRESH_S before ``now_wall`` (a clock that went back: not fresh)."""
    saved = document.get("saved_at")
    if not isinstance(saved, str):
        return False
    try:
        ago = (now_wall - parse_iso(saved)).total_seconds()
    except ValueError:
        return False
    return 0.0 <= ago <= FRESH_S


def load_guards(
    path: Path,
    timings: Mapping[str, RelayTiming],
    *,
    start_s: float,
    now_wall: datetime,
    resting: Iterable[str],
    may_have_run: Iterable[str] = (),
) -> dict[str, RelayGuard]:
    """A guard per relay, carrying on from the stored history (all off at start-up).

    ``resting``: relays that rest their minimum off time from ``start_s`` whatever
    the history says. ``may_have_run``: relays that may have run until ``start_s``
    unless the history is fresh (their partner's changeover counts from then;
    their own rest does not, unless they are also in ``resting``), or there is no
    file at all, which no switch has been made to write: a first start, nothing ran.
    """

    def back(value: object) -> float | None:
        if not isinstance(value, str):
            return None
        try:
            moment = parse_iso(value)
        except ValueError:  # unreadable, or without a time zone: forgotten
            return None
        ago = (now_wall - moment).total_seconds()
        if ago > FORGET_AFTER_S:
            return None
        return start_s - max(0.0, ago)  # a clock that went back counts as "just now"

    def later(stored: float | None) -> float:
        return start_s if stored is None else max(stored, start_s)

    document = _read(path)
    relays = document.get("relays")
    stored: Mapping[str, Any] = relays if isinstance(relays, dict) else {}
    rest = set(resting)
    # No file: a first start. A fresh one: current. Else the driven relays may have run.
    stale = os.path.lexists(path) and not _fresh(document, now_wall)
    ran = set(may_have_run) if stale else set()
    guards: dict[str, RelayGuard] = {}
    for rid, timing in timings.items():
        entry = stored.get(rid)
        since_s: float | None = None
        ran_until_s: float | None = None
        if isinstance(entry, dict):
            if entry.get("on") is True:  # it was on when the daemon stopped: off since now
                since_s = ran_until_s = start_s
            else:
                since_s, ran_until_s = back(entry.get("since")), back(entry.get("ran_until"))
        if rid in rest:
            since_s = later(since_s)
        if rid in ran:
            ran_until_s = later(ran_until_s)
        guards[rid] = RelayGuard(timing, since_s=since_s, ran_until_s=ran_until_s)
    return guards
