"""daemon-pins.json: a damaged one stops the start, so each pin must reach the disk whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from web_extras.config import DaemonLink
from web_extras.pins import PINS_FILE, DevicePins


def test_a_learned_pin_is_on_disk_before_it_replaces_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written, then renamed without an fsync, a power cut could leave an empty
    daemon-pins.json, which the service now refuses to start with."""
    events: list[str] = []
    fsync, replace = os.fsync, Path.replace

    def watched_fsync(fd: int) -> None:
        events.append(f"fsync {Path(f'/proc/self/fd/{fd}').readlink().name}")
        fsync(fd)

    def watched_replace(self: Path, target: Path) -> Path:
        events.append(f"replace {self.name} -> {Path(target).name}")
        return replace(self, target)

    monkeypatch.setattr(os, "fsync", watched_fsync)
    monkeypatch.setattr(Path, "replace", watched_replace)
    link = DaemonLink(url="ws://127.0.0.1:8765", token="Vq3LrT8xZp2NwK7sHd4JmB6c")
    assert DevicePins(tmp_path, [link]).learn(link, "beerpi-1a2b3c4d")
    tmp_name = (tmp_path / PINS_FILE).with_suffix(".tmp").name
    assert events == [f"fsync {tmp_name}", f"replace {tmp_name} -> {PINS_FILE}"]
    assert DevicePins(tmp_path, [link]).expected(link) == "beerpi-1a2b3c4d"
