"""Climate, switch, button, camera and the integration's actions, against the real daemon."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from unittest.mock import patch

import pytest
import voluptuous as vol
from homeassistant.components.camera import async_get_image
from homeassistant.components.climate import (
    ATTR_HVAC_MODE,
    SERVICE_SET_HVAC_MODE,
    SERVICE_SET_TEMPERATURE,
)
from homeassistant.components.climate import (
    DOMAIN as CLIMATE_DOMAIN,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_TEMPERATURE,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant, ServiceResponse, State
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.beerpi
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.models import MediaInfo
from custom_components.beerpi.video_action import _save_video

from .conftest import attribute_is, set_profile, state_is, wait_for_state
from .daemon import Daemon

assert custom_components.beerpi

COOLER_SWITCH = "switch.beerpi_cooler_manual"
HEATER_SWITCH = {ATTR_ENTITY_ID: "switch.beerpi_heater_manual"}


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def _record_video(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    filename: Path | str | None = None,
    seconds: int = 1,
) -> ServiceResponse:
    """The record_video action as an automation calls it, with its response."""
    data: dict[str, object] = {"config_entry_id": entry.entry_id, "seconds": seconds}
    if filename is not None:
        data["filename"] = str(filename)
    return await hass.services.async_call(
        DOMAIN, "record_video", data, blocking=True, return_response=True
    )


async def test_climate_reaches_daemon(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await hass.services.async_call(
        CLIMATE_DOMAIN,
        SERVICE_SET_TEMPERATURE,
        {
            ATTR_ENTITY_ID: "climate.beerpi_thermostat",
            ATTR_TEMPERATURE: 18.5,
            ATTR_HVAC_MODE: "heat_cool",
        },
        blocking=True,
    )
    state = await daemon_client.get_state()
    assert state.thermostat.target == 18.5
    assert state.thermostat.mode == "heat_cool"
    await wait_for_state(hass, "climate.beerpi_thermostat", state_is("heat_cool"))
    await wait_for_state(hass, "climate.beerpi_thermostat", attribute_is(ATTR_TEMPERATURE, 18.5))
    # The thermostat now drives the relays: the relay sensors say so.
    await wait_for_state(
        hass, "binary_sensor.beerpi_heater", attribute_is("controlled_by", "thermostat")
    )

    await hass.services.async_call(
        CLIMATE_DOMAIN,
        SERVICE_SET_HVAC_MODE,
        {ATTR_ENTITY_ID: "climate.beerpi_thermostat", ATTR_HVAC_MODE: "off"},
        blocking=True,
    )
    assert (await daemon_client.get_state()).thermostat.mode == "off"
    await wait_for_state(hass, "climate.beerpi_thermostat", state_is("off"))


async def test_climate_out_of_range_target(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            CLIMATE_DOMAIN,
            SERVICE_SET_TEMPERATURE,
            {ATTR_ENTITY_ID: "climate.beerpi_thermostat", ATTR_TEMPERATURE: 99},
            blocking=True,
        )


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_switch_reaches_daemon(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        HEATER_SWITCH,
        blocking=True,
    )
    assert (await daemon_client.get_state()).relays["heater"].on
    await wait_for_state(hass, "switch.beerpi_heater_manual", state_is(STATE_ON))
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_OFF,
        HEATER_SWITCH,
        blocking=True,
    )
    assert not (await daemon_client.get_state()).relays["heater"].on
    await wait_for_state(hass, "switch.beerpi_heater_manual", state_is(STATE_OFF))


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_switch_under_thermostat_control(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    await daemon_client.set_thermostat(mode="heat_cool", target=20)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: COOLER_SWITCH},
            blocking=True,
        )
    assert err.value.translation_key == "relay_under_thermostat_control"
    assert err.value.translation_domain == DOMAIN


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_manual_switches_keep_the_daemons_safety_rules(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """The guide's refusals of a manual switch, from the real daemon with the thermostat
    off: heater and cooler are never on together, and a compressor must rest (its
    minimum off time, counted from the daemon's start too)."""
    await daemon_client.set_thermostat(mode="off")
    await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_ON, HEATER_SWITCH, blocking=True)
    assert (await daemon_client.get_state()).relays["heater"].on
    cooler = {ATTR_ENTITY_ID: COOLER_SWITCH}
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_ON, cooler, blocking=True)
    assert err.value.translation_key == "interlock"
    assert "heater is on" in str(err.value.translation_placeholders)
    assert not (await daemon_client.get_state()).relays["cooler"].on

    await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_OFF, HEATER_SWITCH, blocking=True)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_ON, cooler, blocking=True)
    assert err.value.translation_key == "relay_locked_out"
    assert "minimum off time" in str(err.value.translation_placeholders)
    assert not (await daemon_client.get_state()).relays["cooler"].on


