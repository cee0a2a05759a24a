"""Protocol 2 authentication: the connect handshake and the seal on every later message.

The token never crosses the wire. Each side proves it knows it with an
HMAC-SHA256 over both sides' fresh nonces, the device id, and a label naming the
prover's role (device or controller) and position (initiator or responder), so a
proof is good for one connection only and cannot be reflected back. The
responder (the side that accepted the socket.io connection) proves itself
first; the initiator checks that proof, and the device id bound into it, before
it sends anything derived from the token.

Both sides then derive a session key from the token and the transcript, and
every message after the handshake carries a sequence number and an HMAC over
its direction, number, event name and exact JSON text. Whoever sits in the
middle of a connection (a relay, an impostor that forwards the handshake to the
real device) can drop messages but cannot forge, change, replay or reorder one.
TLS adds confidentiality; this module adds authentication and integrity.
docs/protocol.md ("Authentication") is the prose twin of this file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from .const import MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, ErrorCode, protocol_major
from .errors import BeerPiAuthError, BeerPiConnectionError, BeerPiWrongDeviceError

NONCE_BYTES: Final = 32
# Device ids as the daemon's config allows them (``beerpi-1a2b3c4d``); others are refused.
_DEVICE_ID: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# JSON numbers are exact up to 2**53: sequence numbers stay below it.
_MAX_SEQ: Final = 2**53
_HEX: Final = frozenset("0123456789abcdef")

# Labels that keep every HMAC of the protocol apart from every other.
_PROOF: Final = "beerpi/2 proof"
_SESSION: Final = "beerpi/2 session"
_DEVICE_EVENT: Final = "beerpi/2 device event"
_CONTROLLER_REQUEST: Final = "beerpi/2 controller request"
_DEVICE_ANSWER: Final = "beerpi/2 device answer"


class Role(StrEnum):
    """Who is who on a link, whichever side opened the socket.io connection."""

    # The daemon on the Pi: pushes events, answers requests.
    DEVICE = "device"
    # Home Assistant, the web service, a script: sends requests.
    CONTROLLER = "controller"

    @property
    def peer(self) -> Role:
        return Role.CONTROLLER if self is Role.DEVICE else Role.DEVICE


class SealError(Exception):
    """A message after the handshake is not sealed, or its seal is wrong, replayed or late."""


class ConnectRefused(Exception):
    """The connect packet's ``auth`` cannot start a protocol 2 handshake.

    ``message`` is for people (an old client prints it as is); ``code`` for programs.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def data(self) -> dict[str, str]:
        return {"error": self.code.value, "protocol_version": PROTOCOL_VERSION}


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def valid_nonce(value: object) -> bool:
    return isinstance(value, str) and len(value) == 2 * NONCE_BYTES and set(value) <= _HEX


def valid_device_id(value: object) -> bool:
    return isinstance(value, str) and _DEVICE_ID.fullmatch(value) is not None


def _bytes(text: str) -> bytes:
    # surrogatepass: text from the network never makes the HMAC raise.
    return text.encode("utf-8", "surrogatepass")


def _mac(key: bytes, *parts: str) -> bytes:
    """HMAC-SHA256 over length-prefixed parts, so no two part lists give the same input."""
    framed = b"".join(len(b).to_bytes(4, "big") + b for b in map(_bytes, parts))
    return hmac.new(key, framed, hashlib.sha256).digest()


def _same(expected: str, given: object) -> bool:
    """Constant-time comparison of a hex MAC with whatever the peer sent."""
    return isinstance(given, str) and hmac.compare_digest(_bytes(expected), _bytes(given))


@dataclass(frozen=True, slots=True)
class Transcript:
    """What both proofs and the session key of one connection are bound to."""

    initiator: Role
    device_id: str
    initiator_nonce: str
    responder_nonce: str

    def _parts(self) -> tuple[str, str, str, str]:
        return (self.initiator.value, self.device_id, self.initiator_nonce, self.responder_nonce)

    def proof(self, token: str, prover: Role) -> str:
        position = "initiator" if prover is self.initiator else "responder"
        return _mac(_bytes(token), _PROOF, prover.value, position, *self._parts()).hex()

    def proof_ok(self, token: str, prover: Role, given: object) -> bool:
        return _same(self.proof(token, prover), given)

    def seal(self, token: str, own: Role) -> Seal:
        return Seal(_mac(_bytes(token), _SESSION, *self._parts()), own)


