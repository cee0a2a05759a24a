"""Saved fermentation profiles: the brewer's own, kept by the service to reuse.

A saved profile is checked with the protocol's step rules
(``beerpi_protocol.profiles``) against a daemon's default target range, so one
that is stored is one a daemon will start. Names are unique (a save under a
taken name is refused, not merged), and the store keeps at most
``MAX_SAVED_PROFILES`` of them: a browser cannot fill the disk.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beerpi_protocol.models import ProfileStep
from beerpi_protocol.profiles import DEFAULT_TARGET_RANGE_C, MAX_NAME_LEN, check_profile

from .base import utc
from .sessions import check_text

MAX_SAVED_PROFILES = 200
PROFILE_ID = re.compile(r"[0-9a-f]{16}")


class ProfileNameTaken(Exception):
    """Another saved profile has this name (the API's 409)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a saved profile is already called {name!r}; pick another name")
        self.name = name


class TooManyProfiles(Exception):
    """The store holds ``MAX_SAVED_PROFILES`` already (the API's 409)."""

    def __init__(self) -> None:
        super().__init__(
            f"the service keeps at most {MAX_SAVED_PROFILES} saved profiles; delete one first"
        )


def check_steps(name: object, steps: object) -> tuple[str, tuple[ProfileStep, ...]]:
    """The name and steps, checked as the daemon checks a profile; ValueError otherwise."""
    clean = check_text(name, "name", MAX_NAME_LEN, required=True, multiline=False)
    low, high = DEFAULT_TARGET_RANGE_C
    return check_profile({"name": clean, "steps": steps}, min_c=low, max_c=high)


@dataclass(frozen=True, slots=True)
class SavedProfile:
    id: str
    name: str
    steps: tuple[ProfileStep, ...]
    updated: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not PROFILE_ID.fullmatch(self.id):
            raise ValueError(f"profile id must be 16 hex digits, got {str(self.id)[:40]!r}")
        name, steps = check_steps(self.name, [s.to_dict() for s in self.steps])
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "updated", utc(self.updated, "updated"))

    def steps_json(self) -> str:
        return json.dumps([s.to_dict() for s in self.steps])

    @staticmethod
    def steps_of(raw: Any) -> tuple[ProfileStep, ...]:
        """Steps as stored (a JSON text or a list of objects) back into records."""
        items = json.loads(raw) if isinstance(raw, str) else raw
        return tuple(ProfileStep.from_dict(item) for item in items)
