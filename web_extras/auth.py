"""Who may do what: a user with a password (session cookie) and/or an API token.

Passwords are kept as scrypt hashes and checked on a worker thread (an scrypt
takes ~0.1 s of CPU: on the event loop, a handful of wrong logins would stall
every command), at most two at a time. Failed logins slow further tries down
per address and per user (``loginlimit``).

Sessions are cookies signed with a key kept in the data dir, so they survive a
restart and work across service processes sharing that directory. Each cookie
carries its user's session epoch, and its signature covers the password
(a fingerprint of the password file): logging out bumps the user's epoch
(``session-epochs.json`` in the data dir), which ends every session of that
user on every process; changing the password file ends them too, without a
restart. With no credential configured everything is open (a service on
loopback); with one, control always needs it and reads need it unless
``public_read`` (which then opens every read: readings, live state, events,
gravity, sessions, saved profiles, the alert rules and their targets' names; but
not photos, videos, fault messages, versions or brew session notes unless
``public_details``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from .config import ConfigError, WebConfig
from .errors import ApiError, Handler, error_response
from .loginlimit import LoginThrottle

COOKIE = "beerpi_session"
PASSWORD_ENV = "BEERPI_WEB_PASSWORD"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
# Verified against when the user name is wrong, so timing does not reveal names.
_DUMMY_HASH = "scrypt$16384$8$1$00$00"
# scrypt needs 16 MiB and ~0.1 s per check: two at a time, a short queue, then "busy".
HASH_SLOTS = 2
MAX_WAITING_LOGINS = 32


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, bytes.fromhex(digest))


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    tmp.replace(path)


def _load_key(path: Path) -> bytes:
    """The session signing key, made once (owner-only) and reused.

    ConfigError when it cannot be read or made: a start with another key would log
    every browser out, so a damaged one is named rather than replaced.
    """
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        raise ConfigError(
            f"cannot use the session key {path} ({err}); remove it to make a new one "
            "(every browser then logs in again)"
        ) from None
    try:
        return _make_key(path)
    except (OSError, ValueError) as err:
        raise ConfigError(
            f"cannot write the session key {path} ({err}): the data_dir must be writable"
        ) from None


def _make_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32))
    with contextlib.suppress(FileExistsError):  # another process made it first
        os.link(tmp, path)
    tmp.unlink()
    return bytes.fromhex(path.read_text().strip())


class _WatchedFile:
    """A small file re-read only when its inode, size or mtime changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._text: str | None = None

    def text(self) -> str | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._text = None, None
            return None
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        if stamp != self._stamp:
            self._text = self.path.read_text(encoding="utf-8")
            self._stamp = stamp
        return self._text


class PasswordSource:
    """The configured password (or its hash): from a file, re-read when it changes."""

    def __init__(self, file: Path | None, fixed: str | None) -> None:
        self._file = None if file is None else _WatchedFile(file)
        self._fixed = fixed
        self._hashed: tuple[str, str] | None = None  # (source text, hash)

    def secret(self) -> str:
        if self._file is None:
            assert self._fixed is not None
            return self._fixed
        try:
            text = (self._file.text() or "").strip()
        except (OSError, UnicodeDecodeError):
            text = ""
        # An unreadable or emptied file fails every login rather than opening the door.
        return text

    def fingerprint(self) -> str:
        """Changes whenever the password does; sessions are signed over it."""
        return hashlib.sha256(self.secret().encode()).hexdigest()

    def password_hash(self) -> str | None:
        """The scrypt hash to verify against (computed once per password; blocking)."""
        text = self.secret()
        if not text:
            return None
        if text.startswith("scrypt$"):
            return text
        if self._hashed is None or self._hashed[0] != text:
            self._hashed = (text, hash_password(text))
        return self._hashed[1]


class SessionEpochs:
    """Per-user session epoch in the data dir: bumping it ends that user's sessions."""

    def __init__(self, path: Path) -> None:
        self._file = _WatchedFile(path)

    def _all(self) -> dict[str, int]:
        try:
            data = json.loads(self._file.text() or "{}")
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, int)}

    def epoch(self, user: str) -> int:
        return self._all().get(user, 0)

    def bump(self, user: str) -> None:
        epochs = self._all()
        epochs[user] = epochs.get(user, 0) + 1
        _write_atomic(self._file.path, json.dumps(epochs))


