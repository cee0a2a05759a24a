"""Configuration: defaults that run, errors that name the field, the CLI over the file."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pi_daemon import cli
from pi_daemon.cli import build_parser, overrides_from
from pi_daemon.config import (
    ConfigError,
    DaemonConfig,
    ProbeSection,
    RelaySection,
    TiltSection,
    load_config,
)

ROOT = Path(__file__).resolve().parents[2]


def test_simulation_needs_no_file() -> None:
    config = load_config(None, {"simulate": True, "server.token": "t"})
    assert [p.id for p in config.probes] == ["beer", "fridge"]
    assert [r.id for r in config.relays] == ["heater", "cooler"]
    assert config.server.port == 8765
    assert config.thermostat.cooler_min_off_s >= 300
    # The README's gravity defaults: the simulated Tilt on, one reading a minute, and
    # reported readings up to two hours old taken.
    gravity = config.gravity
    assert (gravity.simulated_tilt, gravity.simulated_tilt_id) == (True, "tilt-red")
    assert (gravity.simulated_tilt_period_s, gravity.max_report_age_s) == (60.0, 7200.0)


def test_the_example_config_is_valid(tmp_path: Path) -> None:
    # The example names its token file (secrets stay out of configs, issue 14).
    example = (ROOT / "deploy" / "daemon.example.toml").read_text()
    token = tmp_path / "daemon.token"
    token.write_text("x" * 8 + "y" * 8 + "\n")
    path = tmp_path / "daemon.toml"
    path.write_text(example.replace("/etc/beerpi/daemon.token", str(token)))
    config = load_config(path)
    assert config.server.token == "x" * 8 + "y" * 8
    assert not config.simulate
    assert all(r.active_high is False for r in config.relays)
    assert config.probes[0].sensor_id.startswith("28-")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[server]\nport = 70000\n", "server.port"),
        ("[server]\nprot = 1\n", "server.prot"),
        ("[[relays]]\nid = 'heater'\npin = 99\n", "relays[0].pin"),
        ("[[probes]]\nid = 'Beer Probe'\n", "probes[0].id"),
        ("[thermostat]\ncooler_min_off_s = 30\n", "thermostat.cooler_min_off_s"),
        ("[thermostat]\nprobe = 'wort'\n", "thermostat.probe"),
        # Each named by the key to change, with the values that clash.
        (
            "[thermostat]\nmin_target = 30\nmax_target = 20\n",
            "thermostat.max_target: must be above min_target (30 °C), not 20 °C",
        ),
        (
            "[thermostat]\nhigh_cutoff = 30\n",
            "thermostat.high_cutoff: must be above max_target (35 °C), not 30 °C",
        ),
        (
            "[thermostat]\nmin_target = -10\nlow_cutoff = -5\n",
            "thermostat.low_cutoff: must be below min_target (-10 °C), not -5 °C",
        ),
        (
            "[thermostat]\ninitial_target = 36\n",
            "thermostat.initial_target: must lie between min_target and max_target"
            " (-2 °C to 35 °C), not 36 °C",
        ),
        (
            "[thermostat]\nheater_min_on_s = 3000\nheater_max_run_s = 100\n",
            "thermostat.heater_max_run_s: must be longer than heater_min_on_s (3000 s), not 100 s",
        ),
        (
            "[thermostat]\nheater = 'cooler'\n",
            "thermostat.cooler: must be another relay than heater (both 'cooler')",
        ),
        (
            "[thermostat]\nchamber_probe = 'beer'\n",
            "thermostat.chamber_probe: must be another probe than probe ('beer')",
        ),
        (
            "[thermostat]\nheater = ''\ncooler = ''\n",
            "thermostat.cooler: a thermostat needs a heater or a cooler",
        ),
        (
            # Refused with the config: the start blamed a thermostat.json that did not exist.
            "[thermostat]\nheater = ''\ninitial_mode = 'heat_cool'\n",
            'thermostat.initial_mode: heat_cool needs a heater, and heater is "" (none)',
        ),
        (
            "[thermostat]\ncooler = ''\ninitial_mode = 'cool'\n",
            'thermostat.initial_mode: cool needs a cooler, and cooler is "" (none)',
        ),
        (
            "[[relays]]\nid = 'heater'\npin = 17\n[[relays]]\nid = 'cooler'\npin = 17\n",
            "relays[1].pin: GPIO 17 is already relays[0]'s (heater): two relays would share"
            " a GPIO pin and switch together",
        ),
        ("[sampling]\nread_interval_s = nan\n", "sampling.read_interval_s"),
    ],
)
def test_bad_config_names_the_field(tmp_path: Path, toml: str, expected: str) -> None:
    path = tmp_path / "daemon.toml"
    path.write_text("simulate = true\n" + toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_fermenter_without_a_fridge_or_an_air_probe_can_be_configured(tmp_path: Path) -> None:
    """TOML has no null: "" says the thermostat has no such part (a heat belt alone)."""
    path = tmp_path / "daemon.toml"
    path.write_text(
        "[[probes]]\nid = 'beer'\nsensor_id = '28-0316a2795aff'\n"
        "[[relays]]\nid = 'heater'\npin = 17\n"
        "[thermostat]\nchamber_probe = ''\ncooler = ''\n"
    )
    config = load_config(path, {"server.token": "t"})
    settings = config.thermostat.control_settings()
    assert (settings.heater, settings.cooler, settings.chamber_probe) == ("heater", None, None)


@pytest.mark.parametrize(
    ("probes", "expected"),
    [
        (
            "[[probes]]\nid = 'beer'\nsensor_id = '28-0316a2795af'\n",
            "probes[0].sensor_id: 1-Wire sensor id '28-0316a2795af' is not like 28-0316a2793aff",
        ),
        (
            # Two probes on one sensor: the thermostat would steer the air by the beer.
            "[[probes]]\nid = 'beer'\nsensor_id = '28-0316a2795aff'\n"
            "[[probes]]\nid = 'fridge'\nsensor_id = '0316A2795AFF'\n",
            "probes[1].sensor_id: 28-0316a2795aff is already probes[0]'s (beer):"
            " each probe is a sensor of its own",
        ),
    ],
)
def test_a_sensor_id_is_checked_with_the_config(probes: str, expected: str) -> None:
    """Before: a malformed id was a traceback from the hardware; a shared one ran."""
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"server.token": "t", "probes": tomllib.loads(probes)["probes"]})
    assert expected in str(caught.value)


def test_a_sensor_id_is_kept_in_the_form_the_bus_lists() -> None:
    config = load_config(
        None,
        {
            "server.token": "t",
            "probes": [{"id": "beer", "sensor_id": "0316A2795AFF"}],
            "thermostat.chamber_probe": "",
        },
    )
    assert config.probes[0].sensor_id == "28-0316a2795aff"


def test_a_sensor_of_another_family_stops_the_start_with_one_line(tmp_path: Path) -> None:
    """Real hardware on gpiozero's mock pins: the id passes the config, the library refuses it."""
    config = tmp_path / "daemon.toml"
    config.write_text(
        "[server]\nhost = '127.0.0.1'\nport = 1\ntoken = 'Vq3LrT8xZp2NwK7sHd4JmB6c'\n"
        f"[storage]\ndata_dir = '{tmp_path / 'data'}'\n[camera]\nenabled = false\n"
        "[[probes]]\nid = 'beer'\nsensor_id = 'ff-0316a2795aff'\n"
        "[[probes]]\nid = 'fridge'\nsensor_id = '28-0416a27f11ff'\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pi_daemon", "--config", str(config), "--no-zeroconf"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env={**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "W1THERMSENSOR_NO_KERNEL_MODULE": "1"},
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "beerpi-daemon: probes[0].sensor_id: 'ff-0316a2795aff' is not a 1-Wire temperature sensor"
    )


