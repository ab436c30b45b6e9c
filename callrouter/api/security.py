"""Signed short-lived access tokens (JWT, HS256) and the in-process login rate limit."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt

from callrouter.api.errors import ApiError
from crm_core.models.base import utcnow

ACCESS_TOKEN_TTL = timedelta(minutes=15)
_ALGORITHM = "HS256"


def issue_access_token(signing_key: str, manager_id: int, ttl: timedelta = ACCESS_TOKEN_TTL) -> str:
    """A JWT naming the manager; it expires after ``ttl``."""
    now = utcnow()
    claims = {"sub": str(manager_id), "typ": "access", "iat": now, "exp": now + ttl}
    return jwt.encode(claims, signing_key, algorithm=_ALGORITHM)


def read_access_token(signing_key: str, token: str) -> int:
    """The manager id of a valid access token; :class:`ApiError` 401 otherwise."""
    try:
        claims = jwt.decode(
            token, signing_key, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "typ"]}
        )
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "token-expired", "the access token has expired; log in again") from None
    except jwt.InvalidTokenError:
        raise ApiError(401, "invalid-token", "the token is not valid") from None
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        raise ApiError(401, "invalid-token", "the token is not an access token")
    return int(claims["sub"])


def access_token_expiry(signing_key: str, token: str) -> datetime:
    """When a valid access token expires (check it with :func:`read_access_token` first)."""
    read_access_token(signing_key, token)
    claims = jwt.decode(token, signing_key, algorithms=[_ALGORITHM])
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


class LoginRateLimiter:
    """At most ``max_failures`` failed logins per (login, client address) within ``window_s`` seconds."""

    def __init__(
        self, max_failures: int = 5, window_s: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        now = self._clock()
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] >= self.window_s:
            failures.popleft()
        return failures

    def check(self, login: str, address: str) -> None:
        """Raise 429 with ``Retry-After`` when this login from this address is locked out."""
        key = (login.lower(), address)
        with self._lock:
            failures = self._recent(key)
            if len(failures) >= self.max_failures:
                retry = max(1, int(self.window_s - (self._clock() - failures[0])) + 1)
                raise ApiError(
                    429,
                    "too-many-login-attempts",
                    f"too many failed logins; retry in {retry} s",
                    headers={"Retry-After": str(retry)},
                )

    def failed(self, login: str, address: str) -> None:
        with self._lock:
            self._recent((login.lower(), address)).append(self._clock())

    def succeeded(self, login: str, address: str) -> None:
        with self._lock:
            self._failures.pop((login.lower(), address), None)
