"""Async socket.io client for one BeerPi daemon.

Used by the Home Assistant integration (a vendored copy), the web service and
the tests. It connects with the protocol 2 handshake (auth.py: the token never
crosses the wire, and the daemon must prove the device id before anything is
sent), waits for ``device`` and the first ``state``, keeps the latest of both,
calls listeners on pushes, and turns every request's acknowledgement into a
value or a typed exception. Every push and answer is opened, and every request
sealed, with the link's session key.

It does not reconnect by itself: ``ReconnectLogic`` (reconnect.py) owns that, so
that a refused token can stop the retries instead of hammering the daemon.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import socketio

from .auth import REFUSED_TOKEN, Initiator, Role, Seal, SealError
from .const import (
    DEFAULT_PORT,
    MAX_PHOTO_BYTES,
    PROTOCOL_VERSION,
    SOCKETIO_PATH,
    ErrorCode,
    Event,
    Handshake,
    Request,
    protocol_major,
)
from .errors import (
    BeerPiAuthError,
    BeerPiConnectionError,
    BeerPiError,
    BeerPiProtocolVersionError,
    BeerPiRequestError,
)
from .models import DeviceInfo, FaultInfo, MediaInfo, ReadingsPage, State, ThermostatState
from .requests import (
    GetMedia,
    GetState,
    GravityAnswer,
    MediaChunk,
    PauseProfile,
    ReadingsSince,
    RecordVideo,
    ReportGravity,
    RequestModel,
    ResumeProfile,
    SetRelay,
    SetThermostat,
    SignedUrl,
    SignUrl,
    Simulate,
    SkipStep,
    StateAnswer,
    TakePhoto,
    ThermostatAnswer,
    VideoAnswer,
    read_mode,
)

_LOGGER = logging.getLogger(__name__)

StateListener = Callable[[State], None]
FaultListener = Callable[[FaultInfo], None]
MediaListener = Callable[[MediaInfo], None]
ReadingsListener = Callable[[ReadingsPage], None]
ConnectionListener = Callable[[bool], None]


def ack_to_result(request: str, ack: object) -> dict[str, Any]:
    """Turn a request's acknowledgement into its payload, or raise why it failed."""
    if not isinstance(ack, Mapping):
        raise BeerPiRequestError(
            ErrorCode.INTERNAL_ERROR.value, f"{request}: malformed answer {ack!r:.80}"
        )
    if ack.get("ok") is True:
        return dict(ack)
    code = ack.get("error")
    message = ack.get("message")
    raise BeerPiRequestError(
        code if isinstance(code, str) else ErrorCode.INTERNAL_ERROR.value,
        message if isinstance(message, str) else f"{request} failed",
    )


class _Namespace(socketio.AsyncClientNamespace):  # type: ignore[misc]
    """Routes socket.io events of the default namespace to the client."""

    def __init__(self, client: BeerPiClient) -> None:
        super().__init__("/")
        self._client = client

    async def on_connect_error(self, data: object = None) -> None:
        self._client._on_connect_error(data)

    async def on_disconnect(self, reason: object = None) -> None:
        self._client._on_disconnect()

    async def on_auth_challenge(self, data: object = None) -> None:
        self._client._on_challenge(data)

    # Pushes are opened first thing, before any await: socket.io starts one task per
    # message in arrival order, so the sequence numbers are checked in that order.
    async def on_device(self, data: object = None) -> None:
        self._client._on_device(self._client._open(Event.DEVICE, data))

    async def on_state(self, data: object = None) -> None:
        self._client._on_state(self._client._open(Event.STATE, data))

    async def on_fault(self, data: object = None) -> None:
        data = self._client._open(Event.FAULT, data)
        if isinstance(data, Mapping):
            self._client._notify(self._client._fault_listeners, FaultInfo.from_dict(data))

    async def on_photo(self, data: object = None) -> None:
        data = self._client._open(Event.PHOTO, data)
        if isinstance(data, Mapping):
            self._client._notify(self._client._media_listeners, MediaInfo.from_dict(data))

    async def on_readings(self, data: object = None) -> None:
        data = self._client._open(Event.READINGS, data)
        if isinstance(data, Mapping):
            self._client._notify(self._client._readings_listeners, ReadingsPage.from_dict(data))