async def test_photo_reaches_camera(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    with pytest.raises(HomeAssistantError):
        # No photo yet.
        await async_get_image(hass, "camera.beerpi_camera")
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.beerpi_take_photo"}, blocking=True
    )
    image = await async_get_image(hass, "camera.beerpi_camera")
    assert image.content_type == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8")
    # Cached: the same photo is fetched once.
    assert (await async_get_image(hass, "camera.beerpi_camera")).content == image.content


async def test_record_video_action(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    response = await _record_video(hass, init_integration)
    assert response is not None
    assert str(response["url"]).startswith("/api/media/")
    assert "filename" not in response


async def test_record_video_saves_the_file_where_asked(
    hass: HomeAssistant, init_integration: MockConfigEntry, tmp_path: Path
) -> None:
    """With a file name the action waits for the video and writes the MP4 there."""
    media = tmp_path / "media"
    hass.config.allowlist_external_dirs = {str(media)}
    target = media / "beerpi" / "latest.mp4"  # its folder does not exist yet
    response = await _record_video(hass, init_integration, target)
    assert response is not None
    assert response["filename"] == str(target)
    data = target.read_bytes()
    assert data[4:8] == b"ftyp"  # an MP4 a notification or the media browser can show
    assert response["size"] == len(data) > 1000
    assert _names(target.parent) == ["latest.mp4"]  # no .part left


@pytest.mark.parametrize("filename", ["/etc/beerpi.mp4", "latest.mp4", ""])
async def test_record_video_refuses_a_path_home_assistant_may_not_write(
    hass: HomeAssistant, init_integration: MockConfigEntry, tmp_path: Path, filename: str
) -> None:
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with pytest.raises((ServiceValidationError, vol.Invalid)) as err:
        await _record_video(hass, init_integration, filename)
    if isinstance(err.value, ServiceValidationError):
        assert err.value.translation_key == "path_not_allowed"
        assert filename in str(err.value)
    assert _names(Path("/etc")).count("beerpi.mp4") == 0


class _HostileDaemon:
    """Answers a download with what a broken or hostile daemon might send."""

    def __init__(self, body: bytes, content_type: str) -> None:
        self._body = body
        self._content_type = content_type

    async def download(
        self, path: str, write: Callable[[bytes], Awaitable[None]], **_: object
    ) -> str:
        for start in range(0, len(self._body), 3):  # tiny pieces: the check must gather them
            await write(self._body[start : start + 3])
        return self._content_type


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><script>alert(1)</script></html>", "video/mp4"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "text/html"),
        (b"", "video/mp4"),
    ],
)
async def test_a_download_that_is_not_an_mp4_is_not_saved(
    hass: HomeAssistant, tmp_path: Path, body: bytes, content_type: str
) -> None:
    target = tmp_path / "beer.mp4"
    video = MediaInfo(id="video-20261129T120000Z-abcdef", kind="video", url="/api/media/x")
    with pytest.raises(HomeAssistantError) as err:
        await _save_video(hass, _HostileDaemon(body, content_type), video, target)  # type: ignore[arg-type]
    assert err.value.translation_key == "not_a_video"
    assert _names(tmp_path) == []  # neither the file nor its partial


