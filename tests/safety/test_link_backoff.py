"""The dial-out link retries for ever with a capped backoff, and only raises `link`.

The README ("Safety on the Pi"): a refused or lost dial-out link only raises a
`link` fault and retries with capped backoff. The live tests
(tests/daemon/test_dialout_link.py) run with a short cap of their own; this
one holds the daemon's defaults: from 1 s, doubling, never past a minute, and
an unreachable service is a fault after two minutes, a refusal at once.
"""

from __future__ import annotations

from pi_daemon.safety.link import LinkHealth


class Faults:
    def __init__(self) -> None:
        self.raised: list[str | None] = []

    async def __call__(self, message: str | None) -> None:
        self.raised.append(message)


async def test_the_backoff_doubles_from_a_second_and_stops_at_a_minute() -> None:
    now = [0.0]
    faults = Faults()
    link = LinkHealth("http://web.test", faults, clock=lambda: now[0])
    assert link.next_delay_s() == 0.0  # the first try goes at once
    bases = []
    for _ in range(40):
        await link.unreachable("connection refused")
        delays = [link.next_delay_s() for _ in range(50)]
        base = max(delays)
        assert min(delays) >= base / 2 * 0.999  # jittered between half and all of it
        bases.append(base)
    assert 0.5 <= bases[0] <= 1.0
    assert 1.0 < bases[1] <= 2.0
    assert 2.0 < bases[2] <= 4.0
    assert all(30.0 < base <= 60.0 for base in bases[6:])  # capped, retrying for ever


async def test_unreachable_is_a_fault_after_two_minutes_and_a_refusal_at_once() -> None:
    now = [0.0]
    faults = Faults()
    link = LinkHealth("http://web.test", faults, clock=lambda: now[0])
    await link.unreachable("timed out")
    now[0] = 119.0
    await link.unreachable("timed out")
    assert faults.raised == []
    now[0] = 120.0
    await link.unreachable("timed out")
    assert [m is not None for m in faults.raised] == [True]
    await link.connected()
    assert faults.raised[-1] is None  # cleared when the service takes the link again

    refused = Faults()
    link = LinkHealth("http://web.test", refused, clock=lambda: now[0])
    await link.refused("wrong token")
    assert len(refused.raised) == 1
    assert "refused" in (refused.raised[0] or "")
