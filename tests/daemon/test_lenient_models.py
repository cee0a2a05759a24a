"""An old client survives a newer daemon: the protocol's readers are lenient (README,
"One protocol, written once"): unknown keys are skipped, unknown enum values read
as None. What a live daemon sends is read back with keys and values no daemon
sends yet, at every level.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from beerpi_protocol.models import DeviceInfo, State
from tests.support.daemon import connected, running_daemon, sim_config, wait_for_state

PROFILE: dict[str, Any] = {"name": "ale", "steps": [{"target": 18, "days": 4}]}


# Mappings keyed by id (a key there is one more probe or relay, not a new field).
BY_ID = {"probes", "relays"}


def with_unknown_keys(value: Any, *, by_id: bool = False) -> Any:
    """``value`` with a key from a later protocol in every record, however deep."""
    if isinstance(value, dict):
        inner = {k: with_unknown_keys(v, by_id=k in BY_ID) for k, v in value.items()}
        return inner if by_id else {**inner, "added_in_v9": {"x": [1]}}
    if isinstance(value, list):
        return [with_unknown_keys(v) for v in value]
    return value


async def test_a_newer_daemons_state_and_device_read_as_far_as_they_are_known(
    tmp_path: Path,
) -> None:
    async with (
        running_daemon(sim_config(tmp_path / "data")) as running,
        connected(running) as client,
    ):
        await client.set_thermostat(mode="heat_cool", profile=PROFILE)
        await client.simulate(probe="fridge", fault="disconnected")
        await wait_for_state(client, lambda s: s.faults and s.thermostat.profile)
        wire = (await client.call("get_state", {}))["state"]
        device = running.daemon.device.to_dict()
    state = State.from_dict(wire)
    assert state.faults
    assert state.thermostat.profile
    assert state.probes
    assert state.relays

    # Unknown keys, at every level, are skipped.
    assert State.from_dict(with_unknown_keys(wire)) == state
    assert DeviceInfo.from_dict(with_unknown_keys(device)) == DeviceInfo.from_dict(device)

    # Unknown enum values read as None; the rest of the state is read as before.
    newer = {
        **wire,
        "thermostat": {**wire["thermostat"], "mode": "plasma", "action": "levitating"},
        "faults": [{**fault, "code": "flux"} for fault in wire["faults"]],
    }
    read = State.from_dict(newer)
    assert (read.thermostat.mode, read.thermostat.action) == (None, None)
    assert [fault.code for fault in read.faults] == [None] * len(wire["faults"])
    thermostat = dataclasses.replace(state.thermostat, mode=None, action=None)
    faults = tuple(dataclasses.replace(fault, code=None) for fault in state.faults)
    assert read == dataclasses.replace(state, thermostat=thermostat, faults=faults)
