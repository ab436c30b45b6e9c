"""Read-mostly queries feeding :mod:`crm_core.analytics`; portable across PostgreSQL and SQLite.

Every query aggregates in the database and returns plain dataclasses or tuples, never ORM objects, so the
analytics stay pure and the row counts that cross the wire stay at one per counterparty (or manager).

A *purchase* is a sale document with a positive total: the ``sale`` lines grouped by counterparty and
``document_number`` (lines without a number: by counterparty and day). Return lines never make purchases;
they subtract from revenue. Nothing dated after the reference day (``as_of``) is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import ColumnElement, Subquery, case, extract, func, insert, select, update
from sqlalchemy.orm import Session

from crm_core.analytics.period import Period
from crm_core.models import (
    CallDisposition,
    CallLeg,
    CallRecord,
    ClientStatus,
    Counterparty,
    Deal,
    DealStageName,
    Manager,
    MissedCall,
    Shipment,
    ShipmentKind,
    StatusCause,
)
from crm_core.models.client_status import ClientStatusChange

Month = tuple[int, int]
T = TypeVar("T")


NET_AMOUNT = case((Shipment.kind == ShipmentKind.RETURN, -Shipment.amount), else_=Shipment.amount)
"""A line's effect on revenue: a sale adds its amount, a return subtracts it."""


def purchases(*where: ColumnElement[bool]) -> Subquery:
    """``(cp, day)``: one row per purchase (sale document with a positive total) among lines ``where``."""
    undocumented_day = case((Shipment.document_number.is_(None), Shipment.shipped_on), else_=None)
    return (
        select(Shipment.counterparty_id.label("cp"), func.max(Shipment.shipped_on).label("day"))
        .where(Shipment.kind == ShipmentKind.SALE, *where)
        .group_by(Shipment.counterparty_id, Shipment.document_number, undocumented_day)
        .having(func.sum(Shipment.amount) > 0)
        .subquery()
    )


def _by_manager(rows: Iterable[tuple[int | None, T]]) -> dict[int, T]:
    """Key ``(manager_id, value)`` rows by manager, dropping the unassigned (``None``) group."""
    return {mid: value for mid, value in rows if mid is not None}


@dataclass(frozen=True, slots=True)
class ShipmentSummary:
    """A counterparty's stored status, its purchase count up to the reference day and the last one's day."""

    counterparty_id: int
    status: ClientStatus
    shipment_count: int
    last_shipped_on: date | None
    pinned: bool = False
    pinned_until: date | None = None


def shipment_summaries(session: Session, as_of: date) -> list[ShipmentSummary]:
    """One summary per counterparty (purchase count 0 when it never bought up to ``as_of``)."""
    bought = purchases(Shipment.shipped_on <= as_of)
    agg = (
        select(bought.c.cp, func.count().label("n"), func.max(bought.c.day).label("last"))
        .group_by(bought.c.cp)
        .subquery()
    )
    stmt = select(
        Counterparty.id,
        Counterparty.status,
        func.coalesce(agg.c.n, 0),
        agg.c.last,
        Counterparty.status_pinned,
        Counterparty.status_pinned_until,
    ).outerjoin(agg, agg.c.cp == Counterparty.id)
    return [ShipmentSummary(*row) for row in session.execute(stmt)]


def add_recompute_changes(
    session: Session, moves: Sequence[tuple[int, ClientStatus, ClientStatus]], day: date, now: datetime
) -> None:
    """Keep ``(counterparty id, from, to)`` moves of the recompute on ``day`` in the history, one INSERT."""
    if not moves:
        return
    session.execute(
        insert(ClientStatusChange),
        [
            {
                "counterparty_id": cid,
                "from_status": old,
                "to_status": new,
                "day": day,
                "cause": StatusCause.RECOMPUTE,
                "at": now,
            }
            for cid, old, new in moves
        ],
    )


def set_statuses(session: Session, ids: Sequence[int], status: ClientStatus, now: datetime) -> None:
    """Set ``status`` (and ``updated_at = now``) on the counterparties ``ids`` in one statement."""
    session.execute(
        update(Counterparty).where(Counterparty.id.in_(ids)).values(status=status, updated_at=now)
    )


def monthly_revenue(session: Session, period: Period) -> dict[int, dict[Month, Decimal]]:
    """Net revenue (sales minus returns) per counterparty and ``(year, month)`` within ``period``."""
    year = extract("year", Shipment.shipped_on)
    month = extract("month", Shipment.shipped_on)
    stmt = (
        select(Shipment.counterparty_id, year, month, func.sum(NET_AMOUNT))
        .where(Shipment.shipped_on.between(period.start, period.end))
        .group_by(Shipment.counterparty_id, year, month)
    )
    result: dict[int, dict[Month, Decimal]] = {}
    for cid, y, m, amount in session.execute(stmt):
        result.setdefault(cid, {})[(int(y), int(m))] = Decimal(amount)
    return result


@dataclass(frozen=True, slots=True)
class PurchaseHistory:
    """A counterparty's buying within a period: last purchase day, purchases, net revenue."""

    counterparty_id: int
    last_shipped_on: date
    order_days: int
    revenue: Decimal


