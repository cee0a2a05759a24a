"""Outages for the trend page: when a fermenter went unwatched, and why.

Two sources, both at the chart's resolution:

- A gap in the readings of every probe (no bucket has any for a while). Its
  cause comes from the link's ``connected`` event that ends it, which names
  the daemon's boot id and the one it had the time before (web_extras.ingest):
  a new boot id means the Pi booted again, which on a brewery Pi is nearly
  always a power cut (``power_lost``); the same boot id means only the daemon
  stopped and started (``restarted``); no reconnect yet, or a daemon too old to
  report its boot, leaves ``offline``. The gap starts at the last reading kept
  before it: the last record the daemon's outbox got before it stopped.
- A stretch with the link down (``disconnected`` to the next ``connected``)
  while the readings went on: the daemon kept recording into its outbox and
  the service fetched them afterwards (``offline`` with ``readings_lost``
  false), unless the Pi rebooted meanwhile (a new boot id: ``power_lost``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .store import Bucket, Event, EventKind
from .timefmt import iso

# Shorter silences are a late reading, not an outage.
MIN_GAP = timedelta(minutes=5)
# A gap is a silence of at least this many times the usual spacing of readings.
SPACINGS = 3


class Cause(StrEnum):
    OFFLINE = "offline"
    RESTARTED = "restarted"
    POWER_LOST = "power_lost"


@dataclass(frozen=True, slots=True)
class Outage:
    start: datetime
    end: datetime
    cause: Cause
    readings_lost: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "cause": self.cause.value,
            "readings_lost": self.readings_lost,
        }


def _threshold(series: Mapping[str, Sequence[Bucket]], width: timedelta) -> timedelta:
    """How long a silence must last to be a gap: 3 usual spacings, a bucket, 5 min."""
    spacing = None
    for buckets in series.values():
        count = sum(b.count for b in buckets)
        if count > 1:
            each = (buckets[-1].end - buckets[0].start) / count
            spacing = each if spacing is None else min(spacing, each)
    return max(MIN_GAP, width, SPACINGS * spacing if spacing else MIN_GAP)


def readings_gaps(
    series: Mapping[str, Sequence[Bucket]], width: timedelta, until: datetime
) -> list[tuple[datetime, datetime]]:
    """Stretches in which no probe has a reading, from bucket ends to bucket starts.

    A trailing silence up to ``until`` (the daemon's now, or the range's end)
    counts too: the fermenter is silent now.
    """
    filled: dict[datetime, datetime] = {}
    for buckets in series.values():
        for bucket in buckets:
            if bucket.count > 0:
                filled[bucket.start] = max(filled.get(bucket.start, bucket.end), bucket.end)
    if not filled:
        return []
    threshold = _threshold(series, width)
    gaps = []
    starts = sorted(filled)
    for before, after in itertools.pairwise(starts):
        if after - filled[before] >= threshold:
            gaps.append((filled[before], after))
    last = filled[starts[-1]]
    if until - last >= threshold:
        gaps.append((last, until))
    return gaps


def _cause(connect: Event | None) -> Cause:
    if connect is None:
        return Cause.OFFLINE
    boot, before = connect.data.get("boot_id"), connect.data.get("previous_boot_id")
    if not isinstance(boot, str) or not isinstance(before, str):
        return Cause.OFFLINE
    return Cause.POWER_LOST if boot != before else Cause.RESTARTED


def find_outages(
    series: Mapping[str, Sequence[Bucket]],
    width: timedelta,
    events: Iterable[Event],
    until: datetime,
) -> list[Outage]:
    """The outages among ``series`` (a chart's buckets per probe) and link ``events``."""
    links = sorted(
        (e for e in events if e.kind in (EventKind.CONNECTED, EventKind.DISCONNECTED)),
        key=lambda e: e.timestamp,
    )
    connects = [e for e in links if e.kind is EventKind.CONNECTED]
    gaps = readings_gaps(series, width, until)
    outages = []
    for start, end in gaps:
        # The reconnect that ended the silence: during it, or soon after it
        # (a dial-in link backs off before it tries again).
        slack = max(end - start, MIN_GAP)
        connect = next((c for c in connects if start <= c.timestamp <= end + slack), None)
        outages.append(Outage(start, end, _cause(connect), readings_lost=True))
    threshold = _threshold(series, width)
    for i, event in enumerate(links):
        if event.kind is not EventKind.DISCONNECTED:
            continue
        connect = next((e for e in links[i + 1 :] if e.kind is EventKind.CONNECTED), None)
        end = connect.timestamp if connect is not None else until
        if end - event.timestamp < threshold:
            continue
        if any(start < end and event.timestamp < stop for start, stop in gaps):
            continue  # the readings gap already tells this outage
        cause = Cause.POWER_LOST if _cause(connect) is Cause.POWER_LOST else Cause.OFFLINE
        outages.append(Outage(event.timestamp, end, cause, readings_lost=False))
    return sorted(outages, key=lambda o: o.start)
