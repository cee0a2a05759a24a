"""Sends notifications through Apprise (ntfy, e-mail, Telegram, Pushover, Discord, ...).

Each target of ``[alerts.targets]`` is added under its name as an Apprise tag,
so a rule's ``notify`` list picks targets by name. Bodies go as plain text, so
no service renders a device's string as markup. The URLs hold secrets: nothing
here logs them (Apprise itself logs them with the secrets masked).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from .rules import Severity

_LOGGER = logging.getLogger(__name__)

# A target that hangs must not hold the queue for long.
SEND_TIMEOUT_S = 30.0


class Notifier(Protocol):
    @property
    def targets(self) -> Sequence[str]: ...

    async def send(
        self, title: str, body: str, severity: Severity, targets: Sequence[str] = ()
    ) -> bool:
        """True when every chosen target (all when empty) accepted the message."""
        ...


class AppriseNotifier:
    def __init__(self, targets: Mapping[str, str]) -> None:
        import apprise  # the web extra; only a service with alerts loads it

        self._apprise = apprise.Apprise()
        for name, url in targets.items():
            if not self._apprise.add(url, tag=name):
                raise ValueError(f"Apprise does not understand the URL of target {name!r}")
        self._names = tuple(targets)

    @property
    def targets(self) -> Sequence[str]:
        return self._names

    async def send(
        self, title: str, body: str, severity: Severity, targets: Sequence[str] = ()
    ) -> bool:
        import apprise

        tags: list[str] | str = list(targets) if targets else apprise.common.MATCH_ALL_TAG
        result = await self._apprise.async_notify(
            body=body,
            title=title,
            notify_type=apprise.NotifyType(severity.value),
            body_format=apprise.NotifyFormat.TEXT,
            tag=tags,
            timeout=SEND_TIMEOUT_S,
        )
        if not result:
            _LOGGER.warning(
                "alert %r not delivered to every target (%s)", title, ", ".join(targets) or "all"
            )
        return bool(result)
