"""Link events share the daemon's clock with its readings, and carry its boot id.

A simulated daemon at 600x runs far ahead of the wall clock: an event stamped
with the service's own clock would land hours away from the readings on the
trend page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pi_daemon.app import boot_id
from tests.support.daemon import free_port, running_daemon, sim_config
from tests.web.service import dial_in_config, running_service, wait_until
from web_extras.store import EventKind

EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))
# Two seconds of real time at 600x: the link's reconnect back-off is about that.
NEAR = timedelta(minutes=20)


# Long on purpose: one user story told end to end (the steps depend on each other); splitting it
# would hide the story.
async def test_connected_events_are_stamped_by_the_daemon_and_name_its_boot(
    tmp_path: Path,
) -> None:
    daemon_config = sim_config(
        tmp_path / "daemon",
        port=free_port(),
        **{"simulation.speed": 600, "storage.record_interval_s": 60},
    )
    config = dial_in_config(tmp_path / "web", daemon_config.server.port)
    async with running_service(config) as service:
        store = service.store
        async with running_daemon(daemon_config) as daemon:
            device = daemon.daemon.device.id
            await wait_until(lambda: store.count(device=device, probe="beer"))

            async def an_hour_of_readings() -> bool:
                span = await store.span(device)
                return span is not None and span[1] - span[0] > timedelta(hours=1)

            await wait_until(an_hour_of_readings)

        # The daemon stopped; start it again on the same data dir (same machine boot).
        async def linked(count: int) -> bool:
            found = await store.events(device, *EVER, kinds=[EventKind.CONNECTED])
            return len(found) >= count

        async with running_daemon(daemon_config):
            await wait_until(lambda: linked(2))
            connects = await store.events(device, *EVER, kinds=[EventKind.CONNECTED])

            async def recording_again() -> bool:
                span = await store.span(device)
                return span is not None and span[1] > connects[-1].timestamp

            await wait_until(recording_again)
        events = await store.events(device, *EVER)
        span = await store.span(device)
        beer = [r async for r in store.raw(device, "beer", *EVER)]
    assert span is not None
    first, disconnected, second = [
        e for e in events if e.kind in (EventKind.CONNECTED, EventKind.DISCONNECTED)
    ][:3]
    assert (first.kind, disconnected.kind, second.kind) == (
        EventKind.CONNECTED,
        EventKind.DISCONNECTED,
        EventKind.CONNECTED,
    )
    assert first.data == {"link": "dial-in", "boot_id": boot_id(), "previous_boot_id": None}
    assert second.data == {"link": "dial-in", "boot_id": boot_id(), "previous_boot_id": boot_id()}
    # Among the readings, by the daemon's clock (a reading a minute, 600x real time)...
    assert abs(first.timestamp - span[0]) < NEAR
    before = [r.timestamp for r in beer if r.timestamp <= disconnected.timestamp]
    after = [r.timestamp for r in beer if r.timestamp >= second.timestamp]
    assert before
    assert after
    assert disconnected.timestamp - before[-1] < NEAR
    assert after[0] - second.timestamp < NEAR
    # ...which ran an hour ahead of the wall clock before the restart, and carries on.
    assert second.timestamp - datetime.now(UTC) > timedelta(minutes=30)
