"""Counterparty rules: who may write which field, assignment to a manager, registered numbers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm_core.models import Counterparty, ManagerRole
from crm_core.repositories.scoped import Viewer
from crm_core.services import phones, records, refining

POLICY = records.WritePolicy(
    common=frozenset({"name", "tax_id", "external_id", "region", "status", "notes"}),
    extra={role: frozenset({"manager_id", "manager_pinned"}) for role in records.SUPERVISORS},
    delete_roles=frozenset({ManagerRole.DIRECTOR, ManagerRole.ADMIN}),
    actor_fields=frozenset({"manager_id"}),
)


def create(
    session: Session, viewer: Viewer, values: dict[str, Any], numbers: list[str], region: str
) -> Counterparty:
    """A new client, owned by the creator unless a supervisor names a manager; numbers registered."""
    counterparty = records.create(session, viewer, Counterparty, POLICY, values)
    for raw in numbers:
        phones.assign(session, viewer, raw, {"counterparty_id": counterparty.id}, region=region)
    return counterparty


def update(session: Session, viewer: Viewer, counterparty: Counterparty, values: dict[str, Any]) -> list[str]:
    """Apply allowed changes (an edit that completes the card refines it); returns the numbers whose
    routing changed (a new personal manager)."""
    previous_manager = counterparty.manager_id
    before = refining.observe(session, counterparty)
    records.update(session, viewer, counterparty, POLICY, values)
    refining.refine_if_completed(session, viewer, before)
    if counterparty.manager_id != previous_manager:
        return phones.numbers_of_counterparty(session, counterparty.id)
    return []
