"""The daemon's side of the protocol 2 handshake and seal on its dial-out link.

The daemon opens the connection, so it is the initiator: it sends its device id
and a nonce, checks the service's proof that it knows this device's token, and
only then sends its own proof. The outcome of each connection's handshake is
one value for the link to act on (``HandshakeOutcome``): up, refused (a
configuration to fix: the link retries slowly and raises its ``link`` fault),
or lost (a network to wait for). Nothing here stops the link retrying.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from beerpi_protocol.auth import Initiator, Role, Seal, SealError
from beerpi_protocol.const import ErrorCode, Handshake
from beerpi_protocol.errors import BeerPiError

_LOGGER = logging.getLogger(__name__)

Handle = Callable[[str, object], Awaitable[dict[str, Any]]]
# A refusal's reason is the server's text: shown to people, so kept short.
REASON_CHARS = 120


@dataclass(frozen=True, slots=True)
class HandshakeOutcome:
    """``refused``/``lost`` say why the link did not come up; both None: it is up."""

    refused: str | None = None
    lost: str | None = None


def refusal_reason(data: object) -> str:
    """Why the service refused the connect (its CONNECT_ERROR), for the log and the fault."""
    detail = data.get("data") if isinstance(data, Mapping) else None
    message = data.get("message") if isinstance(data, Mapping) else data
    text = message if isinstance(message, str) and message else "no reason given"
    if isinstance(detail, Mapping) and detail.get("error") == ErrorCode.PROTOCOL_MISMATCH:
        text = f"it speaks another protocol version: {text}"
    elif text == ErrorCode.UNAUTHORIZED.value:
        # A protocol 2 service never refuses a well-formed connect as unauthorized.
        text = "unauthorized (a protocol 1 service? it must be updated)"
    return text[:REASON_CHARS]


def _refusal(message: str) -> dict[str, Any]:
    return {"ok": False, "error": ErrorCode.UNAUTHORIZED.value, "message": message}


class DialOutAuth:
    def __init__(self, token: str, device_id: str, url: str) -> None:
        self._token = token
        self._device_id = device_id
        self._url = url
        self._initiator: Initiator | None = None
        self._seal: Seal | None = None
        self._outcome: asyncio.Future[HandshakeOutcome] | None = None
        # One push at a time, so the service opens them in sequence order.
        self._lock = asyncio.Lock()

    @property
    def up(self) -> bool:
        return self._seal is not None and self._initiator is None

    def start(self) -> dict[str, str]:
        """A new connection's ``auth``: this device's id and a fresh nonce, no secret."""
        self._initiator = Initiator(self._token, Role.DEVICE, self._device_id)
        self._seal = None
        self._outcome = asyncio.get_running_loop().create_future()
        return self._initiator.connect_auth()

    async def outcome(self, timeout_s: float) -> HandshakeOutcome:
        """How this connection's handshake ended; lost when it takes over ``timeout_s``."""
        assert self._outcome is not None, "start() first"
        try:
            return await asyncio.wait_for(asyncio.shield(self._outcome), timeout_s)
        except TimeoutError:
            return HandshakeOutcome(lost=f"no handshake within {timeout_s:g} s")

    def _settle(self, outcome: HandshakeOutcome) -> None:
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(outcome)

    def ended(self) -> None:
        """The connection ended; a handshake still waiting is lost."""
        self._settle(HandshakeOutcome(lost="the connection ended during the handshake"))

    def is_challenge(self, event: str) -> bool:
        return event == Handshake.CHALLENGE and self._initiator is not None

    async def on_challenge(self, payload: object, namespace: Any) -> None:
        """Check the service's proof, then send ours; settles this connection's outcome."""
        initiator, self._initiator = self._initiator, None  # one challenge per connection
        assert initiator is not None
        try:
            proof, seal, _ = initiator.respond(payload)
        except BeerPiError as err:
            self._settle(HandshakeOutcome(refused=f"the service is not trusted: {err}"))
            await namespace.disconnect()
            return
        # Before the proof goes out: the service's first request may beat the ack.
        self._seal = seal
        try:
            ack = await namespace.call(Handshake.PROOF.value, proof, timeout=10)
        except Exception as err:  # any failure here is a lost link: retry
            self._seal = None
            self._settle(HandshakeOutcome(lost=f"no answer to the handshake ({err})"))
            await namespace.disconnect()
            return
        if not isinstance(ack, Mapping) or ack.get("ok") is not True:
            self._seal = None
            self._settle(HandshakeOutcome(refused="it refused this device's proof of its token"))
            await namespace.disconnect()
            return
        self._settle(HandshakeOutcome())

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
