"""Child processes on loopback: pick a free port, start, wait until ready, log, stop.

One module for the daemons and web services that tests, benchmarks and scripts run as
subprocesses. A child writes its output to a log file (no pipe, so nothing blocks when
it is chatty and no reader thread outlives it); restarts append to the same file and
readiness is judged on what this start wrote.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

LOOPBACK = "127.0.0.1"
DAEMON_READY = "BeerPi daemon ready on"
ROOT = Path(__file__).resolve().parents[1]
# A port picked free can be taken by another process before the child binds it.
PORT_ATTEMPTS = 3


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class StartError(RuntimeError):
    """A child exited before it was ready, or was not ready in time; the message has its log."""


class PortTakenError(StartError):
    """Another process bound the port between picking it and the child binding it."""


Ready = Callable[["Child"], bool]


def ready_line(marker: str) -> Ready:
    """Ready once this start's output holds ``marker`` (e.g. the daemon's ready line)."""
    return lambda child: marker in child.output()


def ready_url(path: str) -> Ready:
    """Ready once ``GET http://127.0.0.1:PORT{path}`` answers with a success status."""

    def check(child: Child) -> bool:
        try:
            with urllib.request.urlopen(f"{child.url}{path}", timeout=1):
                return True
        except OSError:
            return False

    return check


def ready_port(child: Child) -> bool:
    """Ready once the child accepts TCP connections on its port."""
    try:
        with socket.create_connection((LOOPBACK, child.port), 0.5):
            return True
    except OSError:
        return False


def daemon_command(
    port: int, token: str | None, data_dir: Path, *extra: str, python: str = sys.executable
) -> list[str]:
    """``python -m pi_daemon --simulate`` on loopback, without zeroconf.

    ``token=None`` leaves ``--token`` out (the caller passes ``--token-file`` in ``extra``).
    """
    command = [python, "-m", "pi_daemon", "--simulate", "--host", LOOPBACK, "--port", str(port)]
    if token is not None:
        command += ["--token", token]
    return [*command, "--data-dir", str(data_dir), "--no-zeroconf", *extra]


def web_command(port: int, *extra: str, python: str = sys.executable) -> list[str]:
    """``python -m web_extras`` (the beerpi-web CLI) on loopback."""
    return [python, "-m", "web_extras", "--host", LOOPBACK, "--port", str(port), *extra]


class Child:
    """One subprocess on a loopback port; the port and the log survive restarts.

    ``command`` builds the command line for a port, so the first start can move to
    another port when the picked one was taken meanwhile.
    """

    def __init__(
        self,
        command: Callable[[int], Sequence[str]],
        log_path: Path,
        *,
        ready: Ready,
        port: int | None = None,
        name: str = "child",
        cwd: Path | None = ROOT,
        env: Mapping[str, str] | None = None,
        new_session: bool = False,
        fd_limit: int | None = None,
        start_timeout_s: float = 30.0,
        stop_timeout_s: float = 15.0,
    ) -> None:
        self.command = command
        self.log_path = log_path
        self.ready = ready
        self.port = port or free_port()
        # A port the caller chose (to restart on it) is never swapped for another.
        self._port_fixed = port is not None
        self.name = name
        self.cwd = cwd
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.new_session = new_session
        # Open files the child may hold (RLIMIT_NOFILE): exhaustion tests use a low one.
        self.fd_limit = fd_limit
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._log_start = 0
        self._ready_once = False

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Everything every start wrote."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def output(self) -> str:
        """What the current (or last) start wrote."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_start)
                return log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, chars: int = 2000) -> str:
        return self.output()[-chars:]

    def start(self, *, wait: bool = True) -> Self:
        """Start and (unless ``wait=False``) wait until ready.

        Only the first start moves to a fresh port when the port was taken: a restart
        keeps its address, which clients reconnect to.
        """
        for _attempt in range(PORT_ATTEMPTS - 1):
            try:
                return self._start_once(wait)
            except PortTakenError:
                if self._ready_once or self._port_fixed:
                    raise
                self.port = free_port()
        return self._start_once(wait)

    def _limit_fds(self) -> None:
        import resource  # POSIX only, like the rest of the harness; in the child

        assert self.fd_limit is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.fd_limit, self.fd_limit))

    def _start_once(self, wait: bool) -> Self:
        assert not self.running, f"{self.name} is already running"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._log_start = log.tell()
            self.process = subprocess.Popen(
                list(self.command(self.port)),
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=self.new_session,
                preexec_fn=None if self.fd_limit is None else self._limit_fds,
            )
        self.starts += 1
        if wait:
            try:
                self.wait_ready()
            except BaseException:
                self.stop()  # not ready in time: it must not outlive the failed start
                raise
        return self

    def wait_ready(self, timeout_s: float | None = None) -> None:
        deadline = time.monotonic() + (timeout_s or self.start_timeout_s)
        while not self.ready(self):
            assert self.process is not None
            if self.process.poll() is not None:
                if "address already in use" in self.output().lower():
                    raise PortTakenError(f"{self.name}: port {self.port} was taken")
                raise StartError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise StartError(f"{self.name} not ready in time:\n{self.tail()}")
            time.sleep(0.05)
        self._ready_once = True

    def check_alive(self) -> None:
        """Raise if the child has exited (a benchmark must not report a dead child's numbers)."""
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            raise StartError(f"{self.name} exited with {code}:\n{self.tail()}")

    def stop(self, timeout_s: float | None = None) -> int | None:
        """SIGTERM, then SIGKILL after the timeout; the exit code (None if never started)."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s or self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, like a power cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def follow(self, write: Callable[[str], object], poll_s: float = 0.2) -> threading.Thread:
        """Hand each new line of the log to ``write`` until the child exits (a daemon thread)."""

        def run() -> None:
            with self.log_path.open("rb") as log:
                log.seek(self._log_start)
                while True:
                    line = log.readline()
                    if line.endswith(b"\n"):
                        write(line.decode(errors="replace"))
                    elif self.running:
                        log.seek(-len(line), os.SEEK_CUR)
                        time.sleep(poll_s)
                    else:
                        if line:
                            write(line.decode(errors="replace"))
                        return

        thread = threading.Thread(target=run, name=f"follow-{self.name}", daemon=True)
        thread.start()
        return thread

    def __enter__(self) -> Self:
        if self.process is None:
            self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()


class WebService(Child):
    """``python -m web_extras`` on loopback, ready when ``/health`` answers.

    Started, killed (-9) and started again on one port and data dir; ``kills`` counts the
    SIGKILLs (the reliability tests report it).
    """

    def __init__(
        self, port: int | None, args: Sequence[str], log_path: Path, **options: Any
    ) -> None:
        self.args = list(args)
        super().__init__(
            lambda p: web_command(p, *self.args),
            log_path,
            ready=ready_url("/health"),
            port=port,
            name="web service",
            **options,
        )
        self.kills = 0

    def kill(self) -> None:
        super().kill()
        self.kills += 1


class RedisServer(Child):
    """A throw-away redis-server on a loopback port: no persistence, its own dir."""

    def __init__(self, data_dir: Path, server: str = "redis-server") -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(
            lambda port: [
                server,
                "--port",
                str(port),
                "--bind",
                LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(data_dir),
            ],
            data_dir / "redis.log",
            ready=ready_port,
            name="redis-server",
            start_timeout_s=10,
            stop_timeout_s=10,
        )

    @property
    def redis_url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"
