"""`make demo`: a simulated BeerPi and the web service (SQLite) on 127.0.0.1; Ctrl-C stops both."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

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
    parser.add_argument("--daemon-port", type=int, default=DAEMON_PORT)
    parser.add_argument("--web-port", type=int, default=WEB_PORT)
    args = parser.parse_args()
    daemon_port, web_port = args.daemon_port, args.web_port
    args.data_dir.mkdir(parents=True, exist_ok=True)
    token, token_file = demo_token(args.data_dir)
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pi_daemon",
            "--simulate",
            "--host",
            "127.0.0.1",
            "--port",
            str(daemon_port),
            # From a file, as on a Pi: a token on the command line shows up in `ps`.
            "--token-file",
            str(token_file),
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
                str(web_port),
                "--data-dir",
                str(args.data_dir / "web"),
                "--db",
                str(args.data_dir / "web" / "history.sqlite"),
                "--daemon",
                f"ws://127.0.0.1:{daemon_port}",
                "--daemon-token-file",
                str(token_file),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
        threading.Thread(target=forward, args=(web, "web"), daemon=True).start()
        wait_http(web, f"http://127.0.0.1:{web_port}/health", "web service")
        print(
            f"""
BeerPi demo is running (simulated fermenter, {args.sim_speed:g}x real time).

  Web pages:                  http://127.0.0.1:{web_port}/  (trend: http://127.0.0.1:{web_port}/trend)
  Web API:                    http://127.0.0.1:{web_port}/api/devices
                              http://127.0.0.1:{web_port}/api/openapi.json
  History (SQLite):           {args.data_dir / "web" / "history.sqlite"}

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