def test_real_hardware_needs_sensor_ids() -> None:
    with pytest.raises(ConfigError, match=r"probes\[0\]\.sensor_id: is required on real hardware"):
        load_config(None, {"server.token": "t"})


def test_unreadable_or_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_cli_options_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "daemon.toml"
    path.write_text("simulate = true\n[server]\nport = 9000\ntoken = 'file'\n")
    args = build_parser().parse_args(
        ["--config", str(path), "--port", "9100", "--data-dir", str(tmp_path), "--no-zeroconf"]
    )
    config = load_config(args.config, overrides_from(args))
    assert config.server.port == 9100
    assert config.server.token == "file"
    assert config.storage.data_dir == tmp_path
    assert config.zeroconf.enabled is False


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pi_daemon", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def test_help_reads_like_a_manual() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    for option in ("--simulate", "--token", "--data-dir", "--record-interval", "--sim-speed"):
        assert option in result.stdout
    assert "Try it without a Pi" in result.stdout


def test_cli_refuses_a_bad_start_with_exit_code_2(tmp_path: Path) -> None:
    no_token = _cli("--simulate", "--data-dir", str(tmp_path), "--no-zeroconf", "--port", "1")
    assert no_token.returncode == 2
    assert "token is required" in no_token.stderr
    speed = _cli("--sim-speed", "10", "--token", "t")
    assert speed.returncode == 2
    assert "--sim-speed needs --simulate" in speed.stderr


