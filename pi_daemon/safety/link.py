"""The link-loss rule: what the dial-out link's trouble may do on the Pi, and no more.

Nothing remote stops local control. A refused token, an unreachable or a
flapping web service only ever become a ``link`` fault, a few log lines and a
retry delay: the link retries for ever, with a capped, jittered backoff.

- A refusal (the service answered the connect with an error, e.g. a wrong
  token) raises the fault at once: it needs a person.
- An unreachable service raises it once the outage lasts ``fault_after_s``.
- The fault clears when the service accepts the link again.
- Each outage is logged once (then at debug level); a link that drops before
  it has stayed up ``stable_s`` is the same outage, and its backoff keeps growing.

Only the link's real lifecycle feeds this (the outcome of the connect call and
of the connection's end), never an event the server sends.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable

from .limits import LINK_FAULT_AFTER_S, LINK_RETRY_MAX_S, LINK_RETRY_MIN_S, LINK_STABLE_S

_LOGGER = logging.getLogger(__name__)

# Raise (message) or clear (None) the `link` fault.
FaultSetter = Callable[[str | None], Awaitable[None]]


class LinkHealth:
    def __init__(
        self,
        url: str,
        set_fault: FaultSetter,
        *,
        retry_min_s: float = LINK_RETRY_MIN_S,
        retry_max_s: float = LINK_RETRY_MAX_S,
        stable_s: float = LINK_STABLE_S,
        fault_after_s: float = LINK_FAULT_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._set_fault = set_fault
        self._retry_min_s = min(retry_min_s, retry_max_s)
        self._retry_max_s = retry_max_s
        self._stable_s = stable_s
        self._fault_after_s = fault_after_s
        self._clock = clock
        self.failures = 0
        self.connections = 0
        self._outage_since: float | None = None
        self._logged: set[str] = set()  # what this outage has logged already
        self._faulted = False

    def next_delay_s(self) -> float:
        """Seconds before the next try: doubling with the failures, capped, jittered."""
        if self.failures == 0:
            return 0.0
        base = min(self._retry_max_s, self._retry_min_s * 2.0 ** (self.failures - 1))
        return base * random.uniform(0.5, 1.0)

    async def refused(self, reason: str) -> None:
        self._fail()
        message = f"{self.url} refused this device's link ({reason}); retrying"
        self._log("refused", logging.ERROR, "dial-out: %s; local control goes on", message)
        await self._raise(f"the web service refused the link: {reason}")

    async def unreachable(self, why: str) -> None:
        self._fail()
        self._log("unreachable", logging.WARNING, "dial-out: cannot reach %s (%s)", self.url, why)
        assert self._outage_since is not None
        if self._clock() - self._outage_since >= self._fault_after_s:
            await self._raise(f"cannot reach the web service ({why})")

    async def connected(self) -> None:
        self.connections += 1
        self._outage_since = None  # reachable: an unreachable spell starts afresh
        if self._logged:
            self._log("back", logging.INFO, "dial-out: connected to %s again", self.url)
        else:
            _LOGGER.debug("dial-out: connected to %s", self.url)
        if self._faulted:
            self._faulted = False
            await self._set_fault(None)

    async def dropped(self, up_for_s: float) -> None:
        """The link ended after ``up_for_s`` seconds up."""
        if up_for_s >= self._stable_s:  # a new outage, not the same one flapping
            self.failures = 0
            self._logged.clear()
        self._fail()
        self._log("dropped", logging.WARNING, "dial-out: lost the link to %s", self.url)

    def _fail(self) -> None:
        self.failures += 1
        if self._outage_since is None:
            self._outage_since = self._clock()

    def _log(self, kind: str, level: int, message: str, *args: object) -> None:
        """Each kind of trouble once per outage at ``level``, then at debug level."""
        _LOGGER.log(logging.DEBUG if kind in self._logged else level, message, *args)
        self._logged.add(kind)

    async def _raise(self, message: str) -> None:
        self._faulted = True
        await self._set_fault(message)
