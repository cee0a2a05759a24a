"""Alert rules driven through the real hub, recorder and SQLite store, sent by Apprise
to a notification endpoint on 127.0.0.1; time comes from a fake clock, never sleep."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from beerpi_protocol.models import DeviceInfo, FaultInfo, State
from web_extras.alerts.engine import AlertEngine
from web_extras.alerts.notifier import AppriseNotifier
from web_extras.alerts.settings import AlertsConfig
from web_extras.hub import DeviceHub
from web_extras.ingest import Recorder
from web_extras.store import StoredReading
from web_extras.store.sqlite import SqliteHistoryStore

from .support import FakeClock, Inbox, notification_endpoint

DEVICE = "beerpi-1"


class Link:
    kind = "dial-in"

    async def call(self, request: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    async def fetch(self, path: str) -> tuple[bytes, str]:
        raise AssertionError("not used")


@dataclass
class Rig:
    engine: AlertEngine
    hub: DeviceHub
    recorder: Recorder
    clock: FakeClock
    inbox: Inbox
    link: Link

    async def connect(self, device: str = DEVICE, name: str = "Ale fridge") -> None:
        info = DeviceInfo.from_dict(
            {"id": device, "name": name, "probes": [{"id": "beer", "name": "Beer"}]}
        )
        await self.recorder.connected(device, self.link, info)  # type: ignore[arg-type]

    async def disconnect(self, device: str = DEVICE) -> None:
        await self.recorder.disconnected(device, self.link)  # type: ignore[arg-type]

    async def state(self, device: str = DEVICE, **parts: Any) -> None:
        await self.recorder.state(device, State.from_dict(parts))

    async def fault(self, source: str, code: str, active: bool, device: str = DEVICE) -> None:
        fault = {"source": source, "code": code, "message": f"{code} on {source}", "active": active}
        await self.recorder.fault(device, FaultInfo.from_dict(fault))

    async def settle(self) -> list[str]:
        """Run the due checks, wait until everything queued was delivered; the titles."""
        await self.engine.check()
        await self.engine.drain()
        return self.inbox.titles()


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path, *, known_start_offline: bool = True, **alerts: Any
) -> AsyncIterator[Rig]:
    async with notification_endpoint() as inbox:
        config = AlertsConfig.model_validate(
            {"targets": {"phone": inbox.url("phone"), "mail": inbox.url("mail")}, **alerts}
        )
        store = SqliteHistoryStore(tmp_path / "history.sqlite")
        await store.open()
        hub = DeviceHub(store)
        await hub.load_known()
        clock = FakeClock()
        engine = AlertEngine(
            config,
            hub,
            AppriseNotifier(config.targets),
            clock,
            known_start_offline=known_start_offline,
        )
        hub.add_listener(engine)
        await engine.start()
        try:
            yield Rig(engine, hub, Recorder(hub), clock, inbox, Link())
        finally:
            await engine.stop()
            await store.close()


def beer(temperature: float | None, target: float = 18.0, mode: str = "cool") -> dict[str, Any]:
    return {
        "probes": {"beer": {"temperature": temperature}},
        "thermostat": {"mode": mode, "target": target, "probe": "beer"},
    }


# -- faults ---------------------------------------------------------------------


async def test_fault_raised_and_cleared_are_told_once_each(tmp_path: Path) -> None:
    async with rig(tmp_path, rules=[{"kind": "fault", "notify": ["phone"]}]) as r:
        await r.connect()
        await r.state(**beer(18.0))
        await r.fault("beer", "disconnected", active=True)
        # The next snapshot lists the same fault: no second message.
        await r.state(**beer(None), faults=[{"source": "beer", "code": "disconnected"}])
        await r.fault("beer", "disconnected", active=False)
        await r.state(**beer(18.0), faults=[])
        assert await r.settle() == [
            "BeerPi: ⚠ Ale fridge: fault on Beer",
            "BeerPi: ✓ Ale fridge: Beer fault cleared",
        ]
        raised = r.inbox.messages()[0]
        assert raised["message"] == "Beer: disconnected on beer (disconnected)."
        assert raised["type"] == "warning"
        assert r.inbox.messages()[1]["type"] == "success"
        # Only the rule's target got them.
        assert r.inbox.titles("mail") == []


async def test_a_fault_seen_only_in_snapshots_is_still_told(tmp_path: Path) -> None:
    # Raised and cleared while the link was down: the snapshots after it show the edges.
    async with rig(tmp_path, rules=[{"kind": "fault"}]) as r:
        await r.connect()
        await r.state(**beer(18.0), faults=[{"source": "cooler", "code": "max_run_time"}])
        await r.state(**beer(18.0), faults=[])
        titles = await r.settle()
    # Both targets (no notify list): each message twice.
    assert sorted(titles) == sorted(
        ["BeerPi: ⚠ Ale fridge: fault on cooler", "BeerPi: ✓ Ale fridge: cooler fault cleared"] * 2
    )


async def test_any_fault_code_alerts_even_one_this_version_does_not_know(tmp_path: Path) -> None:
    # "link" and "no_effect" come with the safety work; until the protocol knows a
    # code it reads as unknown, and the alert still goes out with the daemon's message.
    async with rig(tmp_path, rules=[{"kind": "fault", "notify": ["phone"]}]) as r:
        await r.connect()
        for code in ("no_effect", "link", "stale"):
            await r.fault("thermostat", code, active=True)
        await r.settle()
    bodies = [m["message"] for m in r.inbox.messages()]
    assert bodies[0].startswith("thermostat: no_effect on thermostat")
    assert any(body.startswith("thermostat: stale on thermostat (stale)") for body in bodies)


async def test_fault_codes_filter_and_cleared_off(tmp_path: Path) -> None:
    rule = {"kind": "fault", "codes": ["reset_85"], "cleared": False, "notify": ["phone"]}
    async with rig(tmp_path, rules=[rule]) as r:
        await r.connect()
        await r.fault("beer", "crc", active=True)
        await r.fault("beer", "reset_85", active=True)
        await r.fault("beer", "reset_85", active=False)
        assert await r.settle() == ["BeerPi: ⚠ Ale fridge: fault on Beer"]
        assert "(reset_85)" in r.inbox.messages()[0]["message"]


async def test_device_strings_are_cleaned(tmp_path: Path) -> None:
    async with rig(tmp_path, rules=[{"kind": "fault", "notify": ["phone"]}]) as r:
        await r.connect(name="Evil\nname\x1b[31m" + "x" * 300)
        fault = {"source": "beer", "code": "crc", "message": "line1\r\nline2\u2028" + "y" * 500}
        await r.recorder.fault(DEVICE, FaultInfo.from_dict(fault))
        await r.settle()
    (message,) = r.inbox.messages()
    assert "\n" not in message["title"]
    assert "\x1b" not in message["title"]
    assert len(message["title"]) < 120
    assert "line1 line2" in message["message"]
    assert len(message["message"]) < 200


# -- out of range -----------------------------------------------------------------


async def test_out_of_range_for_n_minutes_then_back(tmp_path: Path) -> None:
    rule = {"kind": "out_of_range", "tolerance_c": 1.0, "for_min": 20, "notify": ["phone"]}
    async with rig(tmp_path, rules=[rule]) as r:
        await r.connect()
        await r.state(**beer(18.5))
        await r.state(**beer(19.4))  # 1.4 above the 18 °C target
        r.clock.advance(19)
        await r.state(**beer(19.5))
        assert await r.settle() == []  # 19 minutes: not yet
        r.clock.advance(1)
        assert await r.settle() == ["BeerPi: ⚠ Ale fridge: Beer out of range"]
        assert r.inbox.messages()[0]["message"] == (
            "Beer has been outside 17.0–19.0 °C for 20 min; it is at 19.5 °C."
        )
        r.clock.advance(30)
        await r.state(**beer(19.6))
        assert len(await r.settle()) == 1  # told once while it lasts
        await r.state(**beer(18.2))
        assert (await r.settle())[1:] == ["BeerPi: ✓ Ale fridge: Beer back in range"]
        assert "out of range for 50 min" in r.inbox.messages()[1]["message"]


async def test_a_dip_back_in_range_restarts_the_wait(tmp_path: Path) -> None:
    rule = {"kind": "out_of_range", "min_c": 15.0, "max_c": 21.0, "for_min": 10}
    async with rig(tmp_path, rules=[rule]) as r:
        await r.connect()
        await r.state(**beer(14.0, mode="off"))  # fixed limits hold whatever the mode
        r.clock.advance(9)
        await r.state(**beer(15.5, mode="off"))
        r.clock.advance(9)
        await r.state(**beer(14.5, mode="off"))
        assert await r.settle() == []
        r.clock.advance(10)
        assert await r.settle() == ["BeerPi: ⚠ Ale fridge: Beer out of range"] * 2


async def test_no_target_in_force_or_no_reading_is_not_out_of_range(tmp_path: Path) -> None:
    rule = {"kind": "out_of_range", "tolerance_c": 0.5, "for_min": 5}
    async with rig(tmp_path, rules=[rule]) as r:
        await r.connect()
        await r.state(**beer(25.0, mode="off"))
        r.clock.advance(10)
        await r.state(**beer(25.0, mode="off"))
        await r.state(**beer(None))  # probe fault: the fault rule's business
        r.clock.advance(10)
        assert await r.settle() == []


# -- offline ----------------------------------------------------------------------


async def test_offline_for_n_minutes_then_back_online(tmp_path: Path) -> None:
    async with rig(tmp_path, rules=[{"kind": "offline", "for_min": 10, "notify": ["mail"]}]) as r:
        await r.connect()
        await r.disconnect()
        r.clock.advance(9.5)
        assert await r.settle() == []
        r.clock.advance(0.5)
        assert await r.settle() == ["BeerPi: ⚠ Ale fridge offline"]
        assert r.inbox.messages()[0]["message"].startswith("No link to Ale fridge for 10 min")
        r.clock.advance(60)
        assert len(await r.settle()) == 1
        await r.connect()
        assert (await r.settle())[1:] == ["BeerPi: ✓ Ale fridge back online"]
        assert "after 70 min away" in r.inbox.messages()[1]["message"]


async def test_a_short_drop_sends_nothing(tmp_path: Path) -> None:
    async with rig(tmp_path, rules=[{"kind": "offline", "for_min": 10}]) as r:
        await r.connect()
        await r.disconnect()
        r.clock.advance(5)
        await r.connect()
        r.clock.advance(30)
        assert await r.settle() == []


@pytest.mark.parametrize("scaled_out", [False, True])
async def test_a_known_device_that_never_links_after_a_restart(
    tmp_path: Path, scaled_out: bool
) -> None:
    # The service restarts while the Pi is dead: history knows it, no link comes.
    store = SqliteHistoryStore(tmp_path / "history.sqlite")
    await store.open()
    reading = StoredReading(DEVICE, "beer", datetime(2026, 11, 27, 11, tzinfo=UTC), 18.0)
    await store.add_readings([reading])
    await store.close()
    rules = [{"kind": "offline", "for_min": 10, "notify": ["mail"]}]
    async with rig(tmp_path, rules=rules, known_start_offline=not scaled_out) as r:
        r.clock.advance(10)
        # With Redis scale-out every process knows the device: none tells it (each would).
        expected = [] if scaled_out else [f"BeerPi: ⚠ {DEVICE} offline"]
        assert await r.settle() == expected


# -- profile steps ------------------------------------------------------------------


def profile(step: int, finished: bool = False) -> dict[str, Any]:
    steps = [
        {"kind": "hold", "target": 18.0, "hours": 72},
        {"kind": "ramp", "target": 21.0, "hours": 24},
        {"kind": "hold", "target": 2.0, "hours": 48},
    ]
    progress = {"name": "Ale", "steps": steps, "step": step, "finished": finished,
                "started_at": "2026-11-20T10:00:00.000Z"}  # fmt: skip
    return {"thermostat": {"mode": "heat_cool", "target": 18.0, "profile": progress}}


async def test_profile_step_done_and_profile_finished(tmp_path: Path) -> None:
    async with rig(tmp_path, rules=[{"kind": "profile_step", "notify": ["phone"]}]) as r:
        await r.connect()
        await r.state(**profile(0))  # the first sight is a baseline
        await r.state(**profile(0))
        await r.state(**profile(1))
        await r.state(**profile(2, finished=True))  # the service was away: two edges at once
        assert await r.settle() == [
            "BeerPi: Ale fridge: profile step done",
            "BeerPi: Ale fridge: profile step done",
            "BeerPi: Ale fridge: profile finished",
        ]
    bodies = [m["message"] for m in r.inbox.messages()]
    assert bodies[0] == (
        "Profile “Ale”: Step 1 of 3 done (hold 18.0 °C for 72 h). "
        "Now step 2: ramp to 21.0 °C over 24 h."
    )
    assert bodies[1].startswith("Profile “Ale”: Step 2 of 3 done")
    assert bodies[2] == "Profile “Ale” finished all 3 steps; its last target (2.0 °C) holds."


# -- gravity ------------------------------------------------------------------------


def tilt(at: datetime, sg: float) -> dict[str, Any]:
    """A state carrying the Tilt's latest reading, as the daemon sends it."""
    reading = {"id": "tilt-red", "sg": sg, "at": at.isoformat().replace("+00:00", "Z")}
    return {"hydrometers": [reading], "thermostat": {"mode": "heat_cool", "target": 18.0}}


