"""Total number capture: numbers that called in a month but belong to no card or list, per manager."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_core.models import (
    CallDirection,
    CallRecord,
    Counterparty,
    ListKind,
    MissedCall,
    NumberList,
    PhoneNumber,
)
from crm_core.repositories.missed_calls import AWAITING
from crm_core.repositories.scoped import Viewer, scoped
from crm_core.services import counterparties, missed_events, phones
from crm_core.services.errors import InvalidInput, NotFound

T = TypeVar("T")
RegisterTarget = Literal["counterparty", "contact", "new_counterparty", "list"]


def unregistered_calls(
    session: Session, viewer: Viewer, start: datetime, end: datetime, manager_id: int | None = None
) -> dict[int | None, dict[str, list[CallRecord]]]:
    """Inbound calls in ``[start, end)`` from numbers not in ``phone_numbers``: manager -> number -> calls.

    A call belongs to the manager who answered it, else to the one its missed call was assigned to.
    """
    owner = func.coalesce(CallRecord.answered_by_manager_id, MissedCall.assigned_manager_id)
    stmt = (
        scoped(viewer, CallRecord)
        .add_columns(owner)
        .outerjoin(MissedCall, MissedCall.call_record_id == CallRecord.id)
        .where(
            CallRecord.direction == CallDirection.INBOUND,
            CallRecord.started_at >= start,
            CallRecord.started_at < end,
            CallRecord.caller_number.is_not(None),
            CallRecord.caller_number.like("+%"),
            CallRecord.caller_number.not_in(select(PhoneNumber.e164)),
        )
        .order_by(CallRecord.started_at, CallRecord.id)
    )
    if manager_id is not None:
        stmt = stmt.where(owner == manager_id)
    report: dict[int | None, dict[str, list[CallRecord]]] = defaultdict(lambda: defaultdict(list))
    for call, manager in session.execute(stmt):
        report[manager][call.caller_number].append(call)
    return report


def register(
    session: Session, viewer: Viewer, raw: str, owner: Mapping[str, int], region: str, note: str | None
) -> tuple[Any, int]:
    """Register a reported number to a counterparty, contact or list in one call.

    Its earlier call records stop counting as unregistered and, for a counterparty, are linked to it.
    Returns the phone row and how many call records were linked.
    """
    phone = phones.assign(session, viewer, raw, owner, region=region, note=note)
    values: dict[str, Any] = {"unregistered_number": False}
    if "counterparty_id" in owner:
        values["counterparty_id"] = owner["counterparty_id"]
    result = session.execute(
        update(CallRecord)
        .where(CallRecord.caller_number == phone.e164, CallRecord.counterparty_id.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return phone, int(getattr(result, "rowcount", 0) or 0)


def owner_for(
    session: Session,
    viewer: Viewer,
    target: RegisterTarget,
    *,
    region: str,
    counterparty_id: int | None = None,
    contact_id: int | None = None,
    name: str | None = None,
    list_kind: ListKind | None = None,
    list_id: int | None = None,
) -> dict[str, int]:
    """The owner a number is registered to: an existing card or contact, a new card, or a list."""
    if target == "counterparty":
        return {"counterparty_id": _required(counterparty_id, "counterparty_id")}
    if target == "contact":
        return {"contact_person_id": _required(contact_id, "contact_id")}
    if target == "new_counterparty":
        if not (name and name.strip()):
            raise InvalidInput("field-required", {"field": "name", "reason": "a new card needs a name"})
        created = counterparties.create(session, viewer, {"name": name.strip()}, [], region)
        return {"counterparty_id": created.id}
    if list_id is not None:
        return {"number_list_id": list_id}
    kind = _required(list_kind, "list")
    found = session.scalar(select(NumberList.id).where(NumberList.kind == kind).order_by(NumberList.id))
    if found is None:
        raise NotFound("no-such-number-list", {"kind": kind.value})
    return {"number_list_id": found}


def _required(value: T | None, field: str) -> T:
    if value is None:
        raise InvalidInput("field-required", {"field": field})
    return value


def link_waiting_missed_calls(session: Session, e164: str, counterparty_id: int) -> int:
    """Missed calls of a just-registered number join the card: its client and (if none) its manager."""
    manager_id = session.scalar(select(Counterparty.manager_id).where(Counterparty.id == counterparty_id))
    waiting = session.scalars(
        select(MissedCall).where(
            MissedCall.caller_number == e164,
            MissedCall.counterparty_id.is_(None),
            MissedCall.status.in_(AWAITING),
        )
    ).all()
    for missed in waiting:
        missed.counterparty_id = counterparty_id
        if missed.assigned_manager_id is None:
            missed.assigned_manager_id = manager_id
        missed_events.announce(session, missed, "updated")
    return len(waiting)
