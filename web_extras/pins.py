"""Which device each dial-in entry may link: named in the config, or learned once.

A ``[[daemons]]`` entry may name its ``device_id``. Without one, the first
device that proves itself at that URL (protocol 2: it proves the id together
with the token) is written to ``<data_dir>/daemon-pins.json`` and is the only
one that entry accepts from then on, across restarts. Two entries never pin the
same id. To accept another device at a URL, set ``device_id`` or delete its line
from the file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from .config import ConfigError, DaemonLink

_LOGGER = logging.getLogger(__name__)

PINS_FILE = "daemon-pins.json"


class DevicePins:
    def __init__(self, data_dir: Path, links: Sequence[DaemonLink]) -> None:
        self._path = data_dir / PINS_FILE
        self._configured = {link.url: link.device_id for link in links if link.device_id}
        self._learned: dict[str, str] = {}
        if not links:
            return  # no dial-in entry: the file says nothing to this start
        try:
            stored = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            stored = {}
        except (OSError, ValueError) as err:
            # Learning again would pin whichever device answers first, and the next
            # pin written would replace the file: the brewer decides.
            raise ConfigError(
                f"cannot read {self._path} ({err}); fix it, or remove it for each dial-in "
                "entry to learn its device again (or set device_id in its [[daemons]] entry)"
            ) from None
        if not isinstance(stored, dict):
            raise ConfigError(
                f"{self._path} does not hold dial-in pins (URL = device id); fix or remove it"
            )
        self._learned = {
            url: device
            for url, device in stored.items()
            if isinstance(url, str) and isinstance(device, str)
        }

    def expected(self, link: DaemonLink) -> str | None:
        """The device id this entry accepts, or None before it has seen one."""
        return link.device_id or self._learned.get(link.url)

    def learn(self, link: DaemonLink, device: str) -> bool:
        """Pin ``device`` to this entry; False if another entry pins it already."""
        if self.expected(link) == device:
            return True
        pinned = {**self._learned, **self._configured}
        owner = next((url for url, other in pinned.items() if other == device), None)
        if owner is not None and owner != link.url:
            _LOGGER.error(
                "%s proved it is device %s, which %s already is; not linking it",
                link.url,
                device,
                owner,
            )
            return False
        self._learned[link.url] = device
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as file:
            file.write(json.dumps(self._learned, indent=2, sort_keys=True))
            file.flush()
            # On disk before the rename: a power cut just after must not leave an
            # empty file, which now stops the next start (see __init__).
            os.fsync(file.fileno())
        tmp.replace(self._path)
        _LOGGER.info("%s is device %s; this entry accepts only it from now on", link.url, device)
        return True