async def feed_tilt(r: Rig, hours: float, first_sg: float, last_sg: float) -> None:
    """A Tilt every 15 min from ``first_sg`` to ``last_sg``, with its half-point noise."""
    steps = int(hours * 60 / 15)
    for n in range(steps):
        r.clock.advance(15)
        sg = first_sg + (last_sg - first_sg) * n / max(1, steps - 1)
        jitter = 0.0005 if n % 2 else -0.0005  # a Tilt's half-point noise
        at = r.clock.now
        await r.state(**tilt(at, round(sg + jitter, 4)))
        await r.state(**tilt(at, round(sg + jitter, 4)))  # the next state, same reading


async def test_gravity_stable_for_a_day_is_told_once_and_again_after_it_moves(
    tmp_path: Path,
) -> None:
    rule = {"kind": "gravity_stable", "within": 0.001, "hours": 24, "notify": ["phone"]}
    async with rig(tmp_path, rules=[rule]) as r:
        await r.connect()

        async def feed(hours: float, first_sg: float, last_sg: float) -> None:
            await feed_tilt(r, hours, first_sg, last_sg)

        # Still fermenting: 1.030 → 1.014 over two days, never steady for a day.
        await feed(48, 1.030, 1.014)
        assert await r.settle() == []
        # Then a day and a half at 1.012 ± half a point: told once.
        await feed(36, 1.012, 1.012)
        assert await r.settle() == ["BeerPi: Ale fridge: gravity stable"]
        body = r.inbox.messages()[0]["message"]
        assert body == "tilt-red has read 1.012 (within 0.001) for 24 h: fermentation looks done."
        # A dry hop restarts it (gravity moves), then it settles again: told again.
        await feed(6, 1.012, 1.006)
        assert await r.settle() == ["BeerPi: Ale fridge: gravity stable"]  # not again yet
        await feed(30, 1.006, 1.006)
        assert await r.settle() == ["BeerPi: Ale fridge: gravity stable"] * 2


