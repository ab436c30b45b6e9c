"""What people do with a missed call: acknowledge, close, record the callback's outcome, reassign.

Resolving a missed call (called back or closed) cancels its remaining escalation steps, marks every
notification about it read and announces it to live views; a note after the call becomes an interaction in
the client's history. A resolved missed call cannot be changed again.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import (
    Interaction,
    InteractionKind,
    Manager,
    ManagerRole,
    MissedCall,
    MissedStatus,
)
from crm_core.models.base import utcnow
from crm_core.repositories.scoped import QUEUE_KEEPERS, Viewer, get_visible, scoped
from crm_core.services import audit, missed_events, notification_outbox
from crm_core.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm_core.services.escalation import cancel_remaining

RESOLVED = (MissedStatus.CALLED_BACK, MissedStatus.CLOSED)
Outcome = Literal["called_back", "closed"]


def _ensure_open(missed: MissedCall) -> None:
    if missed.status in RESOLVED:
        raise Conflict(
            "missed-call-closed",
            {"id": missed.id, "status": str(missed.status), "closed_at": str(missed.closed_at)},
        )


def _audit(session: Session, viewer: Viewer, action: str, missed: MissedCall, before: dict[str, Any]) -> None:
    audit.record(session, viewer.manager_id, action, "missed-call", missed.id, before, audit.snapshot(missed))


def _finish(session: Session, missed: MissedCall) -> None:
    """Side effects of resolving: no more escalation, notifications read, live views told."""
    cancel_remaining(session, missed.id)
    notification_outbox.mark_read_for_missed_call(session, missed.id)
    missed_events.announce(session, missed, "closed")


def resolve(
    session: Session,
    viewer: Viewer,
    missed: MissedCall,
    action: Literal["acknowledge", "close"],
    comment: str,
) -> MissedCall:
    """Write the comment; ``close`` ends the missed call."""
    _ensure_open(missed)
    before = audit.snapshot(missed)
    missed.comment = comment
    if action == "close":
        missed.status = MissedStatus.CLOSED
        missed.closed_at = utcnow()
    session.flush()
    _audit(session, viewer, action, missed, before)
    if action == "close":
        _finish(session, missed)
    else:
        missed_events.announce(session, missed, "updated")
    return missed


def record_outcome(
    session: Session,
    viewer: Viewer,
    missed: MissedCall,
    outcome: Outcome,
    reason: str | None,
    note: str | None,
) -> MissedCall:
    """After a call: ``called_back`` (counted in the callback rate) or ``closed`` (needs a reason).

    The note goes to the client's history as an interaction (and, with the reason, to the comment).
    """
    _ensure_open(missed)
    if outcome == "closed" and not (reason and reason.strip()):
        raise InvalidInput("reason-required", {"field": "reason", "reason": "closing without a callback"})
    before = audit.snapshot(missed)
    now = utcnow()
    if outcome == "called_back":
        missed.status = MissedStatus.CALLED_BACK
        missed.called_back_at = now
        missed.called_back_by_manager_id = viewer.manager_id
    else:
        missed.status = MissedStatus.CLOSED
    missed.closed_at = now
    missed.comment = ": ".join(part for part in (reason, note) if part) or missed.comment
    if note and missed.counterparty_id is not None:
        session.add(
            Interaction(
                counterparty_id=missed.counterparty_id,
                manager_id=viewer.manager_id,
                kind=InteractionKind.CALL if outcome == "called_back" else InteractionKind.NOTE,
                occurred_at=now,
                summary=note,
                call_record_id=missed.callback_call_record_id or missed.call_record_id,
            )
        )
    session.flush()
    _audit(session, viewer, outcome, missed, before)
    _finish(session, missed)
    return missed


def _no_manager(manager_id: int) -> Manager:
    raise NotFound("no-such-manager", {"id": manager_id})


def _ensure_assigns(viewer: Viewer) -> None:
    if viewer.role not in QUEUE_KEEPERS:
        raise PermissionDenied(
            "forbidden-role", "a controller, director or admin reassigns; reception assigns the shared queue"
        )


def assignees(session: Session, viewer: Viewer) -> list[Manager]:
    """The active staff ``viewer`` may hand a missed call to, by name: everyone for reception (it has no team
    of its own and hands the shared queue to anyone), the managers in sight for the others."""
    _ensure_assigns(viewer)
    query = select(Manager) if viewer.role is ManagerRole.RECEPTION else scoped(viewer, Manager)
    return list(session.scalars(query.where(Manager.active.is_(True)).order_by(Manager.name, Manager.id)))


def assign(session: Session, viewer: Viewer, missed: MissedCall, manager_id: int) -> MissedCall:
    """Give a waiting missed call to a manager (controllers and above within their scope; reception from
    the shared queue)."""
    _ensure_assigns(viewer)
    queued = missed.assigned_manager_id is None and missed.counterparty_id is None
    if viewer.role is ManagerRole.RECEPTION and not queued:
        raise PermissionDenied(
            "forbidden-role", "a controller, director or admin reassigns; reception assigns the shared queue"
        )
    _ensure_open(missed)
    if viewer.role is ManagerRole.RECEPTION:  # hands the queue to anyone: it sees no team of its own
        target = session.get(Manager, manager_id) or _no_manager(manager_id)
    else:
        target = get_visible(session, viewer, Manager, manager_id)
    if not target.active:
        raise NotFound("no-such-manager", {"id": manager_id, "reason": "deactivated"})
    previous = missed.assigned_manager_id
    if previous == target.id:
        return missed
    before = audit.snapshot(missed)
    missed.assigned_manager_id = target.id
    session.flush()
    _audit(session, viewer, "assign", missed, before)
    missed_events.announce(session, missed, "updated", also=[previous])
    return missed
