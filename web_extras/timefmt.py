"""Times in and out of the API, in the protocol's format (beerpi_protocol.timestamps)."""

from __future__ import annotations

from datetime import UTC, datetime

from beerpi_protocol.timestamps import iso
from beerpi_protocol.timestamps import parse_iso as _parse_protocol

__all__ = ["iso", "now", "parse_iso"]


def parse_iso(text: str) -> datetime:
    """An aware datetime in UTC; a time a user typed without an offset is taken as UTC.

    ValueError for text that is not a time, or one that leaves the years 1-9999
    in UTC (``9999-12-31T23:00-05:00``).
    """
    return _parse_protocol(text, naive_as_utc=True)


def now() -> datetime:
    return datetime.now(UTC)
