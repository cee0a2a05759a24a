"""The history store: one interface, a SQLite and a MongoDB implementation."""

from __future__ import annotations

from pathlib import Path

from .base import (
    MAX_BUCKETS,
    Bucket,
    Event,
    EventKind,
    HistoryStore,
    LinkCursor,
    MediaInfo,
    MediaKind,
    StoredReading,
)
from .gravity import GravityReading, GravitySource
from .profiles import ProfileNameTaken, SavedProfile, TooManyProfiles
from .sessions import BrewSession, SessionNote, SessionOpen

__all__ = [
    "MAX_BUCKETS",
    "BrewSession",
    "Bucket",
    "Event",
    "EventKind",
    "GravityReading",
    "GravitySource",
    "HistoryStore",
    "LinkCursor",
    "MediaInfo",
    "MediaKind",
    "ProfileNameTaken",
    "SavedProfile",
    "SessionNote",
    "SessionOpen",
    "StoredReading",
    "TooManyProfiles",
    "create_store",
]


def create_store(mongo_url: str | None, sqlite_path: str | Path) -> HistoryStore:
    """MongoDB when a URL is configured, else the embedded SQLite file."""
    if mongo_url:
        # Imported here so a SQLite-only install never needs pymongo.
        from .mongo import MongoHistoryStore

        return MongoHistoryStore(mongo_url)
    from .sqlite import SqliteHistoryStore

    return SqliteHistoryStore(sqlite_path)
