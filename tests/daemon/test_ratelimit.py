"""The control allowance docs/protocol.md states (``rate_limited``) is the one every link gets."""

from __future__ import annotations

import re
from pathlib import Path

from pi_daemon.config import CONTROL_RATE_PER_S
from pi_daemon.ratelimit import RateLimiter

PROTOCOL_MD = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def _allowed(limit: RateLimiter, at_s: float, tries: int) -> int:
    return sum(limit.allow(at_s) for _ in range(tries))


def test_the_default_allowance_is_the_documented_rate_and_burst() -> None:
    found = re.search(r"(\d+) a second with bursts of (\d+) by default", PROTOCOL_MD.read_text())
    assert found is not None, "docs/protocol.md no longer states the control allowance"
    rate, burst = int(found[1]), int(found[2])
    limit = RateLimiter.control_allowance(CONTROL_RATE_PER_S)
    # A burst all at once, then nothing more at that instant...
    assert _allowed(limit, 100.0, burst + 5) == burst
    # ...then `rate` a second once the client slows down.
    assert _allowed(limit, 101.0, rate + 5) == rate


def test_a_low_rate_still_allows_a_burst_of_five() -> None:
    """A brewer's double click is never refused, whatever ``control_rate_per_s`` says."""
    assert _allowed(RateLimiter.control_allowance(0.5), 0.0, 10) == 5
