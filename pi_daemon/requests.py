"""Every request a client can send, validated, answered with ``{"ok": ...}``; never raises.

The same handler serves the socket.io server and the dial-out link. Payloads
are read with the protocol's request models (beerpi_protocol.requests), which
check them strictly and ignore unknown keys; this module checks what depends
on the daemon (relay names, limits, the camera) and acts.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from beerpi_protocol import ErrorCode, Event, FaultCode, ReadingsPage, Request
from beerpi_protocol.const import MAX_PAYLOAD_BYTES
from beerpi_protocol.errors import BeerPiRequestError
from beerpi_protocol.requests import (
    GetMedia,
    GravityAnswer,
    MediaChunk,
    PauseProfile,
    ReadingsSince,
    RecordVideo,
    RelayAnswer,
    ReportGravity,
    ResumeProfile,
    SetRelay,
    SetThermostat,
    Simulate,
    SimulateAnswer,
    SkipStep,
    StateAnswer,
    ThermostatAnswer,
    VideoAnswer,
    error,
    ok,
)
from beerpi_protocol.timestamps import iso

from .control.profile_run import ProfileCommandError
from .gravity import GravityError
from .gravity.book import new_reading
from .hardware.base import CameraError
from .outbox import CursorError, OutboxError
from .safety import Cause
from .service import Daemon

_LOGGER = logging.getLogger(__name__)

Answer = dict[str, Any]
# A reported reading may be this far ahead of the daemon's clock (two clocks never agree).
MAX_FUTURE_S = 300.0
# Most a readings_since answer's JSON text may hold: every message's sealed body must
# stay under the protocol's message cap (the client refuses a larger one), with room
# to spare for the envelope around it.
MAX_ANSWER_CHARS = MAX_PAYLOAD_BYTES - 1024
Payload = Mapping[str, Any]


class RequestFailed(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RequestHandler:
    """Dispatches one request to the daemon; answers are dicts (a tuple would split the ack)."""

    def __init__(self, daemon: Daemon) -> None:
        self._daemon = daemon
        self._video_tasks: set[asyncio.Task[None]] = set()
        # sign_url is the server's (it holds the URL signer).
        self._routes: dict[str, Callable[[Payload], Awaitable[Answer]]] = {
            Request.GET_STATE: self._get_state,
            Request.SET_RELAY: self._set_relay,
            Request.SET_THERMOSTAT: self._set_thermostat,
            Request.TAKE_PHOTO: self._take_photo,
            Request.RECORD_VIDEO: self._record_video,
            Request.READINGS_SINCE: self._readings_since,
            Request.GET_MEDIA: self._get_media,
            Request.SIMULATE: self._simulate,
            Request.REPORT_GRAVITY: self._report_gravity,
            Request.PAUSE_PROFILE: self._pause_profile,
            Request.RESUME_PROFILE: self._resume_profile,
            Request.SKIP_STEP: self._skip_step,
        }

    async def handle(self, name: str, payload: object) -> Answer:
        route = self._routes.get(name)
        if route is None:
            return error(ErrorCode.UNKNOWN_REQUEST, f"unknown request {name[:64]!r}")
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            return error(ErrorCode.INVALID_ARGUMENT, f"{name} takes a JSON object")
        try:
            return await route(payload)
        except RequestFailed as err:
            return error(err.code, err.message)
        except BeerPiRequestError as err:  # the request models' InvalidArgument
            return error(err.error_code or ErrorCode.INVALID_ARGUMENT, err.message)
        except Exception:
            _LOGGER.exception("request %s failed", name)
            return error(ErrorCode.INTERNAL_ERROR, f"{name} failed inside the daemon; see its log")

    async def close(self) -> None:
        for task in list(self._video_tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _get_state(self, payload: Payload) -> Answer:
        return ok(StateAnswer(state=self._daemon.state()).to_dict())

    async def _set_relay(self, payload: Payload) -> Answer:
        request = SetRelay.from_dict(payload)
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
        return ok(RelayAnswer(relay=request.relay, on=on).to_dict())

    async def _set_thermostat(self, payload: Payload) -> Answer:
        request = SetThermostat.from_dict(payload)
        mode = None if request.mode is None else request.mode.value
        daemon = self._daemon
        thermostat = daemon.thermostat
        async with daemon.command_lock:
            try:
                # Check everything before changing anything: a bad field changes nothing.
                if mode is not None:
                    thermostat.check_mode(mode)
                if request.target is not None:
                    thermostat.check_target(request.target)
                if request.profile is not None:
                    thermostat.check_profile(request.profile)
            except ValueError as err:
                raise RequestFailed(ErrorCode.INVALID_ARGUMENT, str(err)) from None
            try:
                released = thermostat.update(
                    mode=mode,
                    target=request.target,
                    profile=request.profile,
                    set_profile=request.sets_profile,
                    now=daemon.clock.now(),
                )
            except OSError as err:
                # Stored before applied: nothing changed.
                raise RequestFailed(
                    ErrorCode.INTERNAL_ERROR, f"cannot store the thermostat settings: {err}"
                ) from None
            daemon.release(released)
            if thermostat.unsaved is not None:
                # A mode off is applied even so (off is always allowed at once).
                _LOGGER.warning("thermostat off, but not stored: %s", thermostat.unsaved)
                await daemon.thermostat_unsaved(thermostat.unsaved)
            await daemon.control_now()
        await daemon.publish_state()
        return ok(ThermostatAnswer(thermostat=thermostat.to_state(daemon.clock.now())).to_dict())

    async def _pause_profile(self, payload: Payload) -> Answer:
        PauseProfile.from_dict(payload)
        return await self._change_profile(self._daemon.thermostat.pause_profile)

    async def _resume_profile(self, payload: Payload) -> Answer:
        ResumeProfile.from_dict(payload)
        return await self._change_profile(self._daemon.thermostat.resume_profile)

    async def _skip_step(self, payload: Payload) -> Answer:
        request = SkipStep.from_dict(payload)
        thermostat = self._daemon.thermostat
        return await self._change_profile(lambda now: thermostat.skip_step(now, request.step))

    async def _change_profile(self, change: Callable[[datetime], None]) -> Answer:
        """Pause, resume or skip under the command lock, then control on the new target."""
        daemon = self._daemon
        async with daemon.command_lock:
            try:
                change(daemon.clock.now())
            except ProfileCommandError as err:
                raise RequestFailed(ErrorCode.INVALID_ARGUMENT, str(err)) from None
            except OSError as err:
                # Stored before applied: nothing changed.
                raise RequestFailed(
                    ErrorCode.INTERNAL_ERROR, f"cannot store the profile: {err}"
                ) from None
            await daemon.control_now()
        await daemon.publish_state()
        return ok(
            ThermostatAnswer(thermostat=daemon.thermostat.to_state(daemon.clock.now())).to_dict()
        )

    async def _report_gravity(self, payload: Payload) -> Answer:
        request = ReportGravity.from_dict(payload)
        daemon = self._daemon
        now = daemon.clock.now()
        taken = request.taken_at
        max_age_s = daemon.config.gravity.max_report_age_s
        age_s = (now - taken).total_seconds()
        if age_s > max_age_s:
            raise RequestFailed(
                ErrorCode.INVALID_ARGUMENT,
                f"at is {age_s / 60:.0f} min ago; readings older than {max_age_s / 60:g} min "
                "are refused",
            )
        if -age_s > MAX_FUTURE_S:
            raise RequestFailed(
                ErrorCode.INVALID_ARGUMENT,
                f"at is {-age_s / 60:.0f} min ahead of this BeerPi's clock",
            )
        reading = new_reading(
            request.hydrometer,
            request.sg,
            taken,
            temperature_c=request.temperature_c,
            battery=request.battery,
            angle=request.angle,
        )
        async with daemon.command_lock:
            try:
                latest = daemon.gravity.add(reading)
            except GravityError as err:
                raise RequestFailed(ErrorCode.INVALID_ARGUMENT, str(err)) from None
            # A step that ends on this gravity ends now, not at the next read.
            await daemon.control_now()
        await daemon.publish_state()
        return ok(GravityAnswer(hydrometer=request.hydrometer, latest=latest).to_dict())

    def _camera(self) -> Any:
        camera = self._daemon.hardware.camera
        if camera is None:
            raise RequestFailed(ErrorCode.CAMERA_UNAVAILABLE, "this BeerPi has no camera")
        if self._daemon.camera_lock.locked():
            raise RequestFailed(ErrorCode.BUSY, "the camera is busy; try again shortly")
        return camera

    async def _take_photo(self, payload: Payload) -> Answer:
        daemon = self._daemon
        camera = self._camera()
        async with daemon.camera_lock:
            media = daemon.media.new("photo", ".jpg", daemon.clock.now())
            partial = daemon.media.partial_path(media)
            try:
                await camera.capture_photo(partial, daemon.caption())
                daemon.media.commit(media)
            except (CameraError, OSError) as err:
                _discard(partial)
                raise RequestFailed(ErrorCode.CAMERA_UNAVAILABLE, f"photo failed: {err}") from None
            daemon.media.prune("photo")
        info = media.info()
        daemon.set_latest_photo(info)
        await daemon.publish(Event.PHOTO, info.to_dict())
        await daemon.publish_state()
        return ok(info.to_dict())

    async def _record_video(self, payload: Payload) -> Answer:
        request = RecordVideo.from_dict(payload)
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
        info = dataclasses.replace(media.info(), content_type=camera.video_content_type)
        # Answered at once; the `photo` push says when the file is ready.
        return ok(VideoAnswer(media=info, seconds=request.seconds, ready=False).to_dict())

    async def _record(self, camera: Any, media: Any, seconds: float) -> None:
        daemon = self._daemon
        partial = daemon.media.partial_path(media)
        try:
            await camera.record_video(partial, seconds)
            daemon.media.commit(media)
            daemon.media.prune("video")
        except (CameraError, OSError) as err:
            _discard(partial)
            _LOGGER.warning("video %s failed: %s", media.id, err)
            await daemon.set_extra_fault("camera", FaultCode.CAMERA, f"video failed: {err}")
            return
        finally:
            daemon.camera_lock.release()
        await daemon.set_extra_fault("camera", FaultCode.CAMERA, None)
        await daemon.publish(Event.PHOTO, media.info().to_dict())

    async def _readings_since(self, payload: Payload) -> Answer:
        request = ReadingsSince.from_dict(payload)
        try:
            page = await self._daemon.outbox.since(request.cursor, request.limit)
        except CursorError as err:
            raise RequestFailed(ErrorCode.INVALID_ARGUMENT, str(err)) from None
        except OutboxError as err:
            raise RequestFailed(ErrorCode.INTERNAL_ERROR, str(err)) from None
        return _fitted(page)

    async def _get_media(self, payload: Payload) -> Answer:
        request = GetMedia.from_dict(payload)
        media = self._daemon.media.get(request.id)
        if media is None:
            raise RequestFailed(ErrorCode.UNKNOWN_MEDIA, f"no photo or video {request.id!r}")

        def read() -> tuple[bytes, int]:
            with media.path.open("rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(request.offset)
                return handle.read(request.length), size

        chunk, size = await asyncio.to_thread(read)
        answer = MediaChunk(
            id=media.id,
            offset=request.offset,
            size=size,
            content_type=media.content_type,
            data=chunk,
            eof=request.offset + len(chunk) >= size,
        )
        return ok(answer.to_dict())

    async def _simulate(self, payload: Payload) -> Answer:
        request = Simulate.from_dict(payload)
        sim = self._daemon.hardware.simulation
        if sim is None:
            raise RequestFailed(
                ErrorCode.INVALID_ARGUMENT, "simulate works only on a simulated daemon"
            )
        # The model has checked which fields go together; look up before changing anything.
        if request.relay is not None and request.broken is not None:
            return self._simulate_relay(sim, request.relay, request.broken)
        probe = None
        if request.probe is not None:
            probe = sim.probes.get(request.probe)
            if probe is None:
                raise RequestFailed(ErrorCode.UNKNOWN_PROBE, f"no probe {request.probe!r}")
        if request.ambient is not None:
            sim.fermenter.set_ambient(request.ambient)
        if probe is not None:
            probe.inject(None if request.clear else request.fault)
        return ok(SimulateAnswer(at=iso(self._daemon.clock.now())).to_dict())

    def _simulate_relay(self, sim: Any, relay: str, broken: bool) -> Answer:
        fermenter = sim.fermenter
        if relay not in fermenter.relays:
            known = ", ".join(sorted(fermenter.relays))
            raise RequestFailed(
                ErrorCode.UNKNOWN_RELAY,
                f"no simulated heater or cooler {relay!r} (relays: {known})",
            )
        fermenter.set_broken(relay, broken)
        _LOGGER.info("simulation: %s %s", relay, "broken" if broken else "repaired")
        return ok(SimulateAnswer(at=iso(self._daemon.clock.now())).to_dict())


def _discard(partial: Path) -> None:
    """Remove a failed capture's partial file; the storage that failed it may refuse that too.

    A read-only or vanished media folder must still end in the camera's fault, not in
    an exception that skips it.
    """
    with contextlib.suppress(OSError):
        partial.unlink(missing_ok=True)


def _json_chars(answer: Answer) -> int:
    """Length of the answer's text as the seal writes it (compact, not ASCII-escaped)."""
    return len(json.dumps(answer, separators=(",", ":"), ensure_ascii=False))


def _fitted(page: ReadingsPage) -> Answer:
    """The page's answer, cut short (``more``) where it would pass the message cap.

    ``limit`` may ask for up to 5000 readings, well over 64 KiB of JSON: a page that
    large would be refused by every client, so it ends at the last reading that fits
    and its cursor there, and the client asks again from it.
    """
    answer = ok(page.to_dict())
    size = _json_chars(answer)
    readings = page.readings
    while size > MAX_ANSWER_CHARS and len(readings) > 1:
        # In proportion, then one fewer: a few rounds at most.
        keep = max(1, min(len(readings) - 1, len(readings) * MAX_ANSWER_CHARS // size - 1))
        readings = readings[:keep]
        cut = dataclasses.replace(page, readings=readings, cursor=str(readings[-1].seq), more=True)
        answer = ok(cut.to_dict())
        size = _json_chars(answer)
    return answer
