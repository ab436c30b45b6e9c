"""The audit log: every administrative change is written with who, what, before and after."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from crm_core.models.auth import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(entity: Any, exclude: frozenset[str] = frozenset({"password_hash"})) -> dict[str, Any]:
    """The column values of an ORM entity as JSON-ready data (secrets left out)."""
    return {
        attr.key: _jsonable(getattr(entity, attr.key))
        for attr in inspect(entity).mapper.column_attrs
        if attr.key not in exclude
    }


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one audit entry to the session (the caller commits it together with the change)."""
    entry = AuditEntry(
        actor_manager_id=actor_id,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
    )
    session.add(entry)
    return entry