@pytest.mark.parametrize("trailing", ["", "/"])
async def test_record_video_wants_a_file_not_a_folder(
    hass: HomeAssistant, init_integration: MockConfigEntry, tmp_path: Path, trailing: str
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with pytest.raises(ServiceValidationError) as err:
        await _record_video(hass, init_integration, f"{media}{trailing}")
    assert err.value.translation_key == "path_is_folder"
    assert _names(tmp_path) == ["daemon", "media"]  # nothing written beside the folder


async def test_a_video_without_a_path_on_the_daemon_is_not_fetched(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    video = MediaInfo(id="video-x", kind="video", url="http://elsewhere.example/v.mp4")
    with pytest.raises(HomeAssistantError) as err:
        await _save_video(hass, _HostileDaemon(b"", "video/mp4"), video, tmp_path / "v.mp4")  # type: ignore[arg-type]
    assert err.value.translation_key == "not_a_video"
    assert "elsewhere.example" in (err.value.translation_placeholders or {})["message"]


def _cap_under_the_video(daemon: Daemon, media: Path) -> AbstractContextManager[object]:
    """The guide's 256 MiB cap, lowered under the simulated video's size to see it hold."""
    return patch("custom_components.beerpi.video_action.MAX_VIDEO_BYTES", 1000)


def _a_file_where_the_folder_goes(daemon: Daemon, media: Path) -> AbstractContextManager[object]:
    (media / "beerpi").write_text("a file where the folder would go")
    return nullcontext()


def _no_patience(daemon: Daemon, media: Path) -> AbstractContextManager[object]:
    """A daemon slower than the action's patience (none left beyond the video's length)."""
    return patch.multiple("custom_components.beerpi.video_action", _SLACK_FACTOR=0, _SLACK_S=0.0)


def _camera_cannot_write(daemon: Daemon, media: Path) -> AbstractContextManager[object]:
    """The daemon's next capture cannot be written: its media folder is a file."""
    folder = daemon.data_dir / "media"
    folder.rename(daemon.data_dir / "media.moved")
    folder.write_text("not a folder")
    return nullcontext()


@pytest.mark.parametrize(
    ("break_it", "seconds", "name", "key", "said"),
    [
        (_cap_under_the_video, 1, "big.mp4", "too_large", ""),
        (_a_file_where_the_folder_goes, 1, "beerpi/latest.mp4", "cannot_write", "{target}"),
        (_no_patience, 5, "beer.mp4", "video_not_ready", ""),
        (_camera_cannot_write, 1, "beer.mp4", "video_failed", "video failed"),
    ],
    ids=["larger-than-the-cap", "file-cannot-be-written", "not-ready-in-time", "camera-fails"],
)
async def test_record_video_says_why_it_failed_and_writes_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon: Daemon,
    tmp_path: Path,
    break_it: Callable[[Daemon, Path], AbstractContextManager[object]],
    seconds: int,
    name: str,
    key: str,
    said: str,
) -> None:
    """Each way a video to a file can fail ends the action with its reason (not a hang),
    and leaves neither the file nor its partial."""
    media = tmp_path / "media"
    media.mkdir()
    hass.config.allowlist_external_dirs = {str(media)}
    target = media / name
    with break_it(daemon, media):
        before = _names(media)
        with pytest.raises(HomeAssistantError) as err:
            await _record_video(hass, init_integration, target, seconds)
    assert err.value.translation_key == key, err.value
    assert said.format(target=target) in str(err.value)
    assert _names(media) == before


async def test_profile_actions(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    steps = [
        {"kind": "hold", "target": 18, "hours": 48},
        {"kind": "ramp", "target": 21, "days": 1},
    ]
    await set_profile(hass, init_integration, steps, name="Ale", mode="heat_cool")
    profile = (await daemon_client.get_state()).thermostat.profile
    assert profile is not None
    assert profile.name == "Ale"
    await wait_for_state(hass, "sensor.beerpi_profile_step", state_is("1"))

    await hass.services.async_call(
        DOMAIN, "clear_profile", {"config_entry_id": init_integration.entry_id}, blocking=True
    )
    assert (await daemon_client.get_state()).thermostat.profile is None
    await wait_for_state(hass, "sensor.beerpi_profile_step", state_is("unknown"))


async def test_action_on_unknown_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "clear_profile", {"config_entry_id": "nope"}, blocking=True
        )
    assert err.value.translation_key == "entry_not_found"


async def test_action_on_unloaded_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "clear_profile", {"config_entry_id": init_integration.entry_id}, blocking=True
        )
    assert err.value.translation_key == "entry_not_loaded"
    assert "Devices & services" in str(err.value)


