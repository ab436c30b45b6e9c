"""Missed calls as the workspace lists them: one query per page, names and SLA included.

A row carries the client's and the manager's name, the first and last call, the attempts, the age and
whether the callback is overdue. The SLA is the missed call's own first escalation timer (step 1, which
already counts business hours when the policy says so); before the escalation worker scheduled it, the
policy's delay from the first call stands in.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import Session

from crm_core.models import Counterparty, Manager, MissedCall, MissedReason, MissedStatus
from crm_core.models.escalation import EscalationStep
from crm_core.repositories.scoped import Viewer, in_shared_queue, keeps_queue, managed_by, scoped
from crm_core.services.errors import PermissionDenied

AWAITING = (MissedStatus.OPEN, MissedStatus.ESCALATED)


class MissedScope(enum.StrEnum):
    """Which missed calls a list shows."""

    MINE = "mine"  # assigned to me
    TEAM = "team"  # assigned to me or my team (a director or admin: to anyone)
    ALL = "all"  # everything I may see, the shared queue included when I keep it
    UNKNOWN = "unknown"  # the shared queue: unknown numbers nobody was assigned


@dataclass(frozen=True, slots=True)
class MissedCallView:
    """One missed call as the workspace shows it."""

    id: int
    call_record_id: int
    caller_number: str
    reason: MissedReason
    ring_seconds: float | None
    assigned_manager_id: int | None
    manager_name: str | None
    counterparty_id: int | None
    counterparty_name: str | None
    status: MissedStatus
    attempts: int
    first_call_at: datetime
    last_call_at: datetime
    age_seconds: float
    due_at: datetime | None
    overdue: bool
    called_back_at: datetime | None
    comment: str | None
    created_at: datetime
    closed_at: datetime | None

    @property
    def last_attempt_at(self) -> datetime:
        return self.last_call_at


_VIEW_JSON = TypeAdapter(MissedCallView)


def view_json(view: MissedCallView) -> dict[str, Any]:
    """The JSON form of a view (the same the API's list item has)."""
    data: dict[str, Any] = _VIEW_JSON.dump_python(view, mode="json")
    data["last_attempt_at"] = data["last_call_at"]
    return data


def scope_condition(viewer: Viewer, scope: MissedScope | None) -> ColumnElement[bool]:
    """The extra WHERE of ``scope`` (on top of :func:`scoped` visibility)."""
    if scope is MissedScope.MINE:
        return MissedCall.assigned_manager_id == viewer.manager_id
    if scope is MissedScope.TEAM:
        if viewer.sees_all:
            return MissedCall.assigned_manager_id.is_not(None)
        return managed_by(viewer, MissedCall.assigned_manager_id)
    if scope is MissedScope.UNKNOWN:
        if not keeps_queue(viewer):
            raise PermissionDenied("forbidden-role", "the shared queue is for reception and controllers")
        return in_shared_queue()
    return true()


def visible_missed_calls(viewer: Viewer, scope: MissedScope | None = None) -> Select[Any]:
    """``SELECT MissedCall`` the viewer may see within ``scope``."""
    return scoped(viewer, MissedCall).where(scope_condition(viewer, scope))


def status_condition(status: MissedStatus | None) -> ColumnElement[bool]:
    """``open`` means waiting for a callback (open or escalated); any other status is matched exactly."""
    if status is None:
        return true()
    if status is MissedStatus.OPEN:
        return MissedCall.status.in_(AWAITING)
    return MissedCall.status == status


def escalation_sla(policy_delays: Sequence[int]) -> timedelta | None:
    """The delay of the first escalation step after the immediate notification, if the policy has one.

    >>> escalation_sla([0, 86400])
    datetime.timedelta(days=1)
    >>> escalation_sla([0]) is None
    True
    """
    later = list(policy_delays[1:])
    return timedelta(seconds=later[0]) if later else None


def _first_escalation_due() -> Any:
    return (
        select(func.min(EscalationStep.due_at))
        .where(EscalationStep.missed_call_id == MissedCall.id, EscalationStep.step >= 1)
        .correlate(MissedCall)
        .scalar_subquery()
    )


def load_views(
    session: Session, stmt: Select[Any], now: datetime, sla: timedelta | None
) -> list[MissedCallView]:
    """Run ``stmt`` (a ``SELECT MissedCall``, filtered, ordered and paged) with names and SLA joined in."""
    rows = session.execute(
        stmt.add_columns(Counterparty.name, Manager.name, _first_escalation_due())
        .outerjoin(Counterparty, Counterparty.id == MissedCall.counterparty_id)
        .outerjoin(Manager, Manager.id == MissedCall.assigned_manager_id)
    ).all()
    return [_view(mc, client, manager, due, now, sla) for mc, client, manager, due in rows]


def _view(
    mc: MissedCall,
    client: str | None,
    manager: str | None,
    due: datetime | None,
    now: datetime,
    sla: timedelta | None,
) -> MissedCallView:
    if due is None and sla is not None:
        due = mc.created_at + sla
    awaiting = mc.status in AWAITING
    return MissedCallView(
        id=mc.id,
        call_record_id=mc.call_record_id,
        caller_number=mc.caller_number,
        reason=mc.reason,
        ring_seconds=mc.ring_seconds,
        assigned_manager_id=mc.assigned_manager_id,
        manager_name=manager,
        counterparty_id=mc.counterparty_id,
        counterparty_name=client,
        status=mc.status,
        attempts=mc.attempts,
        first_call_at=mc.created_at,
        last_call_at=mc.last_attempt_at,
        age_seconds=max(0.0, ((now if awaiting else mc.closed_at or now) - mc.created_at).total_seconds()),
        due_at=due,
        overdue=bool(awaiting and due is not None and due <= now),
        called_back_at=mc.called_back_at,
        comment=mc.comment,
        created_at=mc.created_at,
        closed_at=mc.closed_at,
    )


def view_of(session: Session, missed_call_id: int, now: datetime, sla: timedelta | None) -> MissedCallView:
    """One missed call's view (no visibility check: for events whose audience is computed apart)."""
    stmt = select(MissedCall).where(MissedCall.id == missed_call_id).execution_options(populate_existing=True)
    return load_views(session, stmt, now, sla)[0]
