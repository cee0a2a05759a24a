"""Run a real Home Assistant with the BeerPi integration set up on a simulated daemon.

    make ha-demo      (or: .venv-ha/bin/python -m scripts.ha_demo [--ha-port 8123] ...)

What it does, all on 127.0.0.1 and without touching the internet:

1. A config dir (a temporary one unless --config-dir) with ``custom_components/beerpi``
   symlinked in and the repository's blueprints copied in, a ``configuration.yaml`` that fixes
   location, units and time zone (so nothing is detected online) and lists no
   ``default_config`` (no cloud, no updater, no analytics upload), an onboarding store
   where only the "create the owner" step is left (the core-config step would set up
   met.no weather and radio_browser, which reach the internet), and the HTTP server's
   address in its store: an ``http:`` block in YAML is deprecated, and migrating it makes
   a trial config that Home Assistant reverts (restarting) after 5 minutes unless
   someone confirms it in the UI.
2. The simulated daemon (``.venv/bin/python -m pi_daemon --simulate``).
3. Home Assistant from ``.venv-ha`` with ``--skip-pip`` (it never installs packages at
   run time); the frontend and the few packages the default integrations need come
   from ``requirements/ha-demo.txt``, installed by ``make ha-demo`` into
   ``.venv-ha/demo-deps``.
4. Onboarding through the REST API (``POST /api/onboarding/users`` gives an auth code,
   ``POST /auth/token`` turns it into tokens), then the BeerPi config entry through the
   config-flow REST API (``/api/config/config_entries/flow``), as the UI would; the
   thermostat is set to heat_cool (so the relays move), a photo is taken, and the
   blueprints become automations (``automations.yaml``, then ``automation.reload``).
5. Prints the URL and the login; Ctrl-C (or SIGTERM) stops Home Assistant and the daemon.

``--info-file PATH`` writes the URL, login and an access token as JSON once everything
is up (the test and ``bench/ha_latency.py`` read it). Only the standard library (and the
standard-library harness in beerpi_devtools) is used, so any Python 3.11+ runs this script.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from beerpi_devtools.harness import (
    DAEMON_READY,
    Child,
    StartError,
    daemon_command,
    free_port,
    ready_line,
)

ROOT = Path(__file__).resolve().parents[1]
HA_PYTHON = ROOT / ".venv-ha" / "bin" / "python"
DAEMON_PYTHON = ROOT / ".venv" / "bin" / "python"
DEMO_DEPS = ROOT / ".venv-ha" / "demo-deps"
HOST = "127.0.0.1"
DAEMON_START_TIMEOUT_S = 30.0
HA_START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0

CONFIGURATION_YAML = """\
# Written by scripts/ha_demo.py. No default_config: it would pull in cloud and
# other integrations that talk to the internet.
homeassistant:
  name: BeerPi demo
  latitude: 50.85
  longitude: 4.35
  elevation: 50
  unit_system: metric
  temperature_unit: C
  time_zone: UTC
  currency: EUR
  country: BE
  language: en
  internal_url: "http://{host}:{port}"

# The UI, its REST and websocket APIs, the config-flow endpoints and history; the
# automations made from BeerPi's blueprints.
frontend:
config:
api:
history:
automation: !include automations.yaml

logger:
  default: warning
