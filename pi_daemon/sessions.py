"""Which socket.io clients of the daemon are authenticated, and each one's seal.

A connect starts the protocol 2 handshake (``beerpi_protocol.auth``): the daemon
is the responder and proves itself first with its challenge; the client's proof
completes it. Until then the connection is *pending*: it receives nothing but
the challenge, and any request it sends is refused.
"""

from __future__ import annotations

from beerpi_protocol.auth import Responder, Role, Seal, read_connect_auth


class Sessions:
    def __init__(self, device_id: str, token: str) -> None:
        self._device_id = device_id
        self._token = token
        self._pending: dict[str, Responder] = {}
        self._seals: dict[str, Seal] = {}

    def begin(self, sid: str, auth: object) -> dict[str, str]:
        """The challenge for a new connection; ConnectRefused if ``auth`` cannot start one."""
        nonce, _ = read_connect_auth(auth, device_id_required=False, peer="client")
        responder = Responder(self._token, Role.DEVICE, self._device_id, nonce)
        self._pending[sid] = responder
        return responder.challenge()

    def finish(self, sid: str, message: object) -> Seal | None:
        """The link's seal if ``message`` proves the token; one try per connection."""
        responder = self._pending.pop(sid, None)
        if responder is None:
            return None
        seal = responder.finish(message)
        if seal is not None:
            self._seals[sid] = seal
        return seal

    def is_pending(self, sid: str) -> bool:
        return sid in self._pending

    def seal(self, sid: str) -> Seal | None:
        return self._seals.get(sid)

    def drop(self, sid: str) -> None:
        self._pending.pop(sid, None)
        self._seals.pop(sid, None)

    @property
    def authenticated(self) -> int:
        return len(self._seals)
