"""Live announcements of missed calls: opened, updated (merged, escalated, assigned) or closed.

The audience follows the API's visibility: the assigned manager and the client's manager with their
controllers, every director and admin, and every controller while the call waits in the shared queue.
A reassigned call is also announced to whom it was taken from, so their list drops it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.events import MISSED_CALL, Audience, DomainEvent, publish_after_commit
from crm_core.models import Counterparty, Manager, ManagerRole, MissedCall
from crm_core.models.base import utcnow
from crm_core.repositories.missed_calls import MissedCallView, escalation_sla, view_json, view_of
from crm_core.repositories.scoped import QUEUE_KEEPERS, SEE_ALL
from crm_core.services.escalation import load_policy

MissedAction = Literal["opened", "updated", "closed"]


class _Stored(Enum):
    POLICY = "policy"


STORED_POLICY = _Stored.POLICY
"""``sla`` argument: read the SLA from the stored escalation policy (give it to announce many at once)."""
Sla = timedelta | None | Literal[_Stored.POLICY]


def policy_sla(session: Session) -> timedelta | None:
    """The callback SLA of the stored escalation policy (its first escalation's delay)."""
    return escalation_sla([step.delay_seconds for step in load_policy(session)])


def current_view(
    session: Session, missed_call_id: int, now: datetime | None = None, sla: Sla = STORED_POLICY
) -> MissedCallView:
    """The list item of one missed call, SLA from the stored escalation policy unless given."""
    return view_of(
        session, missed_call_id, now or utcnow(), policy_sla(session) if sla is STORED_POLICY else sla
    )


def _with_controllers(session: Session, manager_ids: Iterable[int | None]) -> set[int]:
    ids = {m for m in manager_ids if m is not None}
    if not ids:
        return ids
    controllers = session.scalars(select(Manager.controller_id).where(Manager.id.in_(ids))).all()
    return ids | {c for c in controllers if c is not None}


def audience_of(session: Session, missed: MissedCall, also: Iterable[int | None] = ()) -> Audience:
    """Who may see ``missed`` (and ``also`` these managers, e.g. its previous assignee)."""
    client_manager = None
    if missed.counterparty_id is not None:
        client_manager = session.scalar(
            select(Counterparty.manager_id).where(Counterparty.id == missed.counterparty_id)
        )
    people = _with_controllers(session, [missed.assigned_manager_id, client_manager, *also])
    queued = missed.assigned_manager_id is None and missed.counterparty_id is None
    roles: set[ManagerRole] = set(SEE_ALL) | (set(QUEUE_KEEPERS) if queued else set())
    return Audience.of(people, roles)


def announce(
    session: Session,
    missed: MissedCall,
    action: MissedAction,
    also: Iterable[int | None] = (),
    sla: Sla = STORED_POLICY,
) -> None:
    """Publish ``missed`` as it is now (after the transaction commits)."""
    session.flush()
    view = current_view(session, missed.id, sla=sla)
    publish_after_commit(
        session,
        DomainEvent(
            MISSED_CALL,
            {"action": action, "missed_call": view_json(view)},
            audience_of(session, missed, also),
        ),
    )


def announce_by_id(session: Session, missed_call_id: int, action: MissedAction) -> None:
    """:func:`announce` for a missed call known by id (a missing one is ignored)."""
    missed = session.get(MissedCall, missed_call_id)
    if missed is not None:
        announce(session, missed, action)
