"""Total number capture: numbers that called in a month but belong to no card or list, per manager."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_core.models import CallDirection, CallRecord, MissedCall, PhoneNumber
from crm_core.repositories.scoped import Viewer, scoped
from crm_core.services import phones


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
