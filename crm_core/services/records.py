"""Create, update and delete CRM records under per-role field allow-lists, with audit.

No mass assignment: each role may write only the fields its :class:`WritePolicy` lists; anything else in
the request is refused with ``field-not-writable`` naming the fields. Every id a record points at must be
visible to the writer, so nobody attaches data to another manager's client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from crm_core.models import (
    CallRecord,
    ContactPerson,
    Counterparty,
    Deal,
    Manager,
    ManagerRole,
)
from crm_core.repositories.scoped import Viewer, get_visible, kebab
from crm_core.services import audit
from crm_core.services.errors import InvalidInput, PermissionDenied


class _Row(Protocol):
    id: Any


R = TypeVar("R", bound=_Row)

ALL_ROLES = frozenset(ManagerRole)
SUPERVISORS = frozenset({ManagerRole.CONTROLLER, ManagerRole.DIRECTOR, ManagerRole.ADMIN})

# The model a foreign-key field points at; the writer must be able to see the referenced row.
REFERENCES: Mapping[str, type[Any]] = {
    "counterparty_id": Counterparty,
    "contact_person_id": ContactPerson,
    "call_record_id": CallRecord,
    "manager_id": Manager,
    "deal_id": Deal,
}


@dataclass(frozen=True)
class WritePolicy:
    """Which roles may write which fields; ``actor_fields`` default to the writer's id on create."""

    common: frozenset[str]
    extra: Mapping[ManagerRole, frozenset[str]] = field(default_factory=dict)
    roles: frozenset[ManagerRole] = ALL_ROLES
    delete_roles: frozenset[ManagerRole] = ALL_ROLES
    actor_fields: frozenset[str] = frozenset()

    def writable(self, role: ManagerRole) -> frozenset[str]:
        if role not in self.roles:
            return frozenset()
        return self.common | self.extra.get(role, frozenset())


def ensure_writable(policy: WritePolicy, viewer: Viewer, fields: set[str] | frozenset[str]) -> None:
    """Refuse the write if the role may not write this kind of record or any of these fields."""
    if viewer.role not in policy.roles:
        raise PermissionDenied("forbidden-role", f"the {viewer.role} role may not change these records")
    refused = sorted(set(fields) - policy.writable(viewer.role))
    if refused:
        raise PermissionDenied("field-not-writable", {"fields": refused, "role": str(viewer.role)})


def check_references(session: Session, viewer: Viewer, values: Mapping[str, Any]) -> None:
    """Every referenced row exists and is visible to the writer (404 ``no-such-...`` otherwise)."""
    for name, model in REFERENCES.items():
        if values.get(name) is not None:
            get_visible(session, viewer, model, values[name])
    contact_id, counterparty_id = values.get("contact_person_id"), values.get("counterparty_id")
    if contact_id is not None and counterparty_id is not None:
        contact = session.get(ContactPerson, contact_id)
        if contact is not None and contact.counterparty_id != counterparty_id:
            raise InvalidInput("contact-of-other-counterparty", {"contact_person_id": contact_id})


def create(
    session: Session, viewer: Viewer, model: type[R], policy: WritePolicy, values: dict[str, Any]
) -> R:
    """Insert a record after the allow-list and reference checks; audited."""
    ensure_writable(policy, viewer, set(values))
    for name in policy.actor_fields:
        values.setdefault(name, viewer.manager_id)
    check_references(session, viewer, values)
    entity = model(**values)
    session.add(entity)
    session.flush()
    audit.record(
        session, viewer.manager_id, "create", kebab(model.__name__), entity.id, None, audit.snapshot(entity)
    )
    return entity


def update(session: Session, viewer: Viewer, entity: R, policy: WritePolicy, values: dict[str, Any]) -> R:
    """Apply the given fields after the allow-list and reference checks; audited with before/after."""
    ensure_writable(policy, viewer, set(values))
    _refuse_nulls(entity, values)
    merged = {name: getattr(entity, name) for name in REFERENCES if hasattr(entity, name)} | values
    check_references(
        session, viewer, {k: v for k, v in merged.items() if k in values or k == "counterparty_id"}
    )
    before = audit.snapshot(entity)
    for name, value in values.items():
        setattr(entity, name, value)
    session.flush()
    audit.record(
        session,
        viewer.manager_id,
        "update",
        kebab(type(entity).__name__),
        entity.id,
        before,
        audit.snapshot(entity),
    )
    return entity


def _refuse_nulls(entity: Any, values: Mapping[str, Any]) -> None:
    """A field the table requires cannot be set to null (clear error instead of a constraint failure)."""
    columns = inspect(type(entity)).columns
    for name, value in values.items():
        if value is None and name in columns and not columns[name].nullable:
            raise InvalidInput("field-required", {"field": name, "message": "may not be null"})


def delete(session: Session, viewer: Viewer, entity: Any, policy: WritePolicy) -> None:
    """Delete a record the writer may write; audited with the state before."""
    if viewer.role not in policy.delete_roles:
        raise PermissionDenied("forbidden-role", f"the {viewer.role} role may not delete these records")
    before = audit.snapshot(entity)
    session.delete(entity)
    session.flush()
    audit.record(session, viewer.manager_id, "delete", kebab(type(entity).__name__), entity.id, before, None)
