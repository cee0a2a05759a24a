"""Tests of the BeerPi Home Assistant integration."""
