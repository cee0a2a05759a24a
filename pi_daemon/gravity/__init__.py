"""Hydrometers: what the daemon knows of the beer's gravity, and where it comes from.

Readings come from a Tilt over Bluetooth LE (tilt.py decodes, ble.py listens),
from the simulation's Tilt, or from a client's ``report_gravity``; the book
(book.py) keeps each hydrometer's latest and a short history that profile steps
ending on gravity read (conditions.py).
"""

from .book import MAX_HYDROMETERS, GravityError, HydrometerBook, new_reading
from .source import HydrometerSource

__all__ = ["MAX_HYDROMETERS", "GravityError", "HydrometerBook", "HydrometerSource", "new_reading"]
