"""``beerpi-daemon --init-config FILE``: a starting config with a fresh token, owner-only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .hardware.w1_probes import PLACEHOLDER_SENSOR_ID, W1BusError, list_w1_sensors

TEMPLATE = """\
# BeerPi daemon configuration, written by `beerpi-daemon --init-config`.
# It holds the token: keep it readable by the daemon's user only (it was created 0600).

[device]
name = "BeerPi"

[server]
host = "0.0.0.0"
port = 8765
token = "{token}"

[storage]
data_dir = "/var/lib/beerpi"

{probes}
# BCM pin numbers; most relay boards switch on when the pin is low.
[[relays]]
id = "heater"
name = "Heater"
pin = 17
active_high = false

[[relays]]
id = "cooler"
name = "Cooler"
pin = 27
active_high = false

[thermostat]
probe = "beer"
chamber_probe = "fridge"
heater = "heater"
cooler = "cooler"
"""

PROBE = """\
[[probes]]
id = "{id}"
name = "{name}"
sensor_id = "{sensor_id}"
"""


def probe_sections(sensor_ids: list[str]) -> str:
    """The first probe found is the beer, the second the fridge; placeholders if none."""
    names = [("beer", "Beer"), ("fridge", "Fridge")]
    ids = sensor_ids + [PLACEHOLDER_SENSOR_ID] * (2 - len(sensor_ids))
    sections = [
        PROBE.format(id=pid, name=name, sensor_id=sid)
        for (pid, name), sid in zip(names, ids[:2], strict=True)
    ]
    sections += [
        PROBE.format(id=f"probe{i}", name=f"Probe {i}", sensor_id=sid)
        for i, sid in enumerate(sensor_ids[2:], start=3)
    ]
    if not sensor_ids:
        sections.insert(0, "# No probe found on the 1-Wire bus: replace these sensor ids.\n")
    return "\n".join(sections)


def write_initial_config(path: Path, *, base_dir: Path | None = None) -> str:
    """Create ``path`` (never overwriting) with mode 0600; returns the new token."""
    try:
        sensor_ids = [s.sensor_id for s in list_w1_sensors(base_dir)]
    except W1BusError:
        sensor_ids = []
    token = secrets.token_urlsafe(24)
    text = TEMPLATE.format(token=token, probes=probe_sections(sensor_ids))
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never clobber a brewer's config; the mode is set at creation, so the
    # token is never readable by others, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return token