async def test_action_while_the_entry_waits_for_the_pi(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, daemon: Daemon
) -> None:
    """Home Assistant started while the Pi was away: the entry retries its set-up, and an
    action says why it cannot run (the set-up's error), not only "not loaded"."""
    await hass.async_add_executor_job(daemon.stop)
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "clear_profile", {"config_entry_id": mock_config_entry.entry_id}, blocking=True
        )
    assert str(err.value).startswith("BeerPi is not set up, so nothing was sent: ")
    assert f"Cannot connect to the BeerPi daemon: cannot connect to http://{daemon.host}:" in str(
        err.value
    )


async def test_action_after_a_refused_token_says_where_the_token_is(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, daemon: Daemon
) -> None:
    """The Pi's token changed while Home Assistant was off: an action says the BeerPi
    refused the token and where to check it (before: "could not prove it knows the
    token, or refused ours")."""
    await hass.async_add_executor_job(daemon.stop)
    await hass.async_add_executor_job(daemon.start, secrets.token_hex(16))
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "clear_profile", {"config_entry_id": mock_config_entry.entry_id}, blocking=True
        )
    assert str(err.value) == (
        "BeerPi is not set up, so nothing was sent: The BeerPi refused the token (it holds "
        "another one, or this is not your BeerPi): check the token against the Pi's token "
        "file, then re-authenticate the entry"
    )


