"""What a reader without a login sees under ``public_read``: readings and live state.

Photos and videos, fault messages (they can name paths and hardware) and
software versions (a map of what to attack) need a login, unless the service
is configured with ``public_details``. These take the JSON the API and
``/live`` send to a logged-in user and leave those parts out.
"""

from __future__ import annotations

from typing import Any

_MEDIA_EVENTS = frozenset({"photo", "video"})


def public_state(state: dict[str, Any] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    faults = [{**fault, "message": ""} for fault in state.get("faults", [])]
    return {**state, "faults": faults, "latest_photo": None}


def public_info(info: dict[str, Any] | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {**info, "sw_version": "", "protocol_version": ""}


def public_device(entry: dict[str, Any]) -> dict[str, Any]:
    """One entry of ``GET /api/devices`` (``DeviceRecord.to_json``)."""
    return {
        **entry,
        "device": public_info(entry.get("device")),
        "state": public_state(entry.get("state")),
    }


def public_event(event: dict[str, Any]) -> dict[str, Any]:
    """One timeline event (``event_json``)."""
    data = dict(event.get("data") or {})
    if event.get("kind") in _MEDIA_EVENTS:
        data = {}
    data.pop("message", None)
    return {**event, "data": data}