def read_connect_auth(auth: object, *, device_id_required: bool, peer: str) -> tuple[str, str]:
    """The initiator's nonce and claimed device id ('' when not required) from ``auth``.

    A version 1 client sends ``{"token": ...}``: it gets a refusal that says to
    upgrade (the token has crossed the wire already; nothing can undo that).
    """
    upgrade = f"protocol 2 required: update this {peer} (it must not send a token at connect)"
    if not isinstance(auth, Mapping) or "protocol" not in auth:
        raise ConnectRefused(ErrorCode.PROTOCOL_MISMATCH, upgrade)
    version = auth.get("protocol")
    if not isinstance(version, str) or protocol_major(version) != protocol_major(PROTOCOL_VERSION):
        raise ConnectRefused(
            ErrorCode.PROTOCOL_MISMATCH,
            f"protocol {PROTOCOL_VERSION} required, the {peer} speaks {str(version)[:16]!r}",
        )
    nonce = auth.get("nonce")
    device_id = auth.get("device_id", "")
    if not valid_nonce(nonce):
        raise ConnectRefused(ErrorCode.UNAUTHORIZED, "unauthorized")
    if device_id_required and not valid_device_id(device_id):
        raise ConnectRefused(ErrorCode.UNAUTHORIZED, "unauthorized")
    assert isinstance(nonce, str)
    return nonce, device_id if device_id_required and isinstance(device_id, str) else ""


class Responder:
    """The side that accepted the connection: challenge first, then check the proof.

    ``token`` None or empty (a dial-out device id nobody configured, a daemon
    without a token) answers with a proof under a random key, so the initiator
    cannot tell an unknown id from a wrong token, and no proof is ever accepted.
    """

    def __init__(self, token: str | None, role: Role, device_id: str, initiator_nonce: str) -> None:
        self._known = bool(token)
        self._token = token if token else secrets.token_hex(32)
        self._role = role
        self._tried = False
        self.transcript = Transcript(role.peer, device_id, initiator_nonce, new_nonce())

    def challenge(self) -> dict[str, str]:
        transcript = self.transcript
        return {
            "device_id": transcript.device_id,
            "nonce": transcript.responder_nonce,
            "proof": transcript.proof(self._token, self._role),
        }

    def finish(self, message: object) -> Seal | None:
        """The link's seal when ``message`` carries the initiator's proof, else None.

        One try per connection: a second call is always None.
        """
        tried, self._tried = self._tried, True
        if tried:
            return None
        proof = message.get("proof") if isinstance(message, Mapping) else None
        good = self.transcript.proof_ok(self._token, self._role.peer, proof)
        if not (good and self._known):
            return None
        return self.transcript.seal(self._token, self._role)


# Why a handshake failed, for whoever reads it where the initiator runs: a brewer at
# Home Assistant's Link sensor or the web service's links (a controller that dialled a
# BeerPi), or at a daemon's `link` fault (a BeerPi that dialled out to a web service).
# The peer's proof does not check out with our token: it holds another one, or it is
# not what it claims; either way the fix is to compare the tokens.
REFUSED_TOKEN: dict[Role, str] = {
    Role.CONTROLLER: (
        "the BeerPi refused the token (it holds another one, or it is not a BeerPi): "
        "check the token against the Pi's token file"
    ),
    Role.DEVICE: (
        "the web service refused this BeerPi's token (it holds another one, or none, for this "
        "device id, or it is not a BeerPi web service): check the token against the "
        "service's device_tokens (or device_tokens_file)"
    ),
}


