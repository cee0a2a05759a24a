"""Helpers shared by the main test suite (not the Home Assistant one)."""