"""

# Every onboarding step but "user" (done through the REST API below). See the module
# docstring for why core_config is not run.
ONBOARDING_STORE = {
    "version": 4,
    "minor_version": 1,
    "key": "onboarding",
    "data": {"done": ["core_config", "analytics", "integration"]},
}


BLUEPRINTS = ROOT / "blueprints" / "automation" / "beerpi"


def http_store(port: int) -> dict[str, Any]:
    """The HTTP server's address as Home Assistant's own store keeps it (format 1, which
    it migrates on load), instead of the deprecated ``http:`` YAML."""
    return {
        "version": 1,
        "minor_version": 1,
        "key": "http",
        "data": {"server_host": [HOST], "server_port": port},
    }


class DemoError(RuntimeError):
    """A step of the demo failed; the message says which."""


class HaDemo:
    """Home Assistant and a simulated daemon, set up; use as a context manager."""

    def __init__(
        self,
        *,
        ha_port: int = 8123,
        daemon_port: int | None = None,
        config_dir: Path | None = None,
        read_interval_s: float = 1.0,
        username: str = "beerpi",
        password: str | None = None,
        daemon_config_toml: str = "",
    ) -> None:
        self.ha_port = ha_port
        self.daemon_port = daemon_port or free_port()
        self.read_interval_s = read_interval_s
        self.username = username
        self.password = password or secrets.token_urlsafe(9)
        # Strong (the daemon refuses weak tokens), and hex: passed as --token, a
        # token starting with "-" would be taken for an option.
        self.daemon_token = secrets.token_hex(16)
        self.daemon_config_toml = daemon_config_toml
        self._own_dir = config_dir is None
        self.config_dir = config_dir or Path(tempfile.mkdtemp(prefix="beerpi-ha-demo-"))
        self.url = f"http://{HOST}:{ha_port}"
        self.client_id = f"{self.url}/"
        self.access_token = ""
        self.refresh_token = ""
        self.entry_id = ""
        self.device_id = ""
        self._daemon: Child | None = None
        self._ha: Child | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> HaDemo:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._write_config()
        self._start_daemon()
        self._start_ha()
        self._onboard()
        self._add_beerpi()

    def stop(self) -> None:
        """Home Assistant first (it closes its link to the daemon), then the daemon."""
        for child in (self._ha, self._daemon):
            if child is not None:
                child.stop()
        self._ha = self._daemon = None
        if self._own_dir:
            shutil.rmtree(self.config_dir, ignore_errors=True)

    @property
    def ha_log(self) -> Path:
        return self.config_dir / "home-assistant.out"

    @property
    def daemon_log(self) -> Path:
        return self.config_dir / "daemon.log"

    def info(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "username": self.username,
            "password": self.password,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "client_id": self.client_id,
            "config_dir": str(self.config_dir),
            "daemon": {"host": HOST, "port": self.daemon_port, "token": self.daemon_token},
            "entry_id": self.entry_id,
            "device_id": self.device_id,
        }

    # -- steps ----------------------------------------------------------------------------

    def _write_config(self) -> None:
        custom = self.config_dir / "custom_components"
        custom.mkdir(parents=True, exist_ok=True)
        link = custom / "beerpi"
        if not link.exists():
            link.symlink_to(ROOT / "custom_components" / "beerpi", target_is_directory=True)
        # Copied, not linked: Home Assistant's blueprint list does not follow symlinks.
        blueprints = self.config_dir / "blueprints" / "automation" / "beerpi"
        blueprints.mkdir(parents=True, exist_ok=True)
        for blueprint in BLUEPRINTS.glob("*.yaml"):
            shutil.copyfile(blueprint, blueprints / blueprint.name)
        (self.config_dir / "configuration.yaml").write_text(
            CONFIGURATION_YAML.format(host=HOST, port=self.ha_port)
        )
        automations = self.config_dir / "automations.yaml"
        if not automations.exists():
            automations.write_text("[]\n")
        storage = self.config_dir / ".storage"
        storage.mkdir(exist_ok=True)
        onboarding = storage / "onboarding"
        if not onboarding.exists():
            onboarding.write_text(json.dumps(ONBOARDING_STORE))
        (storage / "http").write_text(json.dumps(http_store(self.ha_port)))

    def _start_daemon(self) -> None:
        data_dir = self.config_dir / "beerpi-daemon"
        data_dir.mkdir(exist_ok=True)
        extra: list[str] = []
        if self.daemon_config_toml:
            config = self.config_dir / "beerpi-daemon.toml"
            config.write_text(self.daemon_config_toml)
            extra = ["--config", str(config)]
        self.daemon_log.unlink(missing_ok=True)
        read_interval = ("--read-interval", str(self.read_interval_s))
        self._daemon = Child(
            lambda port: daemon_command(
                port,
                self.daemon_token,
                data_dir,
                *read_interval,
                *extra,
                python=str(DAEMON_PYTHON),
            ),
            self.daemon_log,
            ready=ready_line(DAEMON_READY),
            port=self.daemon_port,
            name="daemon",
            new_session=True,  # Ctrl-C reaches this script, which stops it in order
            start_timeout_s=DAEMON_START_TIMEOUT_S,
            stop_timeout_s=STOP_TIMEOUT_S,
        )
        try:
            self._daemon.start()
        except StartError as err:
            raise DemoError(f"daemon did not start: {err}") from err

    def _start_ha(self) -> None:
        if not HA_PYTHON.exists():
            raise DemoError(f"{HA_PYTHON} missing: run `make env-ha` (or `make ha-demo`)")
        self.ha_log.unlink(missing_ok=True)
        self._ha = Child(
            lambda _port: [
                str(HA_PYTHON),
                "-m",
                "homeassistant",
                "--skip-pip",
                "-c",
                str(self.config_dir),
            ],
            self.ha_log,
            # Onboarding answers once the core integrations are set up.
            ready=lambda _child: self._onboarding_answers(),
            port=self.ha_port,
            name="Home Assistant",
            cwd=self.config_dir,
            env={"PYTHONPATH": str(DEMO_DEPS)},
            new_session=True,
            start_timeout_s=HA_START_TIMEOUT_S,
            stop_timeout_s=STOP_TIMEOUT_S,
        )
        try:
            self._ha.start()
        except StartError as err:
            raise DemoError(f"Home Assistant not up: {err}") from err

    def _onboarding_answers(self) -> bool:
        try:
            return isinstance(self.request("GET", "/api/onboarding", auth=False), list)
        except (OSError, DemoError):
            return False

    def _onboard(self) -> None:
        answer = self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": self.client_id,
                "name": "Brewer",
                "username": self.username,
                "password": self.password,
                "language": "en",
            },
            auth=False,
        )
        tokens = self.request(
            "POST",
            "/auth/token",
            form={
                "grant_type": "authorization_code",
                "code": answer["auth_code"],
                "client_id": self.client_id,
            },
            auth=False,
        )
        self.access_token = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]

    def _add_beerpi(self) -> None:
        """The config flow the UI runs: start it, then submit host, port and token."""
        flow = self.request(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": "beerpi", "show_advanced_options": False},
        )
        if flow.get("type") != "form" or flow.get("step_id") != "user":
            raise DemoError(f"unexpected first step of the BeerPi flow: {flow}")
        result = self.request(
            "POST",
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            {"host": HOST, "port": self.daemon_port, "token": self.daemon_token},
        )
        if result.get("type") != "create_entry":
            raise DemoError(f"BeerPi config flow did not create an entry: {result}")
        self.entry_id = result["result"]["entry_id"]
        deadline = time.monotonic() + 30
        while not self.beerpi_states():
            if time.monotonic() > deadline:
                raise DemoError(f"no BeerPi entity appeared: {self.ha_log.read_text()[-3000:]}")
            time.sleep(0.2)
        # A thermostat at work (the fridge cools and warms, the relays move) and a photo
        # for the camera entity.
        self.request(
            "POST",
            "/api/services/climate/set_hvac_mode",
            {"entity_id": "climate.beerpi_thermostat", "hvac_mode": "heat_cool"},
        )
        self.request(
            "POST", "/api/services/button/press", {"entity_id": "button.beerpi_take_photo"}
        )
        self._add_automations()

    def _add_automations(self) -> None:
        """One automation per blueprint, on this BeerPi, then a reload to load them."""
        self.device_id = self.template("{{ device_id('climate.beerpi_thermostat') }}")
        if not self.device_id:
            raise DemoError("no device for climate.beerpi_thermostat")
        automations = [
            {
                "id": "beerpi_demo_faults",
                "alias": "BeerPi: tell me about faults",
                "use_blueprint": {
                    "path": "beerpi/notify_on_fault.yaml",
                    "input": {"beerpi": self.device_id},
                },
            },
            {
                "id": "beerpi_demo_out_of_reach",
                "alias": "BeerPi: out of reach",
                "use_blueprint": {
                    "path": "beerpi/link_lost.yaml",
                    "input": {"link": "binary_sensor.beerpi_link"},
                },
            },
            {
                "id": "beerpi_demo_off_target",
                "alias": "BeerPi: beer off target",
                "use_blueprint": {
                    "path": "beerpi/temperature_alarm.yaml",
                    "input": {
                        "beer": "sensor.beerpi_beer_temperature",
                        "target": "sensor.beerpi_target_temperature",
                    },
                },
            },
            {
                "id": "beerpi_demo_profile_done",
                "alias": "BeerPi: profile finished",
                "use_blueprint": {
                    "path": "beerpi/profile_finished.yaml",
                    "input": {"ends_at": "sensor.beerpi_profile_ends_at"},
                },
            },
        ]
        # JSON is YAML: no YAML library needed.
        (self.config_dir / "automations.yaml").write_text(json.dumps(automations, indent=2))
        self.request("POST", "/api/services/automation/reload", {})
        deadline = time.monotonic() + 30
        while len(self.automation_states()) < len(automations):
            if time.monotonic() > deadline:
                raise DemoError(f"automations not loaded: {self.ha_log.read_text()[-3000:]}")
            time.sleep(0.2)

    def template(self, template: str) -> str:
        """Render a template through the REST API (it answers text, not JSON)."""
        req = urllib.request.Request(
            self.url + "/api/template",
            data=json.dumps({"template": template}).encode(),
            headers={
                "Authorization": f"Bearer {self.access_token}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as response:
            text: str = response.read().decode()
            return text.strip()

    def automation_states(self) -> list[dict[str, Any]]:
        states: list[dict[str, Any]] = self.request("GET", "/api/states")
        return [s for s in states if s["entity_id"].startswith("automation.beerpi")]

    # -- REST -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        form: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Any:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if auth:
            headers["Authorization"] = f"Bearer {self.access_token}"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            raise DemoError(f"{method} {path}: HTTP {err.code} {err.read()[:500]!r}") from err

    def beerpi_states(self) -> list[dict[str, Any]]:
        """States of the entities of this demo's BeerPi (their ids start with the device name)."""
        states: list[dict[str, Any]] = self.request("GET", "/api/states")
        return [s for s in states if s["entity_id"].split(".", 1)[1].startswith("beerpi")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ha-port", type=int, default=8123)
    parser.add_argument("--daemon-port", type=int, default=None, help="default: a free port")
    parser.add_argument("--config-dir", type=Path, help="keep Home Assistant's config here")
    parser.add_argument("--read-interval", type=float, default=1.0, help="probe read period, s")
    parser.add_argument("--username", default="beerpi")
    parser.add_argument("--password", help="default: a random one, printed")
    parser.add_argument("--info-file", type=Path, help="write URL, login and token as JSON")
    args = parser.parse_args(argv)

    stop = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    # Ctrl-C stops both, also when the shell that started us ignored SIGINT (a
    # background job without job control does, and Python then never raises it).
    signal.signal(signal.SIGINT, on_signal)
    started = time.monotonic()
    print("Starting a simulated BeerPi daemon and Home Assistant (takes a minute)...", flush=True)
    try:
        with HaDemo(
            ha_port=args.ha_port,
            daemon_port=args.daemon_port,
            config_dir=args.config_dir,
            read_interval_s=args.read_interval,
            username=args.username,
            password=args.password,
        ) as demo:
            if args.info_file:
                args.info_file.write_text(json.dumps(demo.info(), indent=2))
            entities = sorted(s["entity_id"] for s in demo.beerpi_states())
            print(
                f"\nHome Assistant with BeerPi is up ({time.monotonic() - started:.0f} s):\n"
                f"  URL:      {demo.url}/\n"
                f"  user:     {demo.username}\n"
                f"  password: {demo.password}\n"
                f"  daemon:   {HOST}:{demo.daemon_port} (simulated), token {demo.daemon_token}\n"
                f"  entities: {', '.join(entities)}\n"
                f"  logs:     {demo.ha_log}, {demo.daemon_log}\n"
                "Ctrl-C stops both.",
                flush=True,
            )
            while not stop:
                time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    except DemoError as err:
        print(f"ha-demo: {err}", file=sys.stderr)
        return 1
    print("Stopped Home Assistant and the daemon.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
