"""Failed logins slow the next try down, per client address and per user name.

The first few failures cost nothing (people mistype); after that each further
failure doubles the wait before the next attempt is even checked, up to a cap.
A throttled attempt is answered at once with 429 and ``Retry-After``, without
hashing anything, so guessing costs the attacker time and the service nothing.
A success clears both counters. Entries that have cooled down are forgotten,
and the table is bounded, so a flood of made-up names cannot grow it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

FREE_FAILURES = 3
FIRST_DELAY_S = 1.0
# Per address the wait grows to 15 minutes; per user to one minute, so that
# someone guessing cannot lock the brewer out for long.
MAX_DELAY_ADDRESS_S = 900.0
MAX_DELAY_USER_S = 60.0
FORGET_AFTER_S = 3600.0
MAX_ENTRIES = 10_000

Key = tuple[str, str]  # ("address", "192.0.2.7") or ("user", "brewer")


@dataclass
class _Entry:
    failures: int = 0
    blocked_until: float = 0.0
    last_failure: float = 0.0


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[Key, _Entry] = {}

    @staticmethod
    def keys(address: str | None, username: str) -> list[Key]:
        # Names are compared as sent; a long one is cut so it cannot bloat the table.
        return [("address", address or "?"), ("user", username[:128])]

    def wait_s(self, keys: Iterable[Key]) -> float:
        """Seconds before these keys may try again (0: now)."""
        now = self._clock()
        waits = [self._entries[k].blocked_until - now for k in keys if k in self._entries]
        return max([0.0, *waits])

    def failed(self, keys: Iterable[Key]) -> None:
        now = self._clock()
        self._forget_old(now)
        for key in keys:
            entry = self._entries.setdefault(key, _Entry())
            entry.failures += 1
            entry.last_failure = now
            extra = entry.failures - FREE_FAILURES
            if extra > 0:
                cap = MAX_DELAY_USER_S if key[0] == "user" else MAX_DELAY_ADDRESS_S
                entry.blocked_until = now + min(cap, FIRST_DELAY_S * 2 ** min(extra - 1, 30))

    def succeeded(self, keys: Iterable[Key]) -> None:
        for key in keys:
            self._entries.pop(key, None)

    def _forget_old(self, now: float) -> None:
        if len(self._entries) < MAX_ENTRIES:
            stale = [
                k
                for k, e in self._entries.items()
                if now - e.last_failure > FORGET_AFTER_S and e.blocked_until < now
            ]
        else:  # full: drop the oldest half
            by_age = sorted(self._entries, key=lambda k: self._entries[k].last_failure)
            stale = by_age[: len(by_age) // 2]
        for key in stale:
            del self._entries[key]
