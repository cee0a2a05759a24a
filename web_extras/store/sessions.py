"""Brew sessions: one batch in one fermenter, kept beside its readings.

A session names the beer (name, style, yeast), its original and final gravity,
notes each with its time, and when it started and ended (``end`` is None while
it runs). A fermenter (device) has at most one running session at a time; both
stores enforce that with an atomic claim, so two requests racing to start one
cannot both win.

Every text is checked here as well as at the API's edge: a store never holds
a string longer than its cap or with control characters (notes keep newlines
and tabs). Pages render all of it as text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from .base import _name, utc

MAX_LABEL = 100  # name, style, yeast
MAX_NOTE = 2000
MAX_NOTES = 500
# Specific gravity of anything a homebrewer ferments, with room for errors of a
# hydrometer reading (below water) and for very strong worts.
MIN_GRAVITY = 0.980
MAX_GRAVITY = 1.200
SESSION_ID = re.compile(r"[0-9a-f]{16}")
_NOTE_CONTROLS_OK = frozenset("\n\t")
_REFUSED = frozenset({"Cc", "Cs"})


class SessionOpen(Exception):
    """The fermenter already has a running session (the API's 409)."""

    def __init__(self, device: str, session_id: str) -> None:
        super().__init__(
            f"fermenter {device} already has a running session ({session_id}); end it first"
        )
        self.device = device
        self.session_id = session_id


def check_text(value: object, what: str, limit: int, *, required: bool, multiline: bool) -> str:
    """``value`` as a clean string, or ValueError saying what is wrong with it."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string")
    if len(value) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    allowed = _NOTE_CONTROLS_OK if multiline else frozenset()
    # Control characters and lone surrogates (no UTF-8 for those) are refused;
    # format characters stay: an emoji's zero-width joiner is one.
    if any(unicodedata.category(ch) in _REFUSED and ch not in allowed for ch in value):
        raise ValueError(f"{what} holds control characters")
    value = value.strip()
    if required and not value:
        raise ValueError(f"{what} must not be empty")
    return value


def check_gravity(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number (specific gravity, e.g. 1.050) or null")
    if not MIN_GRAVITY <= value <= MAX_GRAVITY:
        raise ValueError(f"{what} must be between {MIN_GRAVITY} and {MAX_GRAVITY}, got {value}")
    return float(value)


@dataclass(frozen=True, slots=True)
class SessionNote:
    timestamp: datetime
    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "timestamp", utc(self.timestamp, "note time"))
        text = check_text(self.text, "note", MAX_NOTE, required=True, multiline=True)
        object.__setattr__(self, "text", text)


@dataclass(frozen=True, slots=True)
class BrewSession:
    id: str
    device: str
    name: str
    start: datetime
    end: datetime | None = None
    style: str = ""
    yeast: str = ""
    og: float | None = None
    fg: float | None = None
    notes: tuple[SessionNote, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not SESSION_ID.fullmatch(self.id):
            raise ValueError(f"session id must be 16 hex digits, got {str(self.id)[:40]!r}")
        _name(self.device, "device")
        for attr, required in (("name", True), ("style", False), ("yeast", False)):
            value = check_text(
                getattr(self, attr), attr, MAX_LABEL, required=required, multiline=False
            )
            object.__setattr__(self, attr, value)
        object.__setattr__(self, "og", check_gravity(self.og, "og"))
        object.__setattr__(self, "fg", check_gravity(self.fg, "fg"))
        start = utc(self.start, "start")
        object.__setattr__(self, "start", start)
        if self.end is not None:
            end = utc(self.end, "end")
            if end <= start:
                raise ValueError("end must be after start")
            object.__setattr__(self, "end", end)
        notes = tuple(self.notes)
        if len(notes) > MAX_NOTES:
            raise ValueError(f"a session holds at most {MAX_NOTES} notes")
        if not all(isinstance(n, SessionNote) for n in notes):
            raise ValueError("notes must be SessionNote records")
        object.__setattr__(self, "notes", notes)

    @property
    def running(self) -> bool:
        return self.end is None