SIM = {"simulate": True}


def test_the_token_comes_from_exactly_one_place(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file-0123456789\n")
    from_file = load_config(None, {**SIM, "server.token_file": str(token_file)}, environ={})
    assert from_file.server.token == "from-the-file-0123456789"
    env = {"BEERPI_TOKEN": "from-the-environment-0123"}
    assert load_config(None, SIM, environ=env).server.token == "from-the-environment-0123"
    # The config's own token wins over the environment; a token and a file clash.
    assert load_config(None, {**SIM, "server.token": "given"}, environ=env).server.token == "given"
    with pytest.raises(ConfigError, match="not both"):
        load_config(None, {**SIM, "server.token": "a", "server.token_file": str(token_file)})
    token_file.write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        load_config(None, {**SIM, "server.token_file": str(token_file)})
    with pytest.raises(ConfigError, match=r"dialout\.token is required"):
        load_config(None, {**SIM, "dialout.server": "http://x"}, environ={})


def test_a_relative_path_is_shown_as_the_path_it_stands_for(tmp_path: Path) -> None:
    """Under systemd the working directory is /: 'data' there is /data, and says so."""
    (tmp_path / "data").write_text("a file, not a directory\n")
    result = subprocess.run(
        [
            sys.executable, "-m", "pi_daemon", "--simulate", "--token-file", "tokn",
            "--data-dir", "data", "--no-zeroconf",
        ],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"beerpi-daemon: cannot read server.token from tokn (that is {tmp_path / 'tokn'}, "
        "relative to the working directory): No such file or directory"
    )
    (tmp_path / "tokn").write_text("Vq3LrT8xZp2NwK7sHd4JmB6c\n")
    result = subprocess.run(
        [
            sys.executable, "-m", "pi_daemon", "--simulate", "--token-file", "tokn",
            "--data-dir", "data", "--no-zeroconf", "--port", "1",
        ],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"beerpi-daemon: the data dir data (that is {tmp_path / 'data'}, relative to the "
        "working directory) is not a directory"
    )


def test_the_watchdog_limit_comes_from_the_config_and_is_checked() -> None:
    base = {"simulate": True, "server.token": "t"}
    assert load_config(None, base).watchdog_s == 15.0  # three default (5 s) read periods
    fast = {**base, "sampling.read_interval_s": 1.0}
    assert load_config(None, {**fast, "safety.watchdog_s": 4.0}).watchdog_s == 4.0
    # Unset, it covers at least three read periods.
    assert load_config(None, {**base, "sampling.read_interval_s": 60.0}).watchdog_s == 180.0
    for bad in (0, -1.0, float("nan"), "soon", 2.0):
        with pytest.raises(ConfigError, match=r"safety\.watchdog_s"):
            load_config(None, {**fast, "safety.watchdog_s": bad})
    # Shorter than three default read periods: refused, with the reason.
    with pytest.raises(ConfigError, match=r"at least 3 read periods \(15 s\)"):
        load_config(None, {**base, "safety.watchdog_s": 4.0})


def test_the_default_read_period_fits_the_safety_timing() -> None:
    """A 5 s read (issue 18: idle CPU) keeps every time-based safety rule meaningful."""
    from pi_daemon.safety import limits

    config = load_config(None, {"simulate": True, "server.token": "t"})
    period = config.sampling.read_interval_s
    assert period == limits.READ_INTERVAL_S
    # Slower than a DS18B20's 0.75 s conversion, so each read is a fresh one.
    assert period > 0.75
    watchdog = config.watchdog_s
    read_timeout = limits.probe_read_timeout_s(watchdog, config.read_period_real_s)
    # A step whose probe read times out still completes well inside the watchdog's limit.
    assert period + read_timeout < watchdog
    assert watchdog >= limits.WATCHDOG_MIN_PERIODS * period
    # A probe goes stale only after many missed reads.
    safety = config.thermostat.control_settings().safety
    assert safety.stale_s >= 10 * period
    # The shortest relay rule spans many reads, so a read's delay never decides a switch.
    assert min(limits.HEATER_MIN_ON_S, limits.COOLER_MIN_ON_S) >= 10 * period


def test_the_readme_design_numbers_are_the_defaults() -> None:
    """README, "Safety on the Pi" and "Nothing lost": the numbers a brewer reads there
    are what a daemon without a config file does (the test above ties the config to
    limits.py; this one ties both to the README)."""
    from pi_daemon.safety import effect, history, limits

    minute, hour = 60.0, 3600.0
    config = load_config(None, {"simulate": True, "server.token": "t"})
    settings = config.thermostat.control_settings()
    heater, cooler, safety = settings.heater_timing, settings.cooler_timing, settings.safety
    assert config.thermostat.cooler_min_off_s >= 5 * minute  # "a compressor rests at least 5 min"
    assert (heater.max_run_s, cooler.max_run_s) == (4 * hour, 8 * hour)
    assert safety.changeover_s == 30 * minute
    assert (safety.stuck_s, safety.beer_stuck_s) == (30 * minute, 2 * hour)
    assert safety.settle_reads == 2  # "control resumes after two good reads"
    assert (heater.no_effect_s, cooler.no_effect_s) == (30 * minute, 20 * minute)
    pushed_extra_s, refresh_s, fresh_s = effect.PUSHED_EXTRA_S, history.REFRESH_S, history.FRESH_S
    assert pushed_extra_s == 3 * hour  # "judged 3 h later"
    assert (refresh_s, fresh_s) == (minute, 3 * minute)
    assert config.watchdog_s == 15.0 == limits.WATCHDOG_S
    assert config.storage.record_interval_s == 60.0


def test_safety_defaults_come_from_the_safety_rules() -> None:
    from pi_daemon.safety import limits

    t = load_config(None, {"simulate": True, "server.token": "t"}).thermostat
    settings = t.control_settings()
    assert settings.heater_timing.min_off_s == limits.HEATER_MIN_OFF_S
    assert settings.cooler_timing.max_run_s == limits.COOLER_MAX_RUN_S
    assert settings.heater_timing.no_effect_s == limits.HEATER_NO_EFFECT_S
    assert settings.cooler_timing.no_effect_s == limits.COOLER_NO_EFFECT_S
    assert settings.safety.high_cutoff_c == limits.HIGH_CUTOFF_C
    assert settings.safety.changeover_s == limits.CHANGEOVER_S


# A commented-out key or table header of the example: "# key = value", "# [table]".
_COMMENTED = re.compile(r"^# ?(\[\[?[a-z_]+\]\]?\s*$|[a-z_]+ *= .*)$")


def _keys(kind: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(kind)}


def test_the_example_shows_every_option_and_each_is_valid(tmp_path: Path) -> None:
    # The README sends the brewer to the example for "every option": every field of
    # every section is there, set or commented out, and uncommented they all load.
    text = (ROOT / "deploy" / "daemon.example.toml").read_text()
    lines = [(m.group(1) if (m := _COMMENTED.match(x)) else x) for x in text.splitlines()]
    everything = "\n".join(lines)
    for name in ("daemon.token", "dialout.token", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x" * 8 + "y" * 8 + "\n")
        everything = everything.replace(f"/etc/beerpi/{name}", str(tmp_path / name))
    shown = tomllib.loads(everything)
    defaults = DaemonConfig()
    missing = [] if "simulate" in shown else ["simulate"]
    for field in dataclasses.fields(DaemonConfig):
        value = getattr(defaults, field.name)
        if dataclasses.is_dataclass(value):
            missing += [f"{field.name}.{k}" for k in _keys(value) - set(shown.get(field.name, {}))]
    for name, kind in (("probes", ProbeSection), ("relays", RelaySection), ("tilts", TiltSection)):
        seen: set[str] = set().union(*(set(table) for table in shown.get(name, [])))
        missing += [f"{name}[].{k}" for k in _keys(kind) - seen]
    assert not missing, f"not in deploy/daemon.example.toml: {sorted(missing)}"
    # A token in the file and a token file at once is refused: load with the files.
    path = tmp_path / "everything.toml"
    path.write_text(re.sub(r'^token = "".*$', "", everything, flags=re.M))
    config = load_config(path)
    assert config.simulate is False
    assert config.dialout.server is not None
    assert [t.colour for t in config.tilts] == ["red"]


def test_ctrl_c_while_starting_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C in the second or two the imports take, before any relay is claimed."""

    def interrupted(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "load_config", interrupted)
    assert cli.main(["--simulate", "--token", "t"]) == 130
    assert capsys.readouterr().err == "beerpi-daemon: interrupted while starting\n"