async def test_gravity_stable_is_told_again_only_after_a_move_of_twice_its_band(
    tmp_path: Path,
) -> None:
    """README: "told once; again only after it moved by twice that" (0.002 for 0.001)."""
    rule = {"kind": "gravity_stable", "within": 0.001, "hours": 24, "notify": ["phone"]}
    told = ["BeerPi: Ale fridge: gravity stable"]
    async with rig(tmp_path, rules=[rule]) as r:
        await r.connect()
        await feed_tilt(r, 30, 1.012, 1.012)
        assert await r.settle() == told
        # A point down, then steady a day again: the hours' medians (and the newest
        # reading's half-point noise) moved beyond the band but within twice it, an
        # edge wobble, not news.
        await feed_tilt(r, 6, 1.012, 1.011)
        await feed_tilt(r, 30, 1.011, 1.011)
        assert await r.settle() == told
        # Three points down (beyond twice the band), then steady: told again.
        await feed_tilt(r, 6, 1.011, 1.008)
        await feed_tilt(r, 30, 1.008, 1.008)
        assert await r.settle() == told * 2


# -- rate limit ---------------------------------------------------------------------


async def test_a_flapping_fault_is_rate_limited_per_rule_and_device_then_summed_up(
    tmp_path: Path,
) -> None:
    # The defaults, as the README gives them: at most 3 per rule and fermenter in 30 min.
    async with rig(tmp_path, rules=[{"kind": "fault", "notify": ["phone"]}]) as r:
        await r.connect()
        await r.connect("beerpi-2", name="Lager fridge")
        for _ in range(10):
            await r.fault("beer", "crc", active=True)
            await r.fault("beer", "crc", active=False)
            r.clock.advance(1)
        await r.fault("beer", "crc", active=True, device="beerpi-2")
        titles = await r.settle()
        assert len(titles) == 4  # three of beerpi-1's twenty, and the other device's own
        assert titles[-1] == "BeerPi: ⚠ Lager fridge: fault on Beer"
        r.clock.advance(20)  # 30 min after the first one: room again
        titles = await r.settle()
        assert len(titles) == 5
        summary = r.inbox.messages()[-1]
        assert summary["title"] == (
            "BeerPi: 17 held back — latest: ✓ Ale fridge: Beer fault cleared"
        )
        assert summary["message"].startswith("17 more alerts held back (at most 3 per 30 min):")
        assert summary["message"].count("\n- ") == 6  # five listed, then "… and 12 more"
        assert "… and 12 more" in summary["message"]
        assert summary["message"].endswith("Latest: ✓ Ale fridge: Beer fault cleared. "
                                           "Beer: the fault (crc) has cleared.")  # fmt: skip
        assert await r.settle() == titles  # nothing more


