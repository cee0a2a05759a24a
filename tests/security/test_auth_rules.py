"""The handshake and seal of beerpi_protocol/auth.py against docs/protocol.md's formulas.

The formulas are computed here a second time, straight from the document, so
the code and the document cannot drift apart; then the rules a seal enforces
(replay, reorder, swapped answers, another event, another link).
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from beerpi_protocol.auth import (
    ConnectRefused,
    Initiator,
    Responder,
    Role,
    SealError,
    Transcript,
    read_connect_auth,
)
from beerpi_protocol.errors import BeerPiAuthError, BeerPiWrongDeviceError

TOKEN = "correct-horse-battery-staple-0123"
NI, NR = "a1" * 32, "b2" * 32


def doc_h(key: bytes, *parts: str) -> bytes:
    """docs/protocol.md: HMAC-SHA256 over parts, each prefixed with its 4-byte length."""
    data = b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)
    return hmac.new(key, data, hashlib.sha256).digest()


def test_proofs_and_session_key_follow_the_document() -> None:
    k = TOKEN.encode()
    dial_in = Transcript(Role.CONTROLLER, "beerpi-1", NI, NR)
    assert (
        dial_in.proof(TOKEN, Role.DEVICE)
        == doc_h(k, "beerpi/2 proof", "device", "responder", "controller", "beerpi-1", NI, NR).hex()
    )
    assert (
        dial_in.proof(TOKEN, Role.CONTROLLER)
        == doc_h(
            k, "beerpi/2 proof", "controller", "initiator", "controller", "beerpi-1", NI, NR
        ).hex()
    )
    dial_out = Transcript(Role.DEVICE, "beerpi-1", NI, NR)
    assert (
        dial_out.proof(TOKEN, Role.CONTROLLER)
        == doc_h(k, "beerpi/2 proof", "controller", "responder", "device", "beerpi-1", NI, NR).hex()
    )
    assert (
        dial_out.proof(TOKEN, Role.DEVICE)
        == doc_h(k, "beerpi/2 proof", "device", "initiator", "device", "beerpi-1", NI, NR).hex()
    )
    session = doc_h(k, "beerpi/2 session", "controller", "beerpi-1", NI, NR)
    seq, envelope = dial_in.seal(TOKEN, Role.DEVICE).seal("state", {"a": 1})
    assert seq == 1
    assert envelope == {
        "seq": 1,
        "body": '{"a":1}',
        "mac": doc_h(session, "beerpi/2 device event", "1", "state", '{"a":1}').hex(),
    }


def test_no_proof_stands_in_for_another() -> None:
    """Four proofs per transcript, one per role and position: all different."""
    proofs = {
        Transcript(initiator, "beerpi-1", NI, NR).proof(TOKEN, prover)
        for initiator in Role
        for prover in Role
    }
    assert len(proofs) == 4


def handshake(expected: str | None = "beerpi-1", token: str = TOKEN) -> tuple[Initiator, Responder]:
    initiator = Initiator(token, Role.CONTROLLER, expected)
    nonce, _ = read_connect_auth(initiator.connect_auth(), device_id_required=False, peer="client")
    return initiator, Responder(TOKEN, Role.DEVICE, "beerpi-1", nonce)


def test_a_full_handshake_gives_both_ends_the_same_key() -> None:
    initiator, responder = handshake()
    proof, controller, proven = initiator.respond(responder.challenge())
    device = responder.finish(proof)
    assert device is not None
    assert proven == "beerpi-1"
    seq, request = controller.seal("set_relay", {"relay": "heater", "on": True})
    assert device.open("set_relay", request) == (seq, {"relay": "heater", "on": True})
    answer = device.seal_answer(seq, "set_relay", {"ok": True})
    assert controller.open_answer(seq, "set_relay", answer) == {"ok": True}


def test_the_initiator_sends_nothing_to_a_wrong_or_other_device() -> None:
    initiator, responder = handshake(token=TOKEN + "x")
    with pytest.raises(BeerPiAuthError):
        initiator.respond(responder.challenge())
    initiator, responder = handshake(expected="beerpi-2")
    with pytest.raises(BeerPiWrongDeviceError) as wrong:
        initiator.respond(responder.challenge())
    assert (wrong.value.expected, wrong.value.actual) == ("beerpi-2", "beerpi-1")


def test_an_unknown_or_empty_token_never_accepts_a_proof() -> None:
    for token in (None, ""):
        responder = Responder(token, Role.CONTROLLER, "dev", NI)
        proof = responder.transcript.proof(token or "", Role.DEVICE)
        assert responder.finish({"proof": proof}) is None


def test_one_try_per_connection() -> None:
    initiator, responder = handshake()
    assert responder.finish({"proof": "00" * 32}) is None
    proof, _, _ = initiator.respond(responder.challenge())
    assert responder.finish(proof) is None  # the right proof, too late


@pytest.mark.parametrize(
    "auth",
    [None, {}, {"token": TOKEN}, {"protocol": "1.0", "nonce": NI}, {"protocol": "3.1"}],
)
def test_protocol_1_and_others_are_told_to_upgrade(auth: object) -> None:
    with pytest.raises(ConnectRefused) as refused:
        read_connect_auth(auth, device_id_required=False, peer="client")
    assert refused.value.code == "protocol_mismatch"
    assert refused.value.message.startswith("protocol 2")


def test_seals_refuse_replay_reorder_swap_and_other_links() -> None:
    initiator, responder = handshake()
    proof, controller, _ = initiator.respond(responder.challenge())
    device = responder.finish(proof)
    assert device is not None
    first = controller.seal("get_state", {})
    second = controller.seal("get_state", {})
    assert device.open("get_state", second[1])[0] == 2
    with pytest.raises(SealError, match="replayed or out of order"):
        device.open("get_state", first[1])  # held back, then delivered
    with pytest.raises(SealError, match="replayed or out of order"):
        device.open("get_state", second[1])  # the same again
    third = controller.seal("set_relay", {"relay": "heater", "on": False})
    with pytest.raises(SealError, match="wrong seal"):
        device.open("take_photo", third[1])  # sealed for another request
    changed = dict(third[1], body=third[1]["body"].replace("false", "true"))
    with pytest.raises(SealError, match="wrong seal"):
        device.open("set_relay", changed)
    # Answers are bound to their request.
    answer = device.seal_answer(2, "get_state", {"ok": True})
    with pytest.raises(SealError):
        controller.open_answer(3, "set_relay", answer)
    # Another link (same token, new nonces) has another key.
    other_initiator, other_responder = handshake()
    other_proof, _, _ = other_initiator.respond(other_responder.challenge())
    other = other_responder.finish(other_proof)
    assert other is not None
    with pytest.raises(SealError, match="wrong seal"):
        other.open("set_relay", third[1])
    for junk in (None, [], {"seq": 1}, {"seq": True, "body": "{}", "mac": ""}, {"seq": 2**60}):
        with pytest.raises(SealError):
            device.open("get_state", junk)
