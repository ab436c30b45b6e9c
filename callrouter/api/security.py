"""Signed short-lived access tokens (JWT, HS256) and the in-process login rate limits."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from callrouter.api.errors import ApiError
from crm_core.models.base import utcnow

ACCESS_TOKEN_TTL = timedelta(minutes=15)
_ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a valid access token says: whose it is and the session version it was issued under."""

    manager_id: int
    session_version: int


def issue_access_token(
    signing_key: str, manager_id: int, ttl: timedelta = ACCESS_TOKEN_TTL, session_version: int = 0
) -> str:
    """A JWT naming the manager and their session version; it expires after ``ttl``."""
    now = utcnow()
    claims = {"sub": str(manager_id), "sv": session_version, "typ": "access", "iat": now, "exp": now + ttl}
    return jwt.encode(claims, signing_key, algorithm=_ALGORITHM)


def read_access_token(signing_key: str, token: str) -> AccessClaims:
    """The claims of a valid access token; :class:`ApiError` 401 otherwise."""
    try:
        claims = jwt.decode(
            token, signing_key, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "typ"]}
        )
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "token-expired", "the access token has expired; log in again") from None
    except jwt.InvalidTokenError:
        raise ApiError(401, "invalid-token", "the token is not valid") from None
    version = claims.get("sv", 0)  # tokens from before session versions: version 0, as every user had
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit() or type(version) is not int:
        raise ApiError(401, "invalid-token", "the token is not an access token")
    return AccessClaims(int(claims["sub"]), version)


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Failed logins allowed within ``window_s``: per login and address, per login from any address
    (spraying one account from many hosts), per address for any login (one host trying many accounts)."""

    per_login_and_address: int = 5
    per_login: int = 20
    per_address: int = 50
    window_s: float = 300.0


def access_token_expiry(signing_key: str, token: str) -> datetime:
    """When a valid access token expires (check it with :func:`read_access_token` first)."""
    read_access_token(signing_key, token)
    claims = jwt.decode(token, signing_key, algorithms=[_ALGORITHM])
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


class LoginRateLimiter:
    """Counts failed logins under the three keys of :class:`LoginLimits`; any exhausted key refuses (429)."""

    def __init__(
        self, limits: LoginLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or LoginLimits()
        self._clock = clock
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, login: str, address: str) -> tuple[tuple[tuple[str, ...], int], ...]:
        login = login.lower()
        return (
            (("login+address", login, address), self.limits.per_login_and_address),
            (("login", login), self.limits.per_login),
            (("address", address), self.limits.per_address),
        )

    def _recent(self, key: tuple[str, ...]) -> deque[float]:
        now = self._clock()
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] >= self.limits.window_s:
            failures.popleft()
        return failures

    def check(self, login: str, address: str) -> None:
        """Raise 429 with ``Retry-After`` when any of the limits is reached."""
        with self._lock:
            for key, allowed in self._keys(login, address):
                failures = self._recent(key)
                if len(failures) >= allowed:
                    retry = max(1, int(self.limits.window_s - (self._clock() - failures[-allowed])) + 1)
                    raise ApiError(
                        429,
                        "too-many-login-attempts",
                        f"too many failed logins; retry in {retry} s",
                        headers={"Retry-After": str(retry)},
                    )

    def failed(self, login: str, address: str) -> None:
        with self._lock:
            now = self._clock()
            for key, _ in self._keys(login, address):
                self._recent(key).append(now)

    def succeeded(self, login: str, address: str) -> None:
        """A right password clears the failures of this login from this address (not the wider counts)."""
        with self._lock:
            self._failures.pop(("login+address", login.lower(), address), None)
