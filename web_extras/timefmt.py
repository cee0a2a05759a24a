"""ISO 8601 in and out of the API: UTC, milliseconds, ``Z``, like the protocol."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """An aware datetime in UTC; a time without an offset is taken as UTC.

    ValueError for text that is not a time, or one that leaves the years 1-9999
    in UTC (``9999-12-31T23:00-05:00``).
    """
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text[:40]!r} is out of range") from None


def now() -> datetime:
    return datetime.now(UTC)
