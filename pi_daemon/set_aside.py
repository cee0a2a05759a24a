"""A state file the daemon cannot use is moved aside, and the daemon starts without it.

The beer matters more than any one file. A damaged ``thermostat.json``,
``profile.json``, ``gravity.json`` or outbox (a failing SD card, a newer BeerPi's
format after a downgrade, a target the config now refuses) used to stop the start,
and systemd's restarts then failed the same way every few seconds while the beer
went without control. Now the file is renamed, never deleted, to
``<name>.damaged-<UTC time>`` beside it, the daemon starts as it would without it,
and a `storage` fault says which file, why, where it was kept and what the
daemon did instead, until the next restart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .files import fsync_dir

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SetAside:
    """One file the daemon could not use at start-up, and what it did instead."""

    path: Path
    # What was wrong, naming the file (the journal's line needs its full path).
    why: str
    # What the daemon did without it ("the thermostat started in ...").
    instead: str
    # None when even the rename failed (a read-only card): the file is where it was.
    kept_as: Path | None

    def message(self) -> str:
        kept = (
            f"It was moved aside to {self.kept_as.name}"
            if self.kept_as is not None
            else "It could not be moved aside"
        )
        return f"{self.why}. {kept}, and {self.instead}"


def set_aside(
    path: Path, why: str, instead: str, *, now: datetime, companions: Iterable[str] = ()
) -> SetAside:
    """Move ``path`` aside (see ``move_aside``), log it and say what was done instead."""
    record = SetAside(
        path=path, why=why, instead=instead, kept_as=move_aside(path, now, companions)
    )
    _LOGGER.error("%s", record.message())
    return record


def move_aside(path: Path, now: datetime, companions: Iterable[str] = ()) -> Path | None:
    """Rename ``path`` (and ``path`` + each of ``companions``, e.g. SQLite's ``-wal``);
    where it went, or None when it could not be moved.

    The name carries the time, and a counter when that name (or a companion's) is
    taken, so a file moved aside never replaces another.
    """
    suffixes = ["", *companions]
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{path.name}.damaged-{stamp}"
    target = path.with_name(base)
    counter = 1
    while any(path.with_name(target.name + suffix).exists() for suffix in suffixes):
        counter += 1
        target = path.with_name(f"{base}-{counter}")
    try:
        path.rename(target)
    except OSError as err:
        _LOGGER.error("cannot move %s aside: %s", path, err)
        return None
    for suffix in companions:
        companion = path.with_name(path.name + suffix)
        try:
            if companion.exists():
                companion.rename(target.with_name(target.name + suffix))
        except OSError as err:
            _LOGGER.error("cannot move %s aside: %s", companion, err)
    try:
        fsync_dir(path.parent)
    except OSError as err:
        _LOGGER.warning("cannot sync %s after moving %s aside: %s", path.parent, path, err)
    return target
