"""Protection of one relay: minimum on/off times, maximum run time, lock-out.

One guard per relay, shared by everything that switches it (through the gate),
so a compressor rests its minimum off time whoever asks. The guard only keeps
the relay's history and answers questions; the gate switches and records.
"""

from __future__ import annotations

from .limits import RelayTiming


class RelayGuard:
    def __init__(
        self,
        timing: RelayTiming,
        *,
        on: bool = False,
        since_s: float | None = None,
        ran_until_s: float | None = None,
    ) -> None:
        """``since_s``: when the relay took its state; None means long ago (no wait).

        ``ran_until_s``: when it last stopped after a run (None: not known to have run).
        The daemon passes its start time as ``since_s`` of a compressor whatever
        its stored history says, so that it rests after a power cut.
        """
        self.timing = timing
        self._on = on
        self._since_s = since_s
        self._ran_until_s = ran_until_s
        self._locked_until_s: float | None = None

    @property
    def is_on(self) -> bool:
        return self._on

    @property
    def since_s(self) -> float | None:
        return self._since_s

    @property
    def ran_until_s(self) -> float | None:
        """When the relay last went off after being on (None: no run known)."""
        return self._ran_until_s

    def record(self, now_s: float, on: bool) -> None:
        """The relay has just been switched to ``on`` (no-op when it already was)."""
        if on != self._on:
            if not on:
                self._ran_until_s = now_s
            self._on = on
            self._since_s = now_s

    def _elapsed(self, now_s: float) -> float:
        return float("inf") if self._since_s is None else now_s - self._since_s

    def can_switch(self, now_s: float, on: bool) -> tuple[bool, float]:
        """(allowed, seconds to wait) by this relay's own rules. Off is always allowed."""
        if not on or self._on:
            return True, 0.0
        if self.locked(now_s):
            return False, self.locked_for(now_s)
        wait = self.timing.min_off_s - self._elapsed(now_s)
        return (wait <= 0, max(0.0, wait))

    def min_on_left(self, now_s: float) -> float:
        """Seconds this relay should still stay on (0 when off or done)."""
        if not self._on:
            return 0.0
        return max(0.0, self.timing.min_on_s - self._elapsed(now_s))

    def overrun(self, now_s: float) -> bool:
        """On for longer than the maximum run time."""
        limit = self.timing.max_run_s
        return self._on and limit is not None and self._elapsed(now_s) > limit

    def trip(self, now_s: float) -> None:
        """Lock the relay off after a max-run overrun; the gate switches it off."""
        self._locked_until_s = now_s + max(self.timing.max_run_rest_s, self.timing.min_off_s)

    def locked(self, now_s: float) -> bool:
        return self._locked_until_s is not None and now_s < self._locked_until_s

    def locked_for(self, now_s: float) -> float:
        if self._locked_until_s is None:
            return 0.0
        return max(0.0, self._locked_until_s - now_s)

    def clear_trip(self) -> None:
        self._locked_until_s = None