class Auth:
    def __init__(
        self,
        *,
        user: str | None,
        password: PasswordSource | None,
        api_token: str | None,
        public_read: bool,
        public_details: bool,
        key: bytes,
        max_age_s: float,
        epochs: SessionEpochs,
    ) -> None:
        self.user = user
        self.password = password
        self.api_token = api_token
        self.public_read = public_read
        self.public_details = public_details
        self.key = key
        self.max_age_s = max_age_s
        self.epochs = epochs
        self.throttle = LoginThrottle()
        self._hash_slots = asyncio.Semaphore(HASH_SLOTS)
        self._waiting = 0

    @classmethod
    def from_config(cls, config: WebConfig, environ: Mapping[str, str] | None = None) -> Auth:
        password = None
        if config.user is not None:
            env = (os.environ if environ is None else environ).get(PASSWORD_ENV, "").strip()
            if config.password_file is not None:
                try:
                    text = config.password_file.read_text(encoding="utf-8").strip()
                except OSError as err:
                    raise ConfigError(f"cannot read password file: {err}") from None
                if not text:
                    raise ConfigError(f"password file {config.password_file} is empty")
                password = PasswordSource(config.password_file, None)
            elif env:
                password = PasswordSource(None, env)
            else:
                raise ConfigError(f"user needs a password: password_file or {PASSWORD_ENV}")
        return cls(
            user=config.user,
            password=password,
            api_token=config.api_token,
            public_read=config.public_read,
            public_details=config.public_details,
            key=_load_key(config.data_dir / "session.key"),
            max_age_s=config.session_max_age_s,
            epochs=SessionEpochs(config.data_dir / "session-epochs.json"),
        )

    @property
    def login_required(self) -> bool:
        return self.user is not None or self.api_token is not None

    # -- login ---------------------------------------------------------------

    async def check_login(self, username: str, password: str, address: str | None) -> bool:
        """True for the right user and password; ApiError 429 while throttled or busy."""
        if self.user is None or self.password is None:
            return False
        keys = self.throttle.keys(address, username)
        wait_s = self.throttle.wait_s(keys)
        if wait_s > 0:
            raise _too_many(wait_s, "too many failed logins; wait before trying again")
        if self._waiting >= MAX_WAITING_LOGINS:
            raise _too_many(1.0, "the service is busy checking other logins; try again")
        self._waiting += 1
        try:
            async with self._hash_slots:
                good = await asyncio.to_thread(self._verify, username, password)
        finally:
            self._waiting -= 1
        if good:
            self.throttle.succeeded(keys)
        else:
            self.throttle.failed(keys)
        return good

    def _verify(self, username: str, password: str) -> bool:
        assert self.user is not None
        assert self.password is not None
        name_ok = hmac.compare_digest(username.encode(), self.user.encode())
        encoded = self.password.password_hash() if name_ok else None
        # Always hash, so a wrong name costs as long as a wrong password.
        password_ok = verify_password(password, encoded or _DUMMY_HASH)
        return name_ok and password_ok and encoded is not None

    def check_token(self, token: str) -> bool:
        return self.api_token is not None and hmac.compare_digest(
            token.encode(), self.api_token.encode()
        )

    # -- sessions ------------------------------------------------------------

    def _sign(self, payload: str) -> str:
        fingerprint = self.password.fingerprint() if self.password is not None else ""
        message = f"{payload}\0{fingerprint}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def make_session(self, user: str) -> str:
        name = base64.urlsafe_b64encode(user.encode()).decode()
        expires = int(time.time() + self.max_age_s)
        payload = f"{name}.{expires}.{self.epochs.epoch(user)}.{secrets.token_hex(8)}"
        return f"{payload}.{self._sign(payload)}"

    def session_user(self, cookie: str | None) -> str | None:
        if not cookie or cookie.count(".") != 4 or len(cookie) > 1024:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        name, expires, epoch, _nonce = payload.split(".")
        try:
            if int(expires) < time.time():
                return None
            user = base64.urlsafe_b64decode(name.encode()).decode()
        except ValueError:
            return None
        # A session of a user since renamed in the config is worthless, and so is
        # one from before that user's last logout.
        if user != self.user or epoch != str(self.epochs.epoch(user)):
            return None
        return user

    def end_sessions(self, user: str) -> None:
        """Log ``user`` out everywhere: every cookie issued so far stops working."""
        self.epochs.bump(user)

    def request_user(self, request: web.Request) -> str | None:
        """The user (or ``"api-token"``) a request is authenticated as."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return "api-token" if self.check_token(header[7:].strip()) else None
        return self.session_user(request.cookies.get(COOKIE))

    def environ_user(self, environ: Mapping[str, object], auth: object) -> str | None:
        """The same rule for a socket.io connect (``/live``)."""
        if isinstance(auth, Mapping) and isinstance(auth.get("token"), str):
            return "api-token" if self.check_token(str(auth["token"])) else None
        raw = environ.get("HTTP_COOKIE")
        if not isinstance(raw, str):
            return None
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(raw)
        except CookieError:
            return None
        morsel = cookies.get(COOKIE)
        return None if morsel is None else self.session_user(morsel.value)

    def may_read(self, user: str | None) -> bool:
        return not self.login_required or self.public_read or user is not None

    def sees_details(self, user: str | None) -> bool:
        """Photos, videos, fault messages, versions: a login, unless made public."""
        return not self.login_required or user is not None or self.public_details


def _too_many(wait_s: float, message: str) -> ApiError:
    seconds = max(1, int(wait_s + 0.999))
    return ApiError(
        429, "rate_limited", f"{message} ({seconds} s)", headers={"Retry-After": str(seconds)}
    )


_PUBLIC = ("/health", "/api/session", "/api/login", "/api/openapi.json")
# Posted by devices that prove a token of their own (api/hydrometers.py checks
# it; a login cookie is never enough there).
_DEVICE_AUTHENTICATED = "/api/hydrometers/ispindel"
_CONTROL = frozenset({"POST", "PUT", "DELETE", "PATCH"})


def _needs_details(path: str) -> bool:
    # Photos and videos (their list and files) are details.
    return "/media" in path


def auth_middleware(auth: Auth) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        guarded = path.startswith(("/api/", "/camera/"))
        if not guarded or path in _PUBLIC or not auth.login_required:
            return await handler(request)
        if request.method == "POST" and (
            path == _DEVICE_AUTHENTICATED or path.startswith(_DEVICE_AUTHENTICATED + "/")
        ):
            return await handler(request)
        user = auth.request_user(request)
        if request.method in _CONTROL:
            if user is None:
                return error_response(401, "unauthorized", "log in or send the API token")
        elif not auth.may_read(user):
            return error_response(401, "unauthorized", "log in to read this service's data")
        elif _needs_details(path) and not auth.sees_details(user):
            return error_response(401, "unauthorized", "log in to see photos and videos")
        return await handler(request)

    return middleware
