"""Every request a client can send, validated, answered with ``{"ok": ...}``; never raises.

The same handler serves the socket.io server and the dial-out link. Payloads
are checked strictly (``"on": "yes"`` is not a bool, NaN is not a number);
unknown keys are ignored so newer clients can talk to older daemons.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from beerpi_protocol import ErrorCode, Event, FaultCode, Request
from beerpi_protocol.const import MEDIA_CHUNK_BYTES
from beerpi_protocol.timestamps import iso

from .hardware.base import CameraError
from .outbox import CursorError, OutboxError
from .safety import Cause
from .service import Daemon

_LOGGER = logging.getLogger(__name__)

Answer = dict[str, Any]


class RequestFailed(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Payload(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


Name = Annotated[str, Field(min_length=1, max_length=64)]


class SetRelay(_Payload):
    relay: Name
    on: bool


class SetThermostat(_Payload):
    mode: Literal["off", "heat", "cool", "heat_cool"] | None = None
    target: Annotated[float, Field(allow_inf_nan=False)] | None = None
    # Validated by the thermostat (steps, durations, targets); None clears it.
    profile: dict[str, Any] | None = None


class RecordVideo(_Payload):
    seconds: Annotated[float, Field(gt=0, le=600, allow_inf_nan=False)]


class ReadingsSince(_Payload):
    cursor: Annotated[str, Field(max_length=32)] | None = None
    limit: Annotated[int, Field(ge=1, le=5000)] = 500


class GetMedia(_Payload):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    offset: Annotated[int, Field(ge=0)] = 0
    length: Annotated[int, Field(ge=1, le=MEDIA_CHUNK_BYTES)] = MEDIA_CHUNK_BYTES


class Simulate(_Payload):
    probe: Name | None = None
    fault: Literal["disconnected", "crc", "reset_85", "stuck"] | None = None
    clear: bool | None = None
    ambient: Annotated[float, Field(ge=-30, le=60, allow_inf_nan=False)] | None = None
    # A relay that clicks but delivers no power (true), or repaired (false).
    relay: Name | None = None
    broken: bool | None = None


def _describe(err: ValidationError) -> str:
    parts = []
    for problem in err.errors()[:3]:
        where = ".".join(str(p) for p in problem["loc"]) or "payload"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


class RequestHandler:
    """Dispatches one request to the daemon; answers are dicts (a tuple would split the ack)."""

    def __init__(self, daemon: Daemon) -> None:
        self._daemon = daemon
        self._video_tasks: set[asyncio.Task[None]] = set()
        self._routes: dict[str, Callable[[Any], Awaitable[Answer]]] = {
            Request.GET_STATE.value: self._get_state,
            Request.SET_RELAY.value: self._set_relay,
            Request.SET_THERMOSTAT.value: self._set_thermostat,
            Request.TAKE_PHOTO.value: self._take_photo,
            Request.RECORD_VIDEO.value: self._record_video,
            Request.READINGS_SINCE.value: self._readings_since,
            Request.GET_MEDIA.value: self._get_media,
            Request.SIMULATE.value: self._simulate,
        }

    async def handle(self, name: str, payload: object) -> Answer:
        route = self._routes.get(name)
        if route is None:
            return _error(ErrorCode.UNKNOWN_REQUEST, f"unknown request {name[:64]!r}")
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            return _error(ErrorCode.INVALID_ARGUMENT, f"{name} takes a JSON object")
        try:
            return await route(payload)
        except RequestFailed as err:
            return _error(err.code, err.message)
        except ValidationError as err:
            return _error(ErrorCode.INVALID_ARGUMENT, _describe(err))
        except Exception:
            _LOGGER.exception("request %s failed", name)
            return _error(ErrorCode.INTERNAL_ERROR, f"{name} failed inside the daemon; see its log")

    async def close(self) -> None:
        for task in list(self._video_tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _get_state(self, payload: dict[str, Any]) -> Answer:
        return {"ok": True, "state": self._daemon.state().to_dict()}

    async def _set_relay(self, payload: dict[str, Any]) -> Answer:
        request = SetRelay.model_validate(payload)
        daemon = self._daemon
        relay = daemon.hardware.relays.get(request.relay)
        if relay is None:
            known = ", ".join(sorted(daemon.hardware.relays)) or "none"
            raise RequestFailed(
                ErrorCode.UNKNOWN_RELAY, f"no relay {request.relay!r} (relays: {known})"
            )
        async with daemon.command_lock:
            if request.relay in daemon.thermostat.controlled_relays():
                raise RequestFailed(
                    ErrorCode.RELAY_UNDER_THERMOSTAT_CONTROL,
                    f"{request.relay} is driven by the thermostat; set the thermostat's mode "
                    "to off to switch it by hand",
                )
            # The gate applies every relay rule (off is always allowed at once).
            refusal = daemon.gate.switch(
                request.relay, request.on, daemon.clock.monotonic(), Cause.MANUAL
            )
            if refusal is not None:
                raise RequestFailed(refusal.code, refusal.message)
            on = daemon.gate.is_on(request.relay)
        await daemon.publish_state()
        return {"ok": True, "relay": request.relay, "on": on}

    async def _set_thermostat(self, payload: dict[str, Any]) -> Answer:
        request = SetThermostat.model_validate(payload)
        if request.mode is None and request.target is None and "profile" not in payload:
            raise RequestFailed(
                ErrorCode.INVALID_ARGUMENT, "give at least one of mode, target, profile"
            )
        daemon = self._daemon
        thermostat = daemon.thermostat
        async with daemon.command_lock:
            try:
                # Check everything before changing anything: a bad field changes nothing.
                if request.mode is not None:
                    thermostat.check_mode(request.mode)
                if request.target is not None:
                    thermostat.check_target(request.target)
                if "profile" in payload and request.profile is not None:
                    thermostat.check_profile(request.profile)
            except ValueError as err:
                raise RequestFailed(ErrorCode.INVALID_ARGUMENT, str(err)) from None
            try:
                released = thermostat.update(
                    mode=request.mode,
                    target=request.target,
                    profile=request.profile,
                    set_profile="profile" in payload,
                    now=daemon.clock.now(),
                )
            except OSError as err:
                # Stored before applied: nothing changed.
                raise RequestFailed(
                    ErrorCode.INTERNAL_ERROR, f"cannot store the thermostat settings: {err}"
                ) from None
            daemon.release(released)
            await daemon.control_now()
        await daemon.publish_state()
        return {"ok": True, "thermostat": thermostat.to_state().to_dict()}

    def _camera(self) -> Any:
        camera = self._daemon.hardware.camera
        if camera is None:
            raise RequestFailed(ErrorCode.CAMERA_UNAVAILABLE, "this BeerPi has no camera")
        if self._daemon.camera_lock.locked():
            raise RequestFailed(ErrorCode.BUSY, "the camera is busy; try again shortly")
        return camera

    async def _take_photo(self, payload: dict[str, Any]) -> Answer:
        daemon = self._daemon
        camera = self._camera()
        async with daemon.camera_lock:
            media = daemon.media.new("photo", ".jpg", daemon.clock.now())
            partial = daemon.media.partial_path(media)
            try:
                await camera.capture_photo(partial, daemon.caption())
                daemon.media.commit(media)
            except (CameraError, OSError) as err:
                partial.unlink(missing_ok=True)
                raise RequestFailed(ErrorCode.CAMERA_UNAVAILABLE, f"photo failed: {err}") from None
            daemon.media.prune("photo")
        info = media.info()
        daemon.set_latest_photo(info)
        await daemon.publish(Event.PHOTO, info.to_dict())
        await daemon.publish_state()
        return {"ok": True, **info.to_dict()}

    async def _record_video(self, payload: dict[str, Any]) -> Answer:
        request = RecordVideo.model_validate(payload)
        daemon = self._daemon
        max_s = daemon.config.camera.max_video_s
        if request.seconds > max_s:
            raise RequestFailed(ErrorCode.INVALID_ARGUMENT, f"seconds must be at most {max_s:g}")
        camera = self._camera()
        media = daemon.media.new("video", camera.video_suffix, daemon.clock.now())
        await daemon.camera_lock.acquire()
        task = asyncio.get_running_loop().create_task(
            self._record(camera, media, request.seconds), name=f"beerpi-video-{media.id}"
        )
        self._video_tasks.add(task)
        task.add_done_callback(self._video_tasks.discard)
        info = media.info()
        # Answered at once; the `photo` push says when the file is ready.
        return {
            "ok": True,
            **info.to_dict(),
            "content_type": camera.video_content_type,
            "seconds": request.seconds,
            "ready": False,
        }

    async def _record(self, camera: Any, media: Any, seconds: float) -> None:
        daemon = self._daemon
        partial = daemon.media.partial_path(media)
        try:
            await camera.record_video(partial, seconds)
            daemon.media.commit(media)
            daemon.media.prune("video")
        except (CameraError, OSError) as err:
            partial.unlink(missing_ok=True)
            _LOGGER.warning("video %s failed: %s", media.id, err)
            await daemon.set_extra_fault("camera", FaultCode.CAMERA, f"video failed: {err}")
            return
        finally:
            daemon.camera_lock.release()
        await daemon.set_extra_fault("camera", FaultCode.CAMERA, None)
        await daemon.publish(Event.PHOTO, media.info().to_dict())

    async def _readings_since(self, payload: dict[str, Any]) -> Answer:
        request = ReadingsSince.model_validate(payload)
        try:
            page = await self._daemon.outbox.since(request.cursor, request.limit)
        except CursorError as err:
            raise RequestFailed(ErrorCode.INVALID_ARGUMENT, str(err)) from None
        except OutboxError as err:
            raise RequestFailed(ErrorCode.INTERNAL_ERROR, str(err)) from None
        return {"ok": True, **page.to_dict()}

    async def _get_media(self, payload: dict[str, Any]) -> Answer:
        request = GetMedia.model_validate(payload)
        media = self._daemon.media.get(request.id)
        if media is None:
            raise RequestFailed(ErrorCode.UNKNOWN_MEDIA, f"no photo or video {request.id!r}")

        def read() -> tuple[bytes, int]:
            with media.path.open("rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(request.offset)
                return handle.read(request.length), size

        chunk, size = await asyncio.to_thread(read)
        return {
            "ok": True,
            "id": media.id,
            "offset": request.offset,
            "size": size,
            "content_type": media.content_type,
            "data": base64.b64encode(chunk).decode("ascii"),
            "eof": request.offset + len(chunk) >= size,
        }

    async def _simulate(self, payload: dict[str, Any]) -> Answer:
        request = Simulate.model_validate(payload)
        sim = self._daemon.hardware.simulation
        if sim is None:
            raise RequestFailed(
                ErrorCode.INVALID_ARGUMENT, "simulate works only on a simulated daemon"
            )
        if request.relay is not None or request.broken is not None:
            return self._simulate_relay(sim, request)
        if request.ambient is not None:
            sim.fermenter.set_ambient(request.ambient)
        if request.probe is not None:
            probe = sim.probes.get(request.probe)
            if probe is None:
                raise RequestFailed(ErrorCode.UNKNOWN_PROBE, f"no probe {request.probe!r}")
            if request.clear:
                probe.inject(None)
            elif request.fault is not None:
                probe.inject(request.fault)
            else:
                raise RequestFailed(ErrorCode.INVALID_ARGUMENT, "give fault or clear with probe")
        elif request.ambient is None:
            raise RequestFailed(
                ErrorCode.INVALID_ARGUMENT,
                "give probe (with fault/clear), ambient, or relay (with broken)",
            )
        return {"ok": True, "at": iso(self._daemon.clock.now())}

    def _simulate_relay(self, sim: Any, request: Simulate) -> Answer:
        if request.relay is None or request.broken is None:
            raise RequestFailed(ErrorCode.INVALID_ARGUMENT, "give relay and broken together")
        if request.probe is not None or request.ambient is not None:
            raise RequestFailed(ErrorCode.INVALID_ARGUMENT, "break a relay in a request of its own")
        fermenter = sim.fermenter
        if request.relay not in fermenter.relays:
            known = ", ".join(sorted(fermenter.relays))
            raise RequestFailed(
                ErrorCode.UNKNOWN_RELAY,
                f"no simulated heater or cooler {request.relay!r} (relays: {known})",
            )
        fermenter.set_broken(request.relay, request.broken)
        _LOGGER.info("simulation: %s %s", request.relay, "broken" if request.broken else "repaired")
        return {"ok": True, "at": iso(self._daemon.clock.now())}


def _error(code: ErrorCode, message: str) -> Answer:
    return {"ok": False, "error": code.value, "message": message}
