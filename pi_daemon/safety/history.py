"""The relays' last switches on disk, so that a restart keeps their rests and the changeover.

Without it a restart forgets that the cooler stopped a minute ago (its
compressor would not rest its full minimum off time) or that the cooler has
just run (the heater would start at once on the cold air). Times are stored as
wall-clock instants and turned back into control-clock seconds at start-up; a
relay that was on when the daemon stopped counts as switched off at start-up.
A missing or unreadable file means no history: a compressor then rests its
minimum off time from start-up, as after a power cut.
"""

from __future__ import annotations

import json
import logging
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


def history_document(
    guards: Mapping[str, RelayGuard], now_s: float, now_wall: datetime
) -> dict[str, Any]:
    def wall(at_s: float | None) -> str | None:
        return None if at_s is None else iso(now_wall - timedelta(seconds=now_s - at_s))

    return {
        "version": FORMAT_VERSION,
        "relays": {
            rid: {"on": g.is_on, "since": wall(g.since_s), "ran_until": wall(g.ran_until_s)}
            for rid, g in guards.items()
        },
    }


def save_history(path: Path, document: Mapping[str, Any]) -> None:
    write_atomic(path, json.dumps(document, indent=1) + "\n")


def _read(path: Path) -> dict[str, Any]:
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
    relays = document.get("relays")
    return relays if isinstance(relays, dict) else {}


def load_guards(
    path: Path,
    timings: Mapping[str, RelayTiming],
    *,
    start_s: float,
    now_wall: datetime,
    rest_if_unknown: Iterable[str],
) -> dict[str, RelayGuard]:
    """A guard per relay, carrying on from the stored history (all off at start-up)."""

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

    stored = _read(path)
    rest = set(rest_if_unknown)
    guards: dict[str, RelayGuard] = {}
    for rid, timing in timings.items():
        entry = stored.get(rid)
        if not isinstance(entry, dict):
            guards[rid] = RelayGuard(timing, since_s=start_s if rid in rest else None)
        elif entry.get("on") is True:  # it was on when the daemon stopped: off since now
            guards[rid] = RelayGuard(timing, since_s=start_s, ran_until_s=start_s)
        else:
            guards[rid] = RelayGuard(
                timing, since_s=back(entry.get("since")), ran_until_s=back(entry.get("ran_until"))
            )
    return guards
