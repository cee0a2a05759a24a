"""Typed keys for the objects shared through the aiohttp application."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from beerpi_guard.preauth import PreAuthGuard

    from .alerts.engine import AlertEngine
    from .auth import Auth
    from .config import WebConfig
    from .gravity_link import GravityToDaemons
    from .hub import DeviceHub
    from .ingest import Recorder
    from .live import LiveNamespace
    from .media import MediaCache
    from .store import HistoryStore

CONFIG: web.AppKey[WebConfig] = web.AppKey("config")
AUTH: web.AppKey[Auth] = web.AppKey("auth")
STORE: web.AppKey[HistoryStore] = web.AppKey("store")
HUB: web.AppKey[DeviceHub] = web.AppKey("hub")
RECORDER: web.AppKey[Recorder] = web.AppKey("recorder")
MEDIA: web.AppKey[MediaCache] = web.AppKey("media")
# python-socketio's AsyncServer (untyped library).
SIO: web.AppKey[Any] = web.AppKey("sio")
HTTP: web.AppKey[aiohttp.ClientSession] = web.AppKey("http_session")
# None when no alert target is configured.
ALERTS: web.AppKey[AlertEngine | None] = web.AppKey("alerts")
GUARD: web.AppKey[PreAuthGuard] = web.AppKey("preauth_guard")
LIVE: web.AppKey[LiveNamespace] = web.AppKey("live")
GRAVITY_TO_DAEMONS: web.AppKey[GravityToDaemons] = web.AppKey("gravity_to_daemons")