def purchase_histories(session: Session, period: Period) -> list[PurchaseHistory]:
    """One history per counterparty with a purchase within ``period``."""
    in_period = Shipment.shipped_on.between(period.start, period.end)
    bought = purchases(in_period)
    counts = (
        select(bought.c.cp, func.max(bought.c.day).label("last"), func.count().label("n"))
        .group_by(bought.c.cp)
        .subquery()
    )
    revenue = (
        select(Shipment.counterparty_id.label("cp"), func.sum(NET_AMOUNT).label("net"))
        .where(in_period)
        .group_by(Shipment.counterparty_id)
        .subquery()
    )
    stmt = select(counts.c.cp, counts.c.last, counts.c.n, revenue.c.net).join(
        revenue, revenue.c.cp == counts.c.cp
    )
    return [PurchaseHistory(cid, last, n, Decimal(rev)) for cid, last, n, rev in session.execute(stmt)]


def counterparty_cards(session: Session) -> dict[int, tuple[str, int | None]]:
    """``(name, manager id)`` of every counterparty."""
    stmt = select(Counterparty.id, Counterparty.name, Counterparty.manager_id)
    return {cid: (name, manager_id) for cid, name, manager_id in session.execute(stmt)}


def counterparty_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Names of the counterparties ``ids``."""
    if not ids:
        return {}
    stmt = select(Counterparty.id, Counterparty.name).where(Counterparty.id.in_(ids))
    return {cid: name for cid, name in session.execute(stmt)}


def managers_by_id(session: Session, ids: Sequence[int] = ()) -> dict[int, str]:
    """Names of the active managers plus the managers ``ids`` (whatever their state)."""
    stmt = select(Manager.id, Manager.name).where(Manager.active.is_(True) | Manager.id.in_(ids))
    return {mid: name for mid, name in session.execute(stmt)}


@dataclass(frozen=True)
class AnsweredCalls:
    """A manager's answered calls in a period and the talk time of their own legs in them."""

    calls: int
    talk_seconds: float


def answered_calls_per_manager(session: Session, start: datetime, end: datetime) -> dict[int, AnsweredCalls]:
    """Per manager, the answered calls started in ``[start, end)`` in which they talked to the caller (a leg
    of theirs, a transfer target included), and the sum of their legs' talk time. A record without legs
    (none answered by a known target) counts for the manager it names, with its own talk time."""
    in_period = (
        CallRecord.disposition == CallDisposition.ANSWERED,
        CallRecord.started_at >= start,
        CallRecord.started_at < end,
    )
    legs = session.execute(
        select(CallLeg.manager_id, CallLeg.call_record_id, CallLeg.talk_seconds)
        .join(CallRecord, CallRecord.id == CallLeg.call_record_id)
        .where(*in_period)
    ).all()
    with_legs = {rid for _, rid, _ in legs}
    answered = session.execute(
        select(CallRecord.answered_by_manager_id, CallRecord.id, CallRecord.talk_seconds).where(
            CallRecord.answered_by_manager_id.is_not(None), *in_period
        )
    ).all()
    calls: dict[int, set[int]] = {}
    talk: dict[int, float] = {}
    for mid, rid, seconds in [*legs, *((m, r, None if r in with_legs else t) for m, r, t in answered)]:
        if mid is not None:
            calls.setdefault(mid, set()).add(rid)
            talk[mid] = talk.get(mid, 0.0) + (seconds or 0.0)
    return {mid: AnsweredCalls(len(rids), talk[mid]) for mid, rids in calls.items()}


def missed_calls_per_manager(
    session: Session, start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """``(created_at, called_back_at)`` of the missed calls assigned to each manager, created in the range."""
    stmt = select(MissedCall.assigned_manager_id, MissedCall.created_at, MissedCall.called_back_at).where(
        MissedCall.assigned_manager_id.is_not(None),
        MissedCall.created_at >= start,
        MissedCall.created_at < end,
    )
    result: dict[int, list[tuple[datetime, datetime | None]]] = {}
    for mid, created, called_back in session.execute(stmt):
        if mid is not None:
            result.setdefault(mid, []).append((created, called_back))
    return result


def shipments_per_manager(session: Session, period: Period) -> dict[int, tuple[Decimal, int]]:
    """``(net revenue, distinct clients with a positive sale line)`` per client's current manager, within
    ``period``."""
    bought = case(
        ((Shipment.kind == ShipmentKind.SALE) & (Shipment.amount > 0), Shipment.counterparty_id), else_=None
    )
    stmt = (
        select(Counterparty.manager_id, func.sum(NET_AMOUNT), func.count(bought.distinct()))
        .join(Counterparty, Counterparty.id == Shipment.counterparty_id)
        .where(Counterparty.manager_id.is_not(None), Shipment.shipped_on.between(period.start, period.end))
        .group_by(Counterparty.manager_id)
    )
    return _by_manager((mid, (Decimal(rev), n)) for mid, rev, n in session.execute(stmt))


def deals_won_per_manager(session: Session, start: datetime, end: datetime) -> dict[int, int]:
    """Deals in stage ``won`` closed in ``[start, end)``, per deal manager."""
    stmt = (
        select(Deal.manager_id, func.count())
        .where(
            Deal.manager_id.is_not(None),
            Deal.stage == DealStageName.WON,
            Deal.closed_at >= start,
            Deal.closed_at < end,
        )
        .group_by(Deal.manager_id)
    )
    return _by_manager(session.execute(stmt))
