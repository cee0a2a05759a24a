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
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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
    """Rename ``path`` (and ``path`` + each of ``companions``, e.g. SQLite's ``-wal``).

    The name carries the time so that a second damaged file never replaces the
    first; an existing name gets a counter.
    """
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{counter}")
    kept_as: Path | None = target
    try:
        path.rename(target)
        for suffix in companions:
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                companion.rename(target.with_name(target.name + suffix))
        _fsync_dir(path.parent)
    except OSError as err:
        _LOGGER.error("cannot move %s aside: %s", path, err)
        kept_as = target if target.exists() else None
    record = SetAside(path=path, why=why, instead=instead, kept_as=kept_as)
    _LOGGER.error("%s", record.message())
    return record


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
