"""Request ids: the client's ``X-Request-ID`` when it is short and plain, a fresh one otherwise."""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.types import Scope

HEADER = "X-Request-ID"
_STATE_KEY = "request_id"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def assign(scope: Scope, offered: str | None) -> str:
    """Give the request in ``scope`` its id (``offered`` if acceptable) and return it.

    >>> scope = {}
    >>> assign(scope, "abc-1"), request_id_of(scope)
    ('abc-1', 'abc-1')
    >>> len(assign({}, "bad id\\n"))
    32
    """
    request_id = offered if offered and _CLIENT_ID.match(offered) else uuid.uuid4().hex
    scope.setdefault("state", {})[_STATE_KEY] = request_id
    return request_id


def request_id_of(scope: Scope) -> str | None:
    """The id :func:`assign` gave this request (None when there is none)."""
    state: dict[str, Any] = scope.get("state") or {}
    value = state.get(_STATE_KEY)
    return value if isinstance(value, str) else None
