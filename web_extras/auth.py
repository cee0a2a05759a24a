"""Who may do what: a user with a password (session cookie) and/or an API token.

Passwords are kept as scrypt hashes; sessions are cookies signed with a key kept
in the data dir, so they survive a restart and work across service processes
sharing that key. With no credential configured everything is open (a service
on loopback); with one, control always needs it and reads need it unless
``public_read``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from .config import ConfigError, WebConfig
from .errors import Handler, error_response

COOKIE = "beerpi_session"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
# Verified against when the user name is wrong, so timing does not reveal names.
_DUMMY_HASH = "scrypt$16384$8$1$00$00"


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


def _load_key(path: Path) -> bytes:
    """The session signing key, made once (owner-only) and reused."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32))
    with contextlib.suppress(FileExistsError):  # another process made it first
        os.link(tmp, path)
    tmp.unlink()
    return bytes.fromhex(path.read_text().strip())


@dataclass(frozen=True)
class Auth:
    user: str | None
    password_hash: str | None
    api_token: str | None
    public_read: bool
    key: bytes
    max_age_s: float

    @classmethod
    def from_config(cls, config: WebConfig) -> Auth:
        password_hash = None
        if config.password_file is not None:
            try:
                secret = config.password_file.read_text(encoding="utf-8").strip()
            except OSError as err:
                raise ConfigError(f"cannot read password file: {err}") from None
            if not secret:
                raise ConfigError(f"password file {config.password_file} is empty")
            # A file may hold a hash (beerpi-web never needs the password) or the password.
            password_hash = secret if secret.startswith("scrypt$") else hash_password(secret)
        return cls(
            user=config.user,
            password_hash=password_hash,
            api_token=config.api_token,
            public_read=config.public_read,
            key=_load_key(config.data_dir / "session.key"),
            max_age_s=config.session_max_age_s,
        )

    @property
    def login_required(self) -> bool:
        return self.user is not None or self.api_token is not None

    # -- checks --------------------------------------------------------------

    def check_login(self, username: str, password: str) -> bool:
        if self.user is None or self.password_hash is None:
            return False
        name_ok = hmac.compare_digest(username.encode(), self.user.encode())
        # Always hash, so a wrong name costs as long as a wrong password.
        password_ok = verify_password(password, self.password_hash if name_ok else _DUMMY_HASH)
        return name_ok and password_ok

    def check_token(self, token: str) -> bool:
        return self.api_token is not None and hmac.compare_digest(
            token.encode(), self.api_token.encode()
        )

    def _sign(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()

    def make_session(self, user: str) -> str:
        name = base64.urlsafe_b64encode(user.encode()).decode()
        payload = f"{name}.{int(time.time() + self.max_age_s)}.{secrets.token_hex(8)}"
        return f"{payload}.{self._sign(payload)}"

    def session_user(self, cookie: str | None) -> str | None:
        if not cookie or cookie.count(".") != 3:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        name, expires, _nonce = payload.split(".")
        try:
            if int(expires) < time.time():
                return None
            user = base64.urlsafe_b64decode(name.encode()).decode()
        except ValueError:
            return None
        # A session of a user since renamed in the config is worthless.
        return user if user == self.user else None

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
        except Exception:
            return None
        morsel = cookies.get(COOKIE)
        return None if morsel is None else self.session_user(morsel.value)

    def may_read(self, user: str | None) -> bool:
        return not self.login_required or self.public_read or user is not None


_PUBLIC = ("/health", "/api/session", "/api/login", "/api/openapi.json")
_CONTROL = frozenset({"POST", "PUT", "DELETE", "PATCH"})


def auth_middleware(auth: Auth) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        guarded = path.startswith(("/api/", "/camera/"))
        if not guarded or path in _PUBLIC or not auth.login_required:
            return await handler(request)
        user = auth.request_user(request)
        if request.method in _CONTROL:
            if user is None:
                return error_response(401, "unauthorized", "log in or send the API token")
        elif not auth.may_read(user):
            return error_response(401, "unauthorized", "log in to read this service's data")
        return await handler(request)

    return middleware