async def test_a_target_that_fails_does_not_stop_the_others(tmp_path: Path) -> None:
    async with rig(tmp_path, rules=[{"kind": "fault"}]) as r:
        await r.connect()
        r.inbox.fail = True
        await r.fault("beer", "crc", active=True)
        assert await r.settle() == []
        r.inbox.fail = False
        await r.fault("fridge", "crc", active=True)
        assert len(await r.settle()) == 2


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "fault"},
        {"kind": "offline", "for_min": 1},
        {"kind": "profile_step"},
        {"kind": "out_of_range", "probe": "beer", "max_c": 10, "for_min": 1},
    ],
)
@pytest.mark.parametrize(("devices", "quiet"), [(["another"], True), ([DEVICE], False)])
async def test_a_rule_for_other_devices_stays_quiet(
    tmp_path: Path, rule: dict[str, Any], devices: list[str], quiet: bool
) -> None:
    async with rig(tmp_path, rules=[{**rule, "devices": devices}]) as r:
        await r.connect()
        hot = {"beer": {"temperature": 25.0}}
        await r.state(probes=hot, **profile(0))
        await r.fault("beer", "crc", active=True)
        r.clock.advance(2)
        await r.state(probes=hot, **profile(1))
        await r.engine.check()
        await r.disconnect()
        r.clock.advance(5)
        assert (await r.settle() == []) is quiet
