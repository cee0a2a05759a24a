"""The running profile on disk, so that it survives a restart or a power cut.

One small JSON file in the data dir: the profile and its wall-clock start (ISO
UTC), the steps that ended early, and whether it is paused (since when, and how
long its earlier pauses lasted). Written atomically (temporary file, fsync,
rename) so a power cut leaves either the old file or the new one, never half of
one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from beerpi_protocol.timestamps import iso, parse_iso
from pi_daemon.files import write_atomic

from .profile import Profile, parse_profile

FORMAT_VERSION = 1


class ProfileStoreError(ValueError):
    """The stored profile cannot be read back (corrupt, or from a newer BeerPi)."""


@dataclass(frozen=True, slots=True)
class ActiveProfile:
    profile: Profile
    started_at: datetime
    # Steps gravity or a skip ended: index -> seconds each really ran (see profile.py).
    ended: Mapping[int, float] = field(default_factory=dict)
    # Paused since then (None: running); the profile's clock stands still meanwhile.
    paused_at: datetime | None = None
    # Seconds of the pauses already over, which do not count toward the steps.
    paused_s: float = 0.0

    def elapsed_s(self, now: datetime) -> float:
        """Seconds the profile has run at ``now``: wall time since its start, less pauses."""
        until = now if self.paused_at is None else self.paused_at
        return max(0.0, (until - self.started_at).total_seconds() - self.paused_s)


def save_profile(path: Path, active: ActiveProfile | None) -> None:
    """Store the running profile; None removes the file (no profile runs)."""
    if active is None:
        path.unlink(missing_ok=True)
        return
    document = {
        "version": FORMAT_VERSION,
        **active.profile.to_dict(),
        "started_at": iso(active.started_at),
        "ended": {str(index): seconds for index, seconds in sorted(active.ended.items())},
        "paused_at": None if active.paused_at is None else iso(active.paused_at),
        "paused_s": active.paused_s,
    }
    write_atomic(path, json.dumps(document, indent=1))


def load_profile(path: Path, *, min_c: float, max_c: float) -> ActiveProfile | None:
    """The stored profile, None when there is none; ProfileStoreError when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise ProfileStoreError(f"cannot read {path}: {err}") from err
    try:
        document = json.loads(text)
    except ValueError as err:
        raise ProfileStoreError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(document, dict):
        raise ProfileStoreError(f"{path} does not hold a profile")
    if document.pop("version", None) != FORMAT_VERSION:
        raise ProfileStoreError(f"{path} has an unknown format version")
    started = document.pop("started_at", None)
    ended_raw = document.pop("ended", {})  # absent in files from before gravity steps
    # Both absent in files from before pausing: not paused.
    paused_raw = document.pop("paused_at", None)
    paused_s = document.pop("paused_s", 0.0)
    try:
        if not isinstance(started, str):
            raise ValueError("started_at is missing")
        started_at = parse_iso(started)
        profile = parse_profile(document, min_c=min_c, max_c=max_c)
        ended = _ended(ended_raw, profile)
        paused_at = _paused_at(paused_raw, started_at)
        if (
            isinstance(paused_s, bool)
            or not isinstance(paused_s, int | float)
            or not (math.isfinite(paused_s) and paused_s >= 0)
        ):
            raise ValueError("paused_s must be a number of seconds, 0 or more")
    except ValueError as err:
        raise ProfileStoreError(f"{path} holds an invalid profile: {err}") from err
    return ActiveProfile(profile, started_at, ended, paused_at, float(paused_s))


def _paused_at(raw: object, started_at: datetime) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValueError("paused_at must be a time or null")
    paused_at = parse_iso(raw)
    if paused_at < started_at:
        raise ValueError("paused_at is before the profile started")
    return paused_at


def _ended(raw: object, profile: Profile) -> dict[int, float]:
    if not isinstance(raw, dict):
        raise ValueError("ended must be an object")
    ended: dict[int, float] = {}
    for key, seconds in raw.items():
        if not (isinstance(key, str) and key.isdigit() and int(key) < len(profile.steps)):
            raise ValueError(f"ended: no step {key!r}")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError(f"ended.{key} must be a number")
        if not (math.isfinite(seconds) and 0 <= seconds <= profile.steps[int(key)].hours * 3600):
            raise ValueError(f"ended.{key} must be within its step")
        ended[int(key)] = float(seconds)
    return ended