class BeerPiClient:
    """One connection to one daemon; see the module docstring."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        token: str = "",
        *,
        device_id: str | None = None,
        session: aiohttp.ClientSession | None = None,
        use_ssl: bool = False,
        ssl_verify: bool = True,
        request_timeout: float = 10.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self._token = token
        # The device this client may talk to: given (a config entry's id), or the
        # first one that proves itself; any other is refused before anything is sent.
        self.expected_device_id = device_id
        self._session = session
        self._use_ssl = use_ssl
        self._ssl_verify = ssl_verify
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._sio: Any = None
        # socket.io's call() is not safe for concurrent use on one connection.
        self._call_lock = asyncio.Lock()
        self._connect_error: object = None
        self._challenge: asyncio.Future[object] | None = None
        self._seal: Seal | None = None
        self._seal_warned = False
        self._device_event = asyncio.Event()
        self._state_event = asyncio.Event()
        self._gone_event = asyncio.Event()
        self.device: DeviceInfo | None = None
        self.state: State | None = None
        self.connected = False
        self._state_listeners: list[StateListener] = []
        self._fault_listeners: list[FaultListener] = []
        self._media_listeners: list[MediaListener] = []
        self._readings_listeners: list[ReadingsListener] = []
        self._connection_listeners: list[ConnectionListener] = []

    @property
    def base_url(self) -> str:
        scheme = "https" if self._use_ssl else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    # -- listeners -----------------------------------------------------------

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        return self._add(self._state_listeners, listener)

    def add_fault_listener(self, listener: FaultListener) -> Callable[[], None]:
        return self._add(self._fault_listeners, listener)

    def add_media_listener(self, listener: MediaListener) -> Callable[[], None]:
        return self._add(self._media_listeners, listener)

    def add_readings_listener(self, listener: ReadingsListener) -> Callable[[], None]:
        """Readings as the daemon records them (``cursor`` is the last one's)."""
        return self._add(self._readings_listeners, listener)

    def add_connection_listener(self, listener: ConnectionListener) -> Callable[[], None]:
        """Called with False when the link drops and True when it is back."""
        return self._add(self._connection_listeners, listener)

    @staticmethod
    def _add(listeners: list[Any], listener: Any) -> Callable[[], None]:
        listeners.append(listener)

        def remove() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return remove

    @staticmethod
    def _notify(listeners: list[Any], value: object) -> None:
        for listener in list(listeners):
            try:
                listener(value)
            except Exception:
                _LOGGER.exception("BeerPi listener %r failed", listener)

    # -- connection ----------------------------------------------------------

    # Long on purpose: the handshake is one sequence (connect, prove, wait for device and
    # state); each failure drops the half-open link and raises its own typed error, and
    # those branches read best beside the steps they guard.
    async def connect(self) -> DeviceInfo:
        """Connect, run the handshake, and wait for ``device`` and the first ``state``.

        Raises BeerPiAuthError (the daemon cannot prove it knows the token, or
        refused our proof), BeerPiWrongDeviceError (it proved another device id),
        BeerPiProtocolVersionError, or BeerPiConnectionError.
        """
        if self.connected:
            raise BeerPiConnectionError("already connected")
        self._connect_error = None
        self._seal = None
        self._seal_warned = False
        self._device_event.clear()
        self._state_event.clear()
        self._challenge = asyncio.get_running_loop().create_future()
        initiator = Initiator(self._token, Role.CONTROLLER, self.expected_device_id)
        options: dict[str, Any] = {
            "reconnection": False,
            "handle_sigint": False,
            "request_timeout": self._connect_timeout,
            "ssl_verify": self._ssl_verify,
        }
        if self._session is not None:
            options["http_session"] = self._session
        sio = socketio.AsyncClient(**options)
        sio.register_namespace(_Namespace(self))
        self._sio = sio
        try:
            # engineio's own timeouts do not cover a host that accepts the connection and
            # never answers its upgrade: without this, a connect would wait for ever.
            async with asyncio.timeout(self._connect_timeout):
                await sio.connect(
                    self.base_url,
                    auth=initiator.connect_auth(),
                    transports=["websocket"],
                    socketio_path=SOCKETIO_PATH,
                    wait_timeout=self._connect_timeout,
                )
        except socketio.exceptions.ConnectionError as err:
            await self._drop_sio()
            raise self._refusal(err) from err
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            # engineio lets the websocket's own errors through: a host that drops the
            # packets (a Pi switched off) times out here rather than refusing.
            await self._drop_sio()
            raise BeerPiConnectionError(
                f"cannot connect to {self.base_url}: {type(err).__name__} {err}".rstrip()
            ) from err
        try:
            device_id = await self._authenticate(sio, initiator)
            async with asyncio.timeout(self._connect_timeout):
                await self._device_event.wait()
                await self._state_event.wait()
        except TimeoutError as err:
            await self._drop_sio()
            raise BeerPiConnectionError(
                f"{self.base_url} accepted the connection but sent no device/state"
            ) from err
        except BaseException:
            await self._drop_sio()
            raise
        assert self.device is not None
        if self.device.id != device_id:
            await self._drop_sio()
            raise BeerPiConnectionError(
                f"{self.base_url} proved device {device_id!r} but described {self.device.id!r}"
            )
        major = protocol_major(self.device.protocol_version)
        if major != protocol_major(PROTOCOL_VERSION):
            await self._drop_sio()
            raise BeerPiProtocolVersionError(self.device.protocol_version, PROTOCOL_VERSION)
        # From now on only this device: a reconnect to another one is refused.
        self.expected_device_id = device_id
        self.connected = True
        self._gone_event.clear()
        self._notify(self._connection_listeners, True)
        return self.device

    async def _authenticate(self, sio: Any, initiator: Initiator) -> str:
        """Check the daemon's proof, then send ours; returns the proven device id."""
        assert self._challenge is not None
        try:
            async with asyncio.timeout(self._connect_timeout):
                challenge = await self._challenge
        except TimeoutError as err:
            raise BeerPiConnectionError(
                f"{self.base_url} sent no protocol 2 challenge (not a BeerPi daemon?)"
            ) from err
        # Raises before anything is sent when the daemon cannot prove the device id.
        proof, seal, device_id = initiator.respond(challenge)
        # Set before the proof goes out: ``device`` may arrive ahead of the ack.
        self._seal = seal
        try:
            ack = await sio.call(Handshake.PROOF.value, proof, timeout=self._connect_timeout)
        except socketio.exceptions.TimeoutError as err:
            raise BeerPiConnectionError(f"{self.base_url} did not answer our proof") from err
        except socketio.exceptions.SocketIOError as err:
            raise BeerPiConnectionError(f"{self.base_url}: {err}") from err
        if not isinstance(ack, Mapping) or ack.get("ok") is not True:
            raise BeerPiAuthError(REFUSED_TOKEN[Role.CONTROLLER])
        return device_id

    def _refusal(self, err: Exception) -> BeerPiError:
        """The error for a refused connect, from the ``connect_error`` data."""
        data = self._connect_error
        message = data.get("message") if isinstance(data, Mapping) else data
        detail = data.get("data") if isinstance(data, Mapping) else None
        if isinstance(detail, Mapping) and detail.get("error") == ErrorCode.PROTOCOL_MISMATCH:
            version = detail.get("protocol_version")
            return BeerPiProtocolVersionError(
                version if isinstance(version, str) else "", PROTOCOL_VERSION
            )
        if message == ErrorCode.UNAUTHORIZED.value:
            # A protocol 2 daemon refuses a well-formed connect only as busy; a
            # version 1 daemon refuses any connect that carries no token.
            return BeerPiProtocolVersionError("1.x", PROTOCOL_VERSION)
        return BeerPiConnectionError(f"cannot connect to {self.base_url}: {message or err}")

    async def disconnect(self) -> None:
        """Close the link; listeners hear about it like any other drop."""
        await self._drop_sio()
        self._set_disconnected()

    async def _drop_sio(self) -> None:
        sio, self._sio = self._sio, None
        if sio is not None:
            try:
                await sio.shutdown()
            except Exception:  # a half-open link can fail to close; it is gone either way
                _LOGGER.debug("closing the socket.io client failed", exc_info=True)
            # A connect given up half-way leaves engineio's own HTTP session open
            # (shutdown only closes a connected client's); ours is the caller's to close.
            eio = getattr(sio, "eio", None)
            http = getattr(eio, "http", None)
            if http is not None and not getattr(eio, "external_http", True) and not http.closed:
                await http.close()

    def _set_disconnected(self) -> None:
        self._gone_event.set()
        if self.connected:
            self.connected = False
            self._notify(self._connection_listeners, False)

    async def wait_disconnected(self) -> None:
        """Return when the link is gone (used by the reconnect logic)."""
        if self.connected:
            await self._gone_event.wait()

    # -- pushes --------------------------------------------------------------

    def _on_connect_error(self, data: object) -> None:
        self._connect_error = data

    def _on_challenge(self, data: object) -> None:
        if self._challenge is not None and not self._challenge.done():
            self._challenge.set_result(data)

    def _open(self, event: Event, data: object) -> object:
        """A push's payload if the device sealed it on this link, else None (dropped)."""
        seal = self._seal
        if seal is None:
            return None
        try:
            return seal.open(event.value, data)[1]
        except SealError as err:
            # Once per link: a forger must not be able to flood the log.
            log = _LOGGER.debug if self._seal_warned else _LOGGER.warning
            self._seal_warned = True
            log("%s: dropped a %s push: %s", self.base_url, event.value, err)
            return None

    def _on_disconnect(self) -> None:
        self._set_disconnected()

    def _on_device(self, data: object) -> None:
        if isinstance(data, Mapping):
            self.device = DeviceInfo.from_dict(data)
            self._device_event.set()

    def _on_state(self, data: object) -> None:
        if not isinstance(data, Mapping):
            return
        self.state = State.from_dict(data)
        self._state_event.set()
        self._notify(self._state_listeners, self.state)

    # -- requests ------------------------------------------------------------

    async def call(
        self, request: Request | str, payload: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send one request and return its ``{"ok": true, ...}`` answer."""
        name = str(request)
        sio, seal = self._sio, self._seal
        if sio is None or seal is None or not self.connected:
            raise BeerPiConnectionError(f"not connected to {self.base_url}")
        # Sent as given (a non-object payload is the daemon's to refuse, as tests check).
        data: object = {} if payload is None else payload
        if isinstance(data, Mapping):
            data = dict(data)
        async with self._call_lock:
            seq, envelope = seal.seal(name, data)
            try:
                ack = await sio.call(name, envelope, timeout=self._request_timeout)
            except socketio.exceptions.TimeoutError as err:
                raise BeerPiConnectionError(
                    f"{name}: no answer within {self._request_timeout} s"
                ) from err
            except socketio.exceptions.SocketIOError as err:
                raise BeerPiConnectionError(f"{name}: {err}") from err
        try:
            answer = seal.open_answer(seq, name, ack)
        except SealError as err:
            raise BeerPiConnectionError(f"{name}: the answer is not the device's ({err})") from err
        return ack_to_result(name, answer)

    async def send(self, request: RequestModel) -> dict[str, Any]:
        """Send a request model (built, so checked, before anything goes out)."""
        return await self.call(request.NAME, request.to_dict())

    async def get_state(self) -> State:
        return StateAnswer.from_dict(await self.send(GetState())).state

    async def set_relay(self, relay: str, on: bool) -> None:
        await self.send(SetRelay(relay=relay, on=on))

    async def set_thermostat(
        self,
        *,
        mode: str | None = None,
        target: float | None = None,
        profile: Mapping[str, Any] | None = None,
        clear_profile: bool = False,
    ) -> None:
        """Raises InvalidArgument (a BeerPiRequestError) before sending a malformed request."""
        await self.send(
            SetThermostat(
                mode=read_mode(mode),
                target=target,
                profile=profile,
                clear_profile=clear_profile and profile is None,
            )
        )

    async def take_photo(self) -> MediaInfo:
        return MediaInfo.from_dict(await self.send(TakePhoto()))

    async def record_video(self, seconds: float) -> MediaInfo:
        return VideoAnswer.from_dict(await self.send(RecordVideo(seconds=seconds))).media

    async def readings_since(self, cursor: str | None, limit: int = 500) -> ReadingsPage:
        return ReadingsPage.from_dict(await self.send(ReadingsSince(cursor=cursor, limit=limit)))

    async def get_media(self, media_id: str) -> tuple[bytes, str]:
        """A photo or video over the socket.io link itself, in chunks (no HTTP needed)."""
        return await fetch_media_chunks(self.call, media_id)

    async def simulate(self, **payload: Any) -> dict[str, Any]:
        """Fields of ``Simulate``; an unknown one is a TypeError, a bad value InvalidArgument."""
        return await self.send(Simulate(**payload))

    async def report_gravity(self, reading: ReportGravity) -> bool:
        """Hand the daemon a gravity reading; True when it is now that hydrometer's latest."""
        return GravityAnswer.from_dict(await self.send(reading)).latest

    async def pause_profile(self) -> ThermostatState:
        """Hold the running profile; the thermostat's state as the daemon now has it."""
        return ThermostatAnswer.from_dict(await self.send(PauseProfile())).thermostat

    async def resume_profile(self) -> ThermostatState:
        return ThermostatAnswer.from_dict(await self.send(ResumeProfile())).thermostat

    async def skip_step(self, step: int | None = None) -> ThermostatState:
        """End the running step now (only if it is ``step``, when given)."""
        return ThermostatAnswer.from_dict(await self.send(SkipStep(step=step))).thermostat

    # -- HTTP ----------------------------------------------------------------

    async def sign_url(self, path: str) -> str:
        """A short-lived signed URL (path and query) for ``path`` on the daemon's HTTP port."""
        url = SignedUrl.from_dict(await self.send(SignUrl(path=path))).url
        if not url.startswith(path.split("?", 1)[0]):
            raise BeerPiRequestError(ErrorCode.INTERNAL_ERROR.value, "malformed sign_url answer")
        return url

    async def fetch(self, path: str, *, max_bytes: int = MAX_PHOTO_BYTES) -> tuple[bytes, str]:
        """GET a path on the daemon's HTTP port (photos, videos) through a signed URL."""
        parts: list[bytes] = []

        async def keep(chunk: bytes) -> None:
            parts.append(chunk)

        content_type = await self.download(path, keep, max_bytes=max_bytes)
        return b"".join(parts), content_type

    async def download(
        self,
        path: str,
        write: Callable[[bytes], Awaitable[None]],
        *,
        max_bytes: int,
        total_s: float | None = None,
    ) -> str:
        """Stream a file on the daemon's HTTP port to ``write``, piece by piece.

        Returns its content type. More than ``max_bytes`` (whatever the daemon's
        Content-Length says) is a BeerPiRequestError "too_large", raised before
        the piece that passes it is written. The whole transfer may take
        ``total_s`` (the request timeout unless given); each read, the request timeout.
        """
        if not path.startswith("/"):
            raise ValueError("path must start with /")
        url = await self.sign_url(path)
        session = self._session or aiohttp.ClientSession()
        try:
            async with session.get(
                self.base_url + url,
                ssl=self._ssl_verify,
                timeout=aiohttp.ClientTimeout(
                    total=total_s or self._request_timeout, sock_read=self._request_timeout
                ),
            ) as response:
                if response.status == 401:
                    raise BeerPiAuthError("the daemon refused the signed URL")
                if response.status == 404:
                    raise BeerPiRequestError("not_found", f"{path} not found")
                if response.status >= 400:
                    raise BeerPiConnectionError(f"GET {path}: HTTP {response.status}")
                received = 0
                async for chunk in response.content.iter_chunked(64 * 1024):
                    received += len(chunk)
                    if received > max_bytes:
                        raise BeerPiRequestError(
                            "too_large", f"{path} is larger than {max_bytes} bytes"
                        )
                    await write(chunk)
                return response.content_type
        except (aiohttp.ClientError, TimeoutError) as err:
            raise BeerPiConnectionError(f"GET {path}: {err}") from err
        finally:
            if self._session is None:
                await session.close()


Caller = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]


async def fetch_media_chunks(call: Caller, media_id: str) -> tuple[bytes, str]:
    """Assemble a file from ``get_media`` answers; ``call`` sends one request."""
    parts: list[bytes] = []
    offset = 0
    while True:
        request = GetMedia(id=media_id, offset=offset)
        answer = MediaChunk.from_dict(await call(request.NAME, request.to_dict()))
        parts.append(answer.data)
        offset += len(answer.data)
        if answer.eof or offset >= answer.size:
            return b"".join(parts), answer.content_type
        if not answer.data:
            raise BeerPiRequestError(ErrorCode.INTERNAL_ERROR.value, "get_media made no progress")


def _is_auth_refusal(data: object) -> bool:
    if isinstance(data, Mapping):
        data = data.get("message")
    return isinstance(data, str) and data == ErrorCode.UNAUTHORIZED.value


__all__ = ["BeerPiClient", "BeerPiError", "ack_to_result", "fetch_media_chunks"]
