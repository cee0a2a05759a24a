"""``/live`` sends states latest-wins per device: a slow send is never followed by a queue.

The namespace's ``emit`` is replaced by one that records and waits on a gate, so a
send is "in flight" for as long as the test wants (a loaded service, many watchers).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from beerpi_protocol.models import State
from web_extras.auth import Auth
from web_extras.hub import DeviceHub, DeviceRecord
from web_extras.live import LiveNamespace
from web_extras.store import StoredReading


@dataclass
class _OpenAuth:
    login_required: bool = False
    public_read: bool = False
    public_details: bool = False


class GatedLive(LiveNamespace):
    def __init__(self) -> None:
        super().__init__(cast(DeviceHub, None), cast(Auth, _OpenAuth()))
        self.sent: list[tuple[str, Any]] = []
        self.gate = asyncio.Event()

    async def emit(self, event: str, data: Any = None, **_kwargs: Any) -> None:
        self.sent.append((event, data))
        await self.gate.wait()


def record(device: str, second: int) -> DeviceRecord:
    return DeviceRecord(device, state=State(timestamp=f"2026-11-27T10:00:{second:02d}Z"))


def stamps(live: GatedLive, device: str) -> list[str]:
    return [d["state"]["timestamp"][-3:-1] for e, d in live.sent if d["device"] == device]


async def test_states_arriving_during_a_send_collapse_to_the_newest() -> None:
    live = GatedLive()
    first = asyncio.create_task(live.state_changed(record("a", 1)))
    await asyncio.sleep(0)  # the first send is in flight, waiting on the gate
    for second in (2, 3, 4):
        await live.state_changed(record("a", second))  # returns at once: no queue
    assert stamps(live, "a") == ["01"]
    live.gate.set()
    await asyncio.wait_for(first, 5)
    assert stamps(live, "a") == ["01", "04"]
    # Idle again: the next state goes out by itself.
    await live.state_changed(record("a", 5))
    assert stamps(live, "a") == ["01", "04", "05"]


async def test_a_slow_device_does_not_hold_back_another() -> None:
    live = GatedLive()
    slow = asyncio.create_task(live.state_changed(record("a", 1)))
    other = asyncio.create_task(live.state_changed(record("b", 1)))
    await asyncio.sleep(0)
    assert stamps(live, "b") == ["01"]
    live.gate.set()
    await asyncio.wait_for(asyncio.gather(slow, other), 5)


async def test_readings_are_never_skipped() -> None:
    live = GatedLive()
    at = datetime(2026, 11, 27, 10, tzinfo=UTC)
    sends = [
        asyncio.create_task(live.readings_added("a", [StoredReading("a", "wort", at, 18.0 + n)]))
        for n in range(3)
    ]
    await asyncio.sleep(0)
    live.gate.set()
    await asyncio.wait_for(asyncio.gather(*sends), 5)
    temperatures = [d["readings"][0]["temperature"] for e, d in live.sent if e == "readings"]
    assert temperatures == [18.0, 19.0, 20.0]