class Initiator:
    """The side that opens the connection: sends a nonce, checks the responder's proof.

    ``device_id`` is the device's own id (role DEVICE), or the id a controller
    expects (None: learn it from the proof, e.g. when a device is first set up).
    """

    def __init__(self, token: str, role: Role, device_id: str | None = None) -> None:
        if role is Role.DEVICE and not device_id:
            raise ValueError("a device initiator needs its own id")
        self._token = token
        self._role = role
        self._device_id = device_id
        self.nonce = new_nonce()

    def connect_auth(self) -> dict[str, str]:
        """The connect packet's ``auth``: nothing secret, nothing that can be replayed."""
        auth = {"protocol": PROTOCOL_VERSION, "nonce": self.nonce}
        if self._role is Role.DEVICE:
            assert self._device_id is not None
            auth["device_id"] = self._device_id
        return auth

    def respond(self, challenge: object) -> tuple[dict[str, str], Seal, str]:
        """Check the challenge; return our proof message, the link's seal, the proven id.

        Raises BeerPiConnectionError (not a protocol 2 challenge), BeerPiAuthError
        (the peer cannot prove it knows the token) or BeerPiWrongDeviceError
        (it proved another device id than expected). Nothing has been sent then.
        """
        if not isinstance(challenge, Mapping):
            raise BeerPiConnectionError("the peer sent no protocol 2 challenge")
        device_id, nonce = challenge.get("device_id"), challenge.get("nonce")
        if not valid_device_id(device_id) or not valid_nonce(nonce):
            raise BeerPiConnectionError("the peer sent a malformed challenge")
        assert isinstance(device_id, str)
        assert isinstance(nonce, str)
        transcript = Transcript(self._role, device_id, self.nonce, nonce)
        # The proof first: an impostor must not get to name a device id it cannot prove.
        if not transcript.proof_ok(self._token, self._role.peer, challenge.get("proof")):
            raise BeerPiAuthError(REFUSED_TOKEN[self._role])
        if self._device_id is not None and device_id != self._device_id:
            if self._role is Role.DEVICE:
                raise BeerPiAuthError(f"the service answered for another device ({device_id!r})")
            raise BeerPiWrongDeviceError(self._device_id, device_id)
        proof = {"proof": transcript.proof(self._token, self._role)}
        return proof, transcript.seal(self._token, self._role), device_id


def _dumps(payload: object) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _loads(body: str) -> Any:
    if len(body) > MAX_PAYLOAD_BYTES:
        raise SealError("sealed body too large")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as err:
        raise SealError(f"sealed body is not JSON: {err}") from None


class Seal:
    """Seals what one side sends and opens what it receives, on one authenticated link.

    The device seals pushes and answers and opens requests; the controller seals
    requests and opens pushes and answers. Pushes and requests are numbered per
    direction; a number that is not above the last one opened is refused (a
    replay, or a message held back). An answer is bound to its request's number
    and event name, so answers cannot be swapped.
    """

    def __init__(self, key: bytes, role: Role) -> None:
        self._key = key
        self.role = role
        self._sent = 0
        self._opened = 0

    def _envelope(self, label: str, seq: int, event: str, body: str) -> dict[str, Any]:
        return {
            "seq": seq,
            "body": body,
            "mac": _mac(self._key, label, str(seq), event, body).hex(),
        }

    def _check(self, label: str, event: str, envelope: object) -> tuple[int, str]:
        if not isinstance(envelope, Mapping):
            raise SealError("not sealed")
        seq, body = envelope.get("seq"), envelope.get("body")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < _MAX_SEQ:
            raise SealError("not sealed: no sequence number")
        if not isinstance(body, str):
            raise SealError("not sealed: no body")
        expected = _mac(self._key, label, str(seq), event, body).hex()
        if not _same(expected, envelope.get("mac")):
            raise SealError("wrong seal")
        return seq, body

    def seal(self, event: str, payload: object) -> tuple[int, dict[str, Any]]:
        """A push (device) or a request (controller): its number and envelope."""
        self._sent += 1
        label = _DEVICE_EVENT if self.role is Role.DEVICE else _CONTROLLER_REQUEST
        return self._sent, self._envelope(label, self._sent, event, _dumps(payload))

    def open(self, event: str, envelope: object) -> tuple[int, Any]:
        """A request (device) or a push (controller): its number and payload."""
        label = _CONTROLLER_REQUEST if self.role is Role.DEVICE else _DEVICE_EVENT
        seq, body = self._check(label, event, envelope)
        if seq <= self._opened:
            raise SealError(f"replayed or out of order (#{seq} after #{self._opened})")
        self._opened = seq
        return seq, _loads(body)

    def seal_answer(self, seq: int, event: str, answer: object) -> dict[str, Any]:
        """The device's answer to request ``seq``."""
        if self.role is not Role.DEVICE:
            raise ValueError("only the device answers requests")
        return self._envelope(_DEVICE_ANSWER, seq, event, _dumps(answer))

    def open_answer(self, seq: int, event: str, envelope: object) -> Any:
        """The controller opens the answer to its request ``seq``."""
        if self.role is not Role.CONTROLLER:
            raise ValueError("only a controller opens answers")
        got, body = self._check(_DEVICE_ANSWER, event, envelope)
        if got != seq:
            raise SealError(f"answer #{got} to request #{seq}")
        return _loads(body)
