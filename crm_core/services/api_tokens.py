"""Long-lived API tokens for integrations: random secrets shown once, stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models.auth import ApiToken
from crm_core.models.base import utcnow

TOKEN_PREFIX = "crt_"


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
    """The live token with this secret, or ``None`` if unknown, revoked or expired; marks it used."""
    now = now or utcnow()
    row = session.scalars(select(ApiToken).where(ApiToken.token_digest == digest(secret))).first()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    row.last_used_at = now
    return row


def revoke(row: ApiToken, now: datetime | None = None) -> None:
    """Revoke the token from now on (idempotent)."""
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
