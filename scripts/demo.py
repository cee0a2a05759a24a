"""`make demo`: a simulated BeerPi and the web service (SQLite) on 127.0.0.1; Ctrl-C stops both."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from beerpi_devtools.harness import (
    DAEMON_READY,
    LOOPBACK,
    Child,
    StartError,
    daemon_command,
    ready_line,
    ready_url,
    web_command,
)

DAEMON_PORT = 8765
WEB_PORT = 8080
ROOT = Path(__file__).resolve().parent.parent


def demo_token(data_dir: Path) -> tuple[str, Path]:
    """A strong token made on the first run and kept (0600) in the demo's data dir.

    The daemon refuses weak tokens, so the demo makes a real one; keeping it
    means a Home Assistant set up against the demo still connects next time.
    """
    path = data_dir / "token"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip(), path


def echo(name: str) -> Callable[[str], None]:
    """Print a child's log lines as they come, marked with its name."""

    def write(line: str) -> None:
        sys.stdout.write(f"  [{name}] {line}")
        sys.stdout.flush()

    return write


# The simulated fermenter's wort starts at this gravity (its Tilt falls from it).
DEMO_SESSION = {
    "name": "Demo Pale Ale",
    "style": "American Pale Ale",
    "yeast": "US-05",
    "og": 1.050,
}


def _api(base: str, path: str, body: object = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def start_demo_session(base: str) -> str:
    """A brew session in the simulated fermenter, unless one runs: the pages then show
    the beer, its gravity falling and the attenuation and ABV from its OG."""
    deadline = time.monotonic() + 20
    devices: object = []
    while not devices and time.monotonic() < deadline:
        devices = _api(base, "/api/devices")
        if not devices:
            time.sleep(0.2)
    if not isinstance(devices, list) or not devices:
        return "no fermenter linked yet: start a session on the page"
    device = devices[0]["id"]
    sessions = _api(base, f"/api/sessions?device={device}")
    running = [s for s in sessions if s["running"]] if isinstance(sessions, list) else []
    if running:
        return f"{running[0]['name']} (running since an earlier demo)"
    started = _api(base, "/api/sessions", {"device": device, **DEMO_SESSION})
    assert isinstance(started, dict)
    return f"{started['name']}, OG {started['og']:.3f}, started now"


# Long on purpose: the demo's steps in the order a reader follows them (token, daemon, service,
# URLs, wait, stop), sharing the processes the finally stops.
def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "demo-data")
    parser.add_argument("--sim-speed", type=float, default=60.0)
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    parser.add_argument("--daemon-port", type=int, default=DAEMON_PORT)
    parser.add_argument("--web-port", type=int, default=WEB_PORT)
    args = parser.parse_args()
    # `kill`, `timeout` or a CI runner stop it with SIGTERM: stop the two children as
    # Ctrl-C does, not leave them running (and holding their ports) without a parent.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    daemon_port, web_port = args.daemon_port, args.web_port
    args.data_dir.mkdir(parents=True, exist_ok=True)
    token, token_file = demo_token(args.data_dir)
    daemon_args = [
        # From a file, as on a Pi: a token on the command line shows up in `ps`.
        "--token-file", str(token_file),
        "--sim-speed", str(args.sim_speed), "--record-interval", "60",
    ]  # fmt: skip
    web_args = [
        "--data-dir", str(args.data_dir / "web"),
        "--db", str(args.data_dir / "web" / "history.sqlite"),
        "--daemon", f"ws://{LOOPBACK}:{daemon_port}",
        "--daemon-token-file", str(token_file),
    ]  # fmt: skip
    daemon = Child(
        lambda port: daemon_command(port, None, args.data_dir / "daemon", *daemon_args),
        args.data_dir / "daemon.log",
        ready=ready_line(DAEMON_READY),
        port=daemon_port,
        name="daemon",
    )
    web = Child(
        lambda port: web_command(port, *web_args),
        args.data_dir / "web.log",
        ready=ready_url("/health"),
        port=web_port,
        name="web",
    )
    try:
        for child in (daemon, web):
            child.log_path.unlink(missing_ok=True)  # this run's log only
            child.start(wait=False)
            child.follow(echo(child.name))
            child.wait_ready()
        try:
            session = start_demo_session(f"http://{LOOPBACK}:{web_port}")
        except (OSError, ValueError, KeyError) as err:
            session = f"not started ({err}): start one on the page"
        print(
            f"""
BeerPi demo is running (simulated fermenter, {args.sim_speed:g}x real time).

  Web pages:                  http://127.0.0.1:{web_port}/  (trend: http://127.0.0.1:{web_port}/trend)
  Web API:                    http://127.0.0.1:{web_port}/api/devices
                              http://127.0.0.1:{web_port}/api/openapi.json
  History (SQLite):           {args.data_dir / "web" / "history.sqlite"}
  Brew session:               {session}
                              (a simulated Tilt's gravity falls as it ferments)

  Daemon (socket.io + HTTP):  http://127.0.0.1:{daemon_port}
  Its token:                  {token}
                              (made on the first run, kept in {token_file})
  Health:                     curl http://127.0.0.1:{daemon_port}/health
  State:                      curl http://127.0.0.1:{web_port}/api/devices  (through the web
                              service; the daemon's own HTTP API takes signed URLs only)
  Home Assistant:             add the BeerPi integration: host 127.0.0.1,
                              port {daemon_port}, and the token above

  From Python:                the README's "From Python" script, with port {daemon_port}
                              and the token file above

Ctrl-C stops it.""",
            flush=True,
        )
        deadline = time.monotonic() + args.seconds if args.seconds else None
        while daemon.running and web.running:
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    except StartError as err:
        raise SystemExit(str(err)) from err
    finally:
        web.stop()
        daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
