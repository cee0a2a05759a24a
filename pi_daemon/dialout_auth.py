"""The daemon's side of the protocol 2 handshake and seal on its dial-out link.

The daemon opens the connection, so it is the initiator: it sends its device id
and a nonce, checks the service's proof that it knows this device's token, and
only then sends its own proof. It gives up (no more retries) when the service
cannot prove that, refuses its proof, or speaks another protocol version: each
means a configuration to fix, not a network to wait for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from beerpi_protocol.auth import Initiator, Role, Seal, SealError
from beerpi_protocol.const import ErrorCode, Handshake
from beerpi_protocol.errors import BeerPiError

_LOGGER = logging.getLogger(__name__)

Handle = Callable[[str, object], Awaitable[dict[str, Any]]]


def _refusal(message: str) -> dict[str, Any]:
    return {"ok": False, "error": ErrorCode.UNAUTHORIZED.value, "message": message}


class DialOutAuth:
    def __init__(self, token: str, device_id: str, url: str) -> None:
        self._token = token
        self._device_id = device_id
        self._url = url
        self._initiator: Initiator | None = None
        self._seal: Seal | None = None
        # One push at a time, so the service opens them in sequence order.
        self._lock = asyncio.Lock()
        self.given_up = False

    def start(self) -> dict[str, str]:
        """A new connection's ``auth``: this device's id and a fresh nonce, no secret."""
        self._initiator = Initiator(self._token, Role.DEVICE, self._device_id)
        self._seal = None
        return self._initiator.connect_auth()

    def _give_up(self, why: str) -> None:
        self.given_up = True
        _LOGGER.error("dial-out: %s %s; giving up", self._url, why)

    def refused(self, data: object) -> None:
        """The service refused the connect itself (``connect_error``)."""
        detail = data.get("data") if isinstance(data, Mapping) else None
        message = data.get("message") if isinstance(data, Mapping) else data
        if isinstance(detail, Mapping) and detail.get("error") == ErrorCode.PROTOCOL_MISMATCH:
            self._give_up(f"speaks another protocol version ({message})")
        elif message == ErrorCode.UNAUTHORIZED.value:
            # A protocol 2 service never refuses a well-formed connect as unauthorized.
            self._give_up("refused the connection (a protocol 1 service? it must be updated)")

    async def on_event(self, event: str, payload: object, namespace: Any) -> bool:
        """Run the handshake on the service's challenge; True once the link is up."""
        if event != Handshake.CHALLENGE or self._initiator is None:
            return False
        initiator, self._initiator = self._initiator, None  # one challenge per connection
        try:
            proof, seal, _ = initiator.respond(payload)
        except BeerPiError as err:
            self._give_up(f"is not trusted: {err}")
            await namespace.disconnect()
            return False
        # Before the proof goes out: the service's first request may beat the ack.
        self._seal = seal
        try:
            ack = await namespace.call(Handshake.PROOF.value, proof, timeout=10)
        except Exception as err:  # any failure here is a lost link: retry
            _LOGGER.warning("dial-out: %s did not answer the handshake (%s)", self._url, err)
            await namespace.disconnect()
            return False
        if not isinstance(ack, Mapping) or ack.get("ok") is not True:
            self._give_up("refused this device's proof of its token (a different token?)")
            await namespace.disconnect()
            return False
        return True

    async def answer(self, event: str, payload: object, handle: Handle) -> dict[str, Any]:
        """Open a request, run it, seal the answer; unsealed requests are refused."""
        seal = self._seal
        if seal is None:
            return _refusal("not authenticated")
        try:
            seq, body = seal.open(event, payload)
        except SealError as err:
            _LOGGER.debug("dial-out: refused a request from %s: %s", self._url, err)
            return _refusal(f"requests must be sealed with this link's key ({err})")
        return seal.seal_answer(seq, event, await handle(event, body))

    async def emit_sealed(self, sio: Any, event: str, payload: object, namespace: str) -> None:
        async with self._lock:
            seal = self._seal
            if seal is not None:
                await sio.emit(event, seal.seal(event, payload)[1], namespace=namespace)