async def test_set_profile_without_name(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """The name is optional (services.yaml): the daemon names an unnamed profile."""
    await set_profile(hass, init_integration, [{"kind": "hold", "target": 19, "days": 3}])
    profile = (await daemon_client.get_state()).thermostat.profile
    assert profile is not None
    assert profile.name  # named by the daemon
    assert [(s.kind, s.target, s.hours) for s in profile.steps] == [("hold", 19.0, 72.0)]


async def test_set_profile_takes_home_assistant_units(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """A Fahrenheit home gives targets in °F; the daemon gets °C."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    steps = [
        {"kind": "hold", "target": 50, "days": 10},
        {"kind": "ramp", "target": 64.4, "hours": 24},
    ]
    await set_profile(hass, init_integration, steps, name="Lager")
    profile = (await daemon_client.get_state()).thermostat.profile
    assert profile is not None
    assert [step.target for step in profile.steps] == [10.0, 18.0]


async def test_a_step_target_out_of_range_is_refused_in_the_homes_unit(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """The daemon's range (-2 to 35 °C) said in °F to a Fahrenheit home, naming the step;
    before, the daemon's own text came through: "steps[1].target must be between -2 and
    35 °C"."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    steps = [{"kind": "hold", "target": 50, "days": 10}, {"kind": "hold", "target": 100, "days": 2}]
    with pytest.raises(ServiceValidationError) as err:
        await set_profile(hass, init_integration, steps)
    assert err.value.translation_key == "step_target_out_of_range"
    assert err.value.translation_placeholders == {
        "step": "2",
        "target": "100",
        "min": "28.4",
        "max": "95",
        "unit": "°F",
    }
    # Home Assistant drops the text's full stop.
    message = "Step 2's target, 100 °F, is outside the range the BeerPi allows: 28.4 to 95 °F"
    assert str(err.value) == message
    assert (await daemon_client.get_state()).thermostat.profile is None


@pytest.mark.parametrize(
    ("second", "text"),
    [
        (
            {"kind": "hold", "target": 18, "days": 4, "until_sg": 2.0},
            "step 2's until_sg must be between 0.99 and 1.2",
        ),
        (
            {"kind": "ramp", "target": 18, "days": 4, "until_sg": 1.01},
            "step 2: only a hold can end on gravity",
        ),
        (
            {"kind": "hold", "target": 18, "days": 4, "stable_within": 0.001},
            "step 2: give stable_within and stable_hours together",
        ),
    ],
    ids=["until_sg", "ramp on gravity", "stable alone"],
)
async def test_a_refused_step_is_counted_from_1_as_the_action_counts_it(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
    second: dict[str, object],
    text: str,
) -> None:
    """The daemon counts steps from 0 ("steps[1].until_sg must be ..."); the action's
    own refusals, skip_step and the profile step sensor count them from 1: the second
    step is "step 2" in every text a Home Assistant user reads."""
    steps = [{"kind": "hold", "target": 18, "days": 2}, second]
    with pytest.raises(ServiceValidationError) as err:
        await set_profile(hass, init_integration, steps)
    assert err.value.translation_key == "invalid_argument"
    assert str(err.value) == f"Not a valid BeerPi request: {text}"
    assert (await daemon_client.get_state()).thermostat.profile is None


async def test_pause_resume_and_skip_a_profile_step(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    entry = {"config_entry_id": init_integration.entry_id}
    paused = "binary_sensor.beerpi_profile_paused"
    # No profile runs: the actions say so, and the paused sensor does not know.
    for action in ("pause_profile", "resume_profile", "skip_step"):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(DOMAIN, action, entry, blocking=True)
        assert err.value.translation_key == "no_profile_running"
    await wait_for_state(hass, paused, state_is("unknown"))

    await daemon_client.set_thermostat(
        profile={
            "name": "Ale",
            "steps": [
                {"kind": "hold", "target": 18, "days": 4},
                {"kind": "hold", "target": 21, "days": 2},
                {"kind": "hold", "target": 2, "days": 2},
            ],
        }
    )
    await wait_for_state(hass, paused, state_is(STATE_OFF))
    await wait_for_state(hass, "sensor.beerpi_profile_step_ends_at", has_time)

    await hass.services.async_call(DOMAIN, "pause_profile", entry, blocking=True)
    profile = (await daemon_client.get_state()).thermostat.profile
    assert profile is not None
    assert profile.paused
    await wait_for_state(hass, paused, state_is(STATE_ON))
    # A paused profile has no end until it resumes.
    await wait_for_state(hass, "sensor.beerpi_profile_step_ends_at", state_is("unknown"))
    assert hass.states.get("sensor.beerpi_profile_ends_at").state == "unknown"  # type: ignore[union-attr]
    # Pausing twice is the user's mistake, in the daemon's words.
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "pause_profile", entry, blocking=True)
    assert err.value.translation_key == "invalid_argument"
    assert "already paused" in str(err.value.translation_placeholders)

    await hass.services.async_call(DOMAIN, "resume_profile", entry, blocking=True)
    await wait_for_state(hass, paused, state_is(STATE_OFF))
    await wait_for_state(hass, "sensor.beerpi_profile_step_ends_at", has_time)

    # Step 2 (counted from 1) does not run yet: nothing is skipped.
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, "skip_step", entry | {"step": 2}, blocking=True)
    await hass.services.async_call(DOMAIN, "skip_step", entry | {"step": 1}, blocking=True)
    await wait_for_state(hass, "sensor.beerpi_profile_step", state_is("2"))
    assert (await daemon_client.get_state()).thermostat.target == 21.0
    await hass.services.async_call(DOMAIN, "skip_step", entry, blocking=True)
    await hass.services.async_call(DOMAIN, "skip_step", entry, blocking=True)
    # Past the last step the profile is finished: no step, no pause to know of.
    await wait_for_state(hass, "sensor.beerpi_profile_step", state_is("unknown"))
    await wait_for_state(hass, paused, state_is("unknown"))
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "skip_step", entry, blocking=True)
    assert err.value.translation_key == "no_profile_running"


def has_time(state: State) -> bool:
    return state.state not in ("unknown", "unavailable")
