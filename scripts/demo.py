"""`make demo`: a simulated BeerPi and the web service (SQLite) on 127.0.0.1; Ctrl-C stops both."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

DAEMON_PORT = 8765
WEB_PORT = 8080
TOKEN = "beerpi-demo"
ROOT = Path(__file__).resolve().parent.parent


def wait_ready(process: subprocess.Popen[str], marker: str, name: str) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(f"  [{name}] {line}")
        if marker in line:
            return
    raise SystemExit(f"{name} did not start (exit code {process.wait()})")


def wait_http(process: subprocess.Popen[str], url: str, name: str, timeout_s: float = 30) -> None:
    """The web service is ready when its /health answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not answer {url} within {timeout_s:g} s")


def forward(process: subprocess.Popen[str], name: str) -> None:
    """Keep printing a child's log so its pipe never fills up and blocks it."""
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(f"  [{name}] {line}")
        sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "demo-data")
    parser.add_argument("--sim-speed", type=float, default=60.0)
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pi_daemon",
            "--simulate",
            "--host",
            "127.0.0.1",
            "--port",
            str(DAEMON_PORT),
            "--token",
            TOKEN,
            "--data-dir",
            str(args.data_dir / "daemon"),
            "--sim-speed",
            str(args.sim_speed),
            "--record-interval",
            "60",
            "--no-zeroconf",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    web = None
    try:
        wait_ready(daemon, "BeerPi daemon ready", "daemon")
        threading.Thread(target=forward, args=(daemon, "daemon"), daemon=True).start()
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "web_extras",
                "--host",
                "127.0.0.1",
                "--port",
                str(WEB_PORT),
                "--data-dir",
                str(args.data_dir / "web"),
                "--db",
                str(args.data_dir / "web" / "history.sqlite"),
                "--daemon",
                f"ws://127.0.0.1:{DAEMON_PORT}",
                "--daemon-token",
                TOKEN,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
        threading.Thread(target=forward, args=(web, "web"), daemon=True).start()
        wait_http(web, f"http://127.0.0.1:{WEB_PORT}/health", "web service")
        print(
            f"""
BeerPi demo is running (simulated fermenter, {args.sim_speed:g}x real time).

  Web pages:                  http://127.0.0.1:{WEB_PORT}/  (trend: http://127.0.0.1:{WEB_PORT}/trend)
  Web API:                    http://127.0.0.1:{WEB_PORT}/api/devices
                              http://127.0.0.1:{WEB_PORT}/api/openapi.json
  History (SQLite):           {args.data_dir / "web" / "history.sqlite"}

  Daemon (socket.io + HTTP):  http://127.0.0.1:{DAEMON_PORT}    token: {TOKEN}
  Health:                     curl http://127.0.0.1:{DAEMON_PORT}/health
  State:                      curl http://127.0.0.1:{WEB_PORT}/api/devices  (through the web
                              service; the daemon's own HTTP API takes signed URLs only)
  Home Assistant:             add the BeerPi integration: host 127.0.0.1,
                              port {DAEMON_PORT}, token {TOKEN}

  From Python:
    from beerpi_protocol.client import BeerPiClient
    client = BeerPiClient("127.0.0.1", {DAEMON_PORT}, "{TOKEN}"); await client.connect()
    await client.set_thermostat(mode="heat_cool", target=19.0)
    url = await client.sign_url("/api/state")  # GET http://127.0.0.1:{DAEMON_PORT}{{url}}, 60 s

Ctrl-C stops it.""",
            flush=True,
        )
        deadline = time.monotonic() + args.seconds if args.seconds else None
        while daemon.poll() is None and web.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        for child in (web, daemon):
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
