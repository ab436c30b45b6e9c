"""The last contact of each counterparty, read in a few grouped passes (one row per counterparty).

What counts as *contact* (docs/analytics.md, "Forgotten clients"): an answered call either way (a call
record with disposition ``answered``, inbound or outbound), and the interactions a person logs of kind
``call`` (a call made, e.g. a callback), ``meeting``, ``messenger`` or ``email`` (both: a message). A
``note`` is not contact, neither is a shipment. A card may also carry the day of its last contact before
the CRM knew it (``counterparties.last_contact_on``, from an import).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from crm_core.models import (
    CallDirection,
    CallDisposition,
    CallRecord,
    Counterparty,
    Interaction,
    InteractionKind,
    Manager,
)
from crm_core.repositories.scoped import Viewer, managed_by

CONTACT_KINDS: dict[str, tuple[InteractionKind, ...]] = {
    "call": (InteractionKind.CALL,),
    "meeting": (InteractionKind.MEETING,),
    "message": (InteractionKind.MESSENGER, InteractionKind.EMAIL),
}
"""Interaction kinds that are contact, by the contact kind they report; ``note`` is none of them."""

ANSWERED_DIRECTIONS = (CallDirection.INBOUND, CallDirection.OUTBOUND)


@dataclass(frozen=True)
class ContactTrail:
    """A counterparty with the last contact of each kind up to the reference day (``None``: none)."""

    counterparty_id: int
    name: str
    manager_id: int | None
    manager_name: str | None
    created_at: datetime
    imported_on: date | None
    last_call_at: datetime | None
    last_logged_call_at: datetime | None
    last_meeting_at: datetime | None
    last_message_at: datetime | None


def _last_per_counterparty(
    owner: InstrumentedAttribute[Any], column: InstrumentedAttribute[Any], *where: ColumnElement[bool]
) -> Subquery:
    """``(cp, last)``: the latest ``column`` per counterparty, one grouped pass (not a correlated max)."""
    return (
        select(owner.label("cp"), func.max(column).label("last"))
        .where(owner.is_not(None), *where)
        .group_by(owner)
        .subquery()
    )


def _interactions(kinds: Sequence[InteractionKind], until: datetime) -> Subquery:
    return _last_per_counterparty(
        Interaction.counterparty_id,
        Interaction.occurred_at,
        Interaction.kind.in_(kinds),
        Interaction.occurred_at < until,
    )


def silent_counterparties(
    session: Session, viewer: Viewer, since: datetime, until: datetime, days: tuple[date, date]
) -> list[ContactTrail]:
    """The viewer's live (not archived) counterparties with no contact in ``[since, until)`` and no
    imported contact day within ``days`` (first, last day): those with an earlier contact, and those
    never contacted created before ``since``. Later contacts are not read. Ordered by manager, name."""
    since_day, as_of = days
    calls = _last_per_counterparty(
        CallRecord.counterparty_id,
        CallRecord.started_at,
        CallRecord.disposition == CallDisposition.ANSWERED,
        CallRecord.direction.in_(ANSWERED_DIRECTIONS),
        CallRecord.started_at < until,
    )
    logged, meetings, messages = (_interactions(kinds, until) for kinds in CONTACT_KINDS.values())
    subs = (calls, logged, meetings, messages)
    stmt: Select[Any] = (
        select(
            Counterparty.id,
            Counterparty.name,
            Counterparty.manager_id,
            Manager.name,
            Counterparty.created_at,
            case((Counterparty.last_contact_on <= as_of, Counterparty.last_contact_on), else_=None),
            calls.c.last,
            logged.c.last,
            meetings.c.last,
            messages.c.last,
        )
        .outerjoin(Manager, Manager.id == Counterparty.manager_id)
        .outerjoin(calls, calls.c.cp == Counterparty.id)
        .outerjoin(logged, logged.c.cp == Counterparty.id)
        .outerjoin(meetings, meetings.c.cp == Counterparty.id)
        .outerjoin(messages, messages.c.cp == Counterparty.id)
        .where(
            managed_by(viewer, Counterparty.manager_id),
            Counterparty.archived_at.is_(None),
            or_(
                Counterparty.created_at < since,  # a card never contacted counts from its creation
                Counterparty.last_contact_on <= as_of,
                *(sub.c.last.is_not(None) for sub in subs),
            ),
            or_(
                Counterparty.last_contact_on.is_(None),
                Counterparty.last_contact_on < since_day,
                Counterparty.last_contact_on > as_of,
            ),
            *(or_(sub.c.last.is_(None), sub.c.last < since) for sub in subs),
        )
        .order_by(Counterparty.manager_id, Counterparty.name, Counterparty.id)
    )
    return [ContactTrail(*row) for row in session.execute(stmt)]
