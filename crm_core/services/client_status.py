"""A person setting a client's status: kept in the status history, audited, optionally pinned.

A pinned status is left alone by the daily recompute until ``status_pinned_until`` (that day included) or,
without a day, until someone clears the pin. The caller commits.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crm_core.models import ClientStatus, Counterparty, StatusCause
from crm_core.models.client_status import ClientStatusChange
from crm_core.repositories.scoped import Viewer, visible_counterparty_ids
from crm_core.services import audit
from crm_core.services.errors import InvalidInput, PermissionDenied
from crm_core.services.records import SUPERVISORS


def _pin_of(counterparty: Counterparty) -> dict[str, object]:
    until = counterparty.status_pinned_until
    return {"status_pinned": counterparty.status_pinned, "status_pinned_until": until and until.isoformat()}


def _require_supervisor(viewer: Viewer) -> None:
    if viewer.role not in SUPERVISORS:
        raise PermissionDenied("forbidden-role", f"the {viewer.role} role may not pin a client status")


def record_manual_change(
    session: Session,
    viewer: Viewer,
    counterparty: Counterparty,
    before: ClientStatus,
    today: date,
    reason: str | None = None,
) -> ClientStatusChange | None:
    """Keep a status a person changed (``before`` -> the card's status) in the history; ``None`` if equal."""
    if before == counterparty.status:
        return None
    change = ClientStatusChange(
        counterparty_id=counterparty.id,
        from_status=before,
        to_status=counterparty.status,
        day=today,
        cause=StatusCause.MANUAL,
        manager_id=viewer.manager_id,
        reason=reason,
        pinned_until=counterparty.status_pinned_until,
    )
    session.add(change)
    session.flush()
    return change


def pin_status(
    session: Session,
    viewer: Viewer,
    counterparty: Counterparty,
    status: ClientStatus,
    reason: str,
    today: date,
    until: date | None = None,
) -> ClientStatusChange | None:
    """Set and pin ``status`` (controller and above) until ``until`` or until cleared; history + audit."""
    _require_supervisor(viewer)
    if until is not None and until < today:
        raise InvalidInput("pin-in-the-past", {"field": "pinned_until", "value": until.isoformat()})
    before = {"status": counterparty.status.value, **_pin_of(counterparty)}
    previous = counterparty.status
    counterparty.status = status
    counterparty.status_pinned = True
    counterparty.status_pinned_until = until
    session.flush()
    after = {"status": status.value, **_pin_of(counterparty), "reason": reason}
    audit.record(session, viewer.manager_id, "pin-status", "counterparty", counterparty.id, before, after)
    return record_manual_change(session, viewer, counterparty, previous, today, reason)


def clear_pin(session: Session, viewer: Viewer, counterparty: Counterparty) -> None:
    """Let the recompute set the status again from the next run (controller and above; audited)."""
    _require_supervisor(viewer)
    before = _pin_of(counterparty)
    counterparty.status_pinned = False
    counterparty.status_pinned_until = None
    session.flush()
    after = _pin_of(counterparty)
    audit.record(
        session, viewer.manager_id, "clear-status-pin", "counterparty", counterparty.id, before, after
    )


def history_query(
    viewer: Viewer, counterparty_id: int | None = None, since: date | None = None, until: date | None = None
) -> Select[ClientStatusChange]:
    """The status changes the viewer may see (their clients), newest first, optionally filtered."""
    stmt = select(ClientStatusChange)
    if not viewer.sees_all:
        stmt = stmt.where(ClientStatusChange.counterparty_id.in_(visible_counterparty_ids(viewer)))
    if counterparty_id is not None:
        stmt = stmt.where(ClientStatusChange.counterparty_id == counterparty_id)
    if since is not None:
        stmt = stmt.where(ClientStatusChange.day >= since)
    if until is not None:
        stmt = stmt.where(ClientStatusChange.day <= until)
    return stmt.order_by(ClientStatusChange.day.desc(), ClientStatusChange.id.desc())
