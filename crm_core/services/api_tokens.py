"""Long-lived API tokens for integrations: random secrets shown once, stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crm_core.models.auth import ApiToken
from crm_core.models.base import utcnow

TOKEN_PREFIX = "crt_"
USAGE_RESOLUTION = timedelta(minutes=1)  # ``last_used_at`` is written at most this often per token


def digest(token: str) -> str:
    """The stored form of a token (a fast hash is right: the token itself carries 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_api_token(bearer: str) -> bool:
    return bearer.startswith(TOKEN_PREFIX)


def issue(session: Session, manager_id: int, name: str, expires_at: datetime | None) -> tuple[ApiToken, str]:
    """Create a token for ``manager_id``; returns the row and the secret (never stored in clear)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(manager_id=manager_id, name=name, token_digest=digest(secret), expires_at=expires_at)
    session.add(row)
    session.flush()
    return row, secret


def resolve(session: Session, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The live token with this secret, or ``None`` if unknown, revoked or expired (reads only)."""
    now = now or utcnow()
    row = session.scalars(select(ApiToken).where(ApiToken.token_digest == digest(secret))).first()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return row


def use_is_stale(row: ApiToken, now: datetime | None = None) -> bool:
    """True when ``last_used_at`` is older than :data:`USAGE_RESOLUTION` (so a use should be recorded)."""
    now = now or utcnow()
    return row.last_used_at is None or now - row.last_used_at >= USAGE_RESOLUTION


def mark_used(session: Session, token_id: int, now: datetime | None = None) -> None:
    """Record a use at ``now`` unless one was recorded within :data:`USAGE_RESOLUTION` (by anyone)."""
    now = now or utcnow()
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - USAGE_RESOLUTION),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def revoke_all(session: Session, manager_id: int, now: datetime | None = None) -> int:
    """Revoke every live token of ``manager_id`` (after a password change); how many were revoked."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.manager_id == manager_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def revoke(row: ApiToken, now: datetime | None = None) -> None:
    """Revoke the token from now on (idempotent)."""
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
