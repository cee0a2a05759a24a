"""Connections that have not authenticated: a cap on how many, and a deadline.

Every socket.io client first opens an engine.io session (an HTTP long-poll or
a websocket), then connects to a namespace, which is where the credential is
checked. A session that never gets that far holds a file descriptor and memory
for free, so about a thousand idle websockets used to exhaust a daemon. Here a
session counts as unauthenticated until one of its namespaces is fully
connected (python-socketio marks that after the namespace's connect handler
accepted it) and, where a namespace authenticates after its connect (protocol
2's challenge-response), until ``proven`` says that namespace's client has
proved its credential; at most ``max_pending`` such sessions exist at once (further
handshakes are refused at once and their TCP connection is closed), and each
gets ``deadline_s`` seconds before it is closed. How a credential is checked is
not this module's business: it wraps python-socketio's engine.io ``connect``
and ``disconnect`` hooks, so it sits around any handshake.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from .logthrottle import ThrottledLog

BUSY = {"message": "busy"}
# (namespace, socket.io sid) -> has that client proved its credential?
Proven = Callable[[str, str], bool]


def peer_of(environ: Mapping[str, Any]) -> str:
    request = environ.get("aiohttp.request")
    return str(getattr(request, "remote", None) or "?")


class PreAuthGuard:
    """Attach to a ``socketio.AsyncServer`` (before it serves anything)."""

    def __init__(
        self,
        sio: Any,
        *,
        max_pending: int,
        deadline_s: float,
        logger: logging.Logger,
        proven: Proven | None = None,
    ) -> None:
        """``proven``: for namespaces whose connect is only the start of the handshake."""
        if max_pending < 1 or deadline_s <= 0:
            raise ValueError("max_pending must be at least 1 and deadline_s positive")
        self._sio = sio
        self._max_pending = max_pending
        self._deadline_s = deadline_s
        self._log = ThrottledLog(logger)
        self._proven = proven
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.refused = 0
        self.expired = 0
        handlers = sio.eio.handlers
        self._inner_connect = handlers["connect"]
        self._inner_disconnect = handlers["disconnect"]
        sio.eio.on("connect", self._on_connect)
        sio.eio.on("disconnect", self._on_disconnect)

    @property
    def pending(self) -> int:
        """Sessions open right now that have not authenticated."""
        self._prune()
        return len(self._pending)

    def authenticated(self, eio_sid: str) -> bool:
        manager = self._sio.manager
        for namespace in list(manager.get_namespaces()):
            sid = manager.sid_from_eio_sid(eio_sid, namespace)
            if sid is None or not manager.is_connected(sid, namespace):
                continue
            if self._proven is None or self._proven(namespace, sid):
                return True
        return False

    def _prune(self) -> None:
        for eio_sid in [s for s in self._pending if self.authenticated(s)]:
            self._pending.pop(eio_sid).cancel()

    async def _on_connect(self, eio_sid: str, environ: Mapping[str, Any]) -> Any:
        self._prune()
        if len(self._pending) >= self._max_pending:
            self.refused += 1
            self._log.warning(
                "refused",
                "refused a connection from %s: %d connections have not authenticated yet",
                peer_of(environ),
                len(self._pending),
            )
            # Close the TCP connection after the refusal instead of keeping it alive.
            request = environ.get("aiohttp.request")
            protocol = getattr(request, "protocol", None)
            if protocol is not None:
                protocol.close()
            return BUSY
        result = await self._inner_connect(eio_sid, environ)
        if result is not None and result is not True:
            return result
        loop = asyncio.get_running_loop()
        self._pending[eio_sid] = loop.call_later(self._deadline_s, self._expire, eio_sid)
        return result

    async def _on_disconnect(self, eio_sid: str, reason: object = None) -> Any:
        handle = self._pending.pop(eio_sid, None)
        if handle is not None:
            handle.cancel()
        return await self._inner_disconnect(eio_sid, reason)

    def _expire(self, eio_sid: str) -> None:
        if self._pending.pop(eio_sid, None) is None or self.authenticated(eio_sid):
            return
        self.expired += 1
        self._log.warning(
            "expired",
            "closed a connection that did not authenticate within %g s",
            self._deadline_s,
        )
        task = asyncio.get_running_loop().create_task(self._close(eio_sid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self, eio_sid: str) -> None:
        """End the session and its TCP connection, whether or not the client cooperates.

        engine.io's own ``disconnect`` sends a CLOSE packet and waits for the
        client to close its end, which a client that never authenticates need
        never do; so the session is aborted and the connection closed here.
        """
        environ = self._sio.environ.get(eio_sid) or {}
        socket = self._sio.eio.sockets.get(eio_sid)
        if socket is not None:
            await socket.close(wait=False, abort=True)
            self._sio.eio.sockets.pop(eio_sid, None)
        protocol = getattr(environ.get("aiohttp.request"), "protocol", None)
        if protocol is not None:
            protocol.force_close()
