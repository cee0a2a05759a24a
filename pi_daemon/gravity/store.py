"""The hydrometer book on disk, so a restart does not forget the gravity it has seen.

Without it a step "until gravity is stable within 0.001 for 24 h" would start a
new 24 h window after every restart (and "SG at most X" would wait for three
new readings). One JSON file in the data dir, replaced atomically: each
hydrometer's latest reading and its kept history (at most one point a minute
for ``MAX_STABLE_HOURS`` + 1 h, so at most ~4,400 points each, ~70 KB), times
as whole seconds after the hydrometer's first point. A file that cannot be read
back is moved aside at start-up with a `storage` fault naming it
(pi_daemon/set_aside.py): gravity that silently vanished would silently restart
a stability window.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from beerpi_protocol import HydrometerReading
from beerpi_protocol.const import SG_RANGE
from pi_daemon.files import write_atomic

from .book import HISTORY_STEP_S, KEEP, MAX_HYDROMETERS, GravityPoint

FORMAT_VERSION: Final = 1
MAX_ID: Final = 128
# The book keeps one point a minute over KEEP; a little slack for rounding.
MAX_POINTS: Final = int(KEEP.total_seconds() / HISTORY_STEP_S) + 2


class GravityStoreError(ValueError):
    """The stored gravity cannot be read back (corrupt, or from a newer BeerPi)."""


def gravity_document(
    latest: Sequence[HydrometerReading], history: Mapping[str, Sequence[GravityPoint]]
) -> dict[str, Any]:
    hydrometers: dict[str, Any] = {}
    for reading in latest:
        points = history.get(reading.id, ())
        start = points[0].at if points else None
        hydrometers[reading.id] = {
            "latest": reading.to_dict(),
            "start": None if start is None else round(start.timestamp()),
            "points": [
                [round((p.at - start).total_seconds()), p.sg] for p in points if start is not None
            ],
        }
    return {"version": FORMAT_VERSION, "hydrometers": hydrometers}


def save_gravity(path: Path, document: Mapping[str, Any]) -> None:
    write_atomic(path, json.dumps(document, separators=(",", ":")) + "\n")


def load_gravity(
    path: Path,
) -> tuple[list[HydrometerReading], dict[str, list[GravityPoint]]]:
    """The stored latest readings and histories; nothing when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], {}
    except (OSError, UnicodeDecodeError) as err:
        raise GravityStoreError(f"cannot read {path}: {err}") from err
    try:
        document = json.loads(text)
    except ValueError as err:
        raise GravityStoreError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise GravityStoreError(f"{path} does not hold gravity this BeerPi knows")
    try:
        return _parse(document.get("hydrometers"))
    except ValueError as err:
        raise GravityStoreError(f"{path} holds invalid gravity: {err}") from err


def _parse(raw: object) -> tuple[list[HydrometerReading], dict[str, list[GravityPoint]]]:
    if not isinstance(raw, dict):
        raise ValueError("hydrometers must be an object")
    if len(raw) > MAX_HYDROMETERS:
        raise ValueError(f"more than {MAX_HYDROMETERS} hydrometers")
    latest: list[HydrometerReading] = []
    history: dict[str, list[GravityPoint]] = {}
    for key, entry in raw.items():
        if not isinstance(key, str) or not 0 < len(key) <= MAX_ID or not isinstance(entry, dict):
            raise ValueError("a hydrometer entry is not an id and an object")
        latest_raw = entry.get("latest")
        reading = HydrometerReading.parse(latest_raw) if isinstance(latest_raw, dict) else None
        if reading is None or reading.id != key:
            raise ValueError(f"{key[:40]}: its latest reading is invalid")
        latest.append(reading)
        history[key] = _points(key, entry.get("start"), entry.get("points"))
    return latest, history


def _points(key: str, start: object, raw: object) -> list[GravityPoint]:
    if not isinstance(raw, list) or len(raw) > MAX_POINTS:
        raise ValueError(f"{key[:40]}: points must be a list of at most {MAX_POINTS}")
    if not raw:
        return []
    if isinstance(start, bool) or not isinstance(start, int):
        raise ValueError(f"{key[:40]}: start must be whole seconds")
    try:
        origin = datetime.fromtimestamp(start, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise ValueError(f"{key[:40]}: start is out of range") from err
    points: list[GravityPoint] = []
    low, high = SG_RANGE
    last = -1
    for item in raw:
        if not (isinstance(item, list) and len(item) == 2):
            raise ValueError(f"{key[:40]}: a point must be [seconds, sg]")
        offset, sg = item
        if isinstance(offset, bool) or not isinstance(offset, int) or not last < offset:
            raise ValueError(f"{key[:40]}: point times must be rising whole seconds")
        if offset > KEEP.total_seconds() * 2:
            raise ValueError(f"{key[:40]}: a point lies beyond the kept window")
        if isinstance(sg, bool) or not isinstance(sg, int | float):
            raise ValueError(f"{key[:40]}: sg must be a number")
        if not (math.isfinite(sg) and low <= sg <= high):
            raise ValueError(f"{key[:40]}: sg must be between {low:g} and {high:g}")
        last = offset
        points.append(GravityPoint(origin + timedelta(seconds=offset), float(sg)))
    return points
