"""Rate limit per rule and device: at most N notifications in any window, the rest summed up.

A probe that flaps between fault and no fault must not send a hundred messages;
but a brewer must still learn how it ended. Alerts over the limit are held; when
the window has room again, one summary says how many were held, lists the first
few and gives the latest in full.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .rules import Alert

LISTED = 5


@dataclass
class _Key:
    sent: deque[datetime] = field(default_factory=deque)
    held: list[Alert] = field(default_factory=list)


class RateLimiter:
    def __init__(self, max_per_window: int, window: timedelta) -> None:
        self.max_per_window = max_per_window
        self.window = window
        self._keys: dict[Hashable, _Key] = {}

    def _room(self, key: Hashable, now: datetime) -> _Key | None:
        """The key's record if one more may be sent at ``now`` (and counts it)."""
        state = self._keys.setdefault(key, _Key())
        while state.sent and now - state.sent[0] >= self.window:
            state.sent.popleft()
        if len(state.sent) >= self.max_per_window:
            return None
        state.sent.append(now)
        return state

    def admit(self, key: Hashable, alert: Alert, now: datetime) -> bool:
        """True: send it now. False: it is held for the next summary."""
        state = self._keys.setdefault(key, _Key())
        if not state.held and self._room(key, now) is not None:
            return True
        state.held.append(alert)
        return False

    def summaries(self, now: datetime) -> list[Alert]:
        """One summary for each key with held alerts and room in its window again."""
        due = []
        for key, state in self._keys.items():
            if state.held and self._room(key, now) is not None:
                due.append(summarise(state.held, now, self.window, self.max_per_window))
                state.held = []
        return due


def summarise(held: list[Alert], now: datetime, window: timedelta, most: int) -> Alert:
    latest = held[-1]
    minutes = window.total_seconds() / 60
    lines = [
        f"{len(held)} more alert{'s' if len(held) != 1 else ''} held back "
        f"(at most {most} per {minutes:g} min):"
    ]
    lines += [f"- {a.when:%H:%M} UTC {a.title}" for a in held[:LISTED]]
    if len(held) > LISTED:
        lines.append(f"- … and {len(held) - LISTED} more")
    lines.append(f"Latest: {latest.title}. {latest.body}")
    return Alert(
        latest.rule,
        latest.device,
        f"{len(held)} held back — latest: {latest.title}",
        "\n".join(lines),
        latest.severity,
        now,
    )
