"""The protocol's one timestamp format: ISO 8601 in UTC with milliseconds and ``Z``.

Every end (daemon, web service, integration) writes times with ``iso`` and reads
them with ``parse_iso``, so the format is defined here and nowhere else.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """E.g. ``2026-11-25T18:00:00.000Z`` (a naive datetime is taken as local time)."""
    # isoformat is about twice as fast as strftime: a series answer formats
    # two times per bucket.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str, *, naive_as_utc: bool = False) -> datetime:
    """An aware datetime in UTC, from ``iso``'s format or any ISO 8601 time with an offset.

    ValueError for text that is not a time, for a time without an offset (unless
    ``naive_as_utc``: then it is read as UTC), and for one that leaves the years
    1-9999 in UTC (``9999-12-31T23:00-05:00``).
    """
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        if not naive_as_utc:
            raise ValueError(f"{text[:40]!r} must be timezone-aware (end it with Z or an offset)")
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text[:40]!r} is out of range") from None
