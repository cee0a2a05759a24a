"""Hypothesis over the service's socket.io doors: ``/live`` (browsers) and ``/devices`` (dial-out).

Wrong tokens, near misses and garbage auth payloads of any JSON shape are
refused at connect (``/live``: ``unauthorized``; ``/devices``: protocol 2 is
required, or ``unauthorized``). On ``/devices`` a well-formed protocol 2 connect
gets a challenge, and every proof made from a wrong token, a near miss, another
device's token or a reflected proof is refused; a refused dial-out never shows
up as a device; the service keeps answering, and the right device still gets in
afterwards. Also: the session key the service writes into its data dir is
owner-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beerpi_protocol.auth import Role, Transcript, new_nonce
from tests.reliability.helpers import LoopThread
from tests.web.service import RunningService, running_service, web_config
from web_extras.keys import CONFIG

API_TOKEN = "live-api-token-0123456789"
DEVICE = "dialout-fuzz"
DEVICE_TOKEN = "dialout-device-token-0123456789"
EXAMPLES = 100


@dataclass
class Served:
    thread: LoopThread
    service: RunningService
    attempts: int = 0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    thread = LoopThread()
    stack = contextlib.AsyncExitStack()
    config = web_config(
        tmp_path_factory.mktemp("fuzz-sio"),
        api_token=API_TOKEN,
        device_tokens={DEVICE: DEVICE_TOKEN, "other-device": "other-device-token-0123"},
    )

    async def start() -> RunningService:
        return await stack.enter_async_context(running_service(config))

    try:
        yield Served(thread, thread.run(start()))
    finally:
        thread.run(stack.aclose())
        thread.close()


async def attempt(url: str, namespace: str, auth: Any) -> tuple[bool, list[Any]]:
    """Connect once; (connected, connect_error payloads)."""
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, request_timeout=5)
    errors: list[Any] = []
    sio.on("connect_error", errors.append, namespace=namespace)
    try:
        await sio.connect(
            url, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        return False, errors
    finally:
        await sio.shutdown()
    return True, errors


def json_values() -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=200)
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner),
        max_leaves=12,
    )


def near(secret: str) -> st.SearchStrategy[str]:
    """Strings one edit away from ``secret``, and its prefixes/extensions."""
    return st.one_of(
        st.integers(0, len(secret) - 1).map(lambda i: secret[:i]),
        st.text(min_size=1, max_size=3).map(lambda extra: secret + extra),
        st.integers(0, len(secret) - 1).map(
            lambda i: secret[:i] + chr((ord(secret[i]) + 1) % 0x7F or 1) + secret[i + 1 :]
        ),
        st.just(secret.upper()),
        st.just(f"Bearer {secret}"),
        st.just(f" {secret}"),
    )


def tokens(secret: str) -> st.SearchStrategy[Any]:
    return st.one_of(near(secret), st.text(max_size=100), json_values(), st.just([secret]))


LIVE_AUTH = st.one_of(
    json_values(),
    st.fixed_dictionaries({"token": tokens(API_TOKEN)}),
    st.fixed_dictionaries({"token": tokens(API_TOKEN)}, optional={"user": st.text()}),
    st.just({"Token": API_TOKEN}),
    st.just({"token": DEVICE_TOKEN}),  # a device's token is not a browser's
)
# Connects that cannot start a protocol 2 handshake (version 1's token among them).
DEVICE_AUTH = st.one_of(
    json_values(),
    st.fixed_dictionaries(
        {
            "device_id": st.one_of(st.just(DEVICE), near(DEVICE), st.text(max_size=40)),
            "token": st.one_of(st.just(DEVICE_TOKEN), tokens(DEVICE_TOKEN)),
        }
    ),
    st.just({"token": DEVICE_TOKEN}),
    st.just({"device_id": DEVICE}),
    st.fixed_dictionaries(
        {"protocol": st.just("2.0"), "nonce": st.text(max_size=70), "device_id": st.just(DEVICE)}
    ),
    st.fixed_dictionaries(
        {
            "protocol": st.just("2.0"),
            "nonce": st.just("ab" * 32),
            "device_id": st.text(max_size=70).filter(lambda d: d != DEVICE),
        }
    ).filter(lambda a: not a["device_id"].replace("-", "").isalnum()),
)
# (device id claimed, token the proof is made with) that must not get a link.
WRONG_PROOFS = st.one_of(
    st.tuples(
        st.just(DEVICE),
        st.one_of(near(DEVICE_TOKEN), st.text(max_size=100)).filter(lambda t: t != DEVICE_TOKEN),
    ),
    st.tuples(st.just("other-device"), st.just(DEVICE_TOKEN)),  # another device's token
    st.tuples(st.just(DEVICE), st.just("other-device-token-0123")),
    st.tuples(st.just(DEVICE), st.just(API_TOKEN)),
    st.tuples(
        st.from_regex(r"\A[a-z0-9-]{1,20}\Z").filter(lambda d: d != DEVICE), st.just(DEVICE_TOKEN)
    ),
    st.tuples(st.just(DEVICE), st.just("")),
)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


async def health(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/health") as answer:
        return answer.status


def test_live_refuses_every_wrong_credential(served: Served) -> None:
    url = served.service.url

    @FUZZ
    @given(auth=LIVE_AUTH)
    def refused(auth: Any) -> None:
        served.attempts += 1
        ok, errors = served.thread.run(attempt(url, "/live", auth))
        assert not ok, auth
        assert errors == [{"message": "unauthorized"}], auth

    refused()
    assert served.thread.run(health(url)) == 200
    ok, _ = served.thread.run(attempt(url, "/live", {"token": API_TOKEN}))
    assert ok


def test_devices_refuses_old_and_malformed_connects(served: Served) -> None:
    url = served.service.url

    @FUZZ
    @given(auth=DEVICE_AUTH)
    def refused(auth: Any) -> None:
        served.attempts += 1
        ok, errors = served.thread.run(attempt(url, "/devices", auth))
        assert not ok, auth
        assert len(errors) == 1, auth
        message = errors[0]["message"]
        assert message == "unauthorized" or message.startswith("protocol 2"), (auth, errors)

    refused()
    assert served.service.hub.records() == []  # no refused daemon became a device
    assert served.thread.run(health(url)) == 200


async def dial_out(url: str, device: str, token: str, *, reflect: bool = False) -> Any:
    """A protocol 2 connect as ``device``, then a proof made with ``token``: the ack."""
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, request_timeout=5)
    challenge: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    sio.on("auth_challenge", challenge.set_result, namespace="/devices")
    nonce = new_nonce()
    auth = {"protocol": "2.0", "nonce": nonce, "device_id": device}
    try:
        await sio.connect(url, namespaces=["/devices"], auth=auth, transports=["websocket"])
        sent = await asyncio.wait_for(challenge, 5)
        transcript = Transcript(Role.DEVICE, device, nonce, sent["nonce"])
        proof = sent["proof"] if reflect else transcript.proof(token, Role.DEVICE)
        return await sio.call("auth_proof", {"proof": proof}, namespace="/devices", timeout=5)
    finally:
        await sio.shutdown()


def test_devices_refuses_every_wrong_proof(served: Served) -> None:
    url = served.service.url

    @FUZZ
    @given(claim=WRONG_PROOFS)
    def refused(claim: tuple[str, str]) -> None:
        served.attempts += 1
        ack = served.thread.run(dial_out(url, *claim))
        assert ack == {"ok": False, "error": "unauthorized", "message": "wrong proof"}, claim

    refused()
    # The service's own proof sent back is not the device's.
    ack = served.thread.run(dial_out(url, DEVICE, DEVICE_TOKEN, reflect=True))
    assert ack["ok"] is False
    assert served.service.hub.records() == []


def test_the_right_device_still_gets_in(served: Served) -> None:
    async def right() -> Any:
        ack = await dial_out(served.service.url, DEVICE, DEVICE_TOKEN)
        await asyncio.sleep(0.2)
        return ack

    assert served.thread.run(right()) == {"ok": True}
    print(f"\nsocket.io auth fuzz: {served.attempts} refused connects (/live and /devices)")
    assert served.attempts >= 3 * EXAMPLES


def test_session_key_is_owner_only(served: Served) -> None:
    data_dir: Path = served.service.app[CONFIG].data_dir
    mode = stat.S_IMODE((data_dir / "session.key").stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert not list(data_dir.glob("session.tmp"))  # no copy left behind
