"""The daily client status recompute as a few set-based statements (no row crosses into Python).

1. ``INSERT INTO`` a temporary table the counterparties whose status the rule changes: ``(id, from, to)``,
   computed from one aggregate over the purchases up to the reference day (the same ``purchases`` subquery
   every report reads) and the stored status; pinned counterparties are left out while their pin holds.
2. ``INSERT INTO client_status_changes ... SELECT`` one history row per move (cause ``recompute``).
3. ``UPDATE counterparties ... FROM`` the temporary table (status and ``updated_at``).
4. The transitions counted by ``GROUP BY`` and the totals; the temporary table is dropped.

Memory stays flat whatever the number of counterparties or shipment lines; PostgreSQL and SQLite run the
same statements (``UPDATE ... FROM`` needs SQLite 3.33).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from crm_core.models import ClientStatus, Counterparty, Shipment, StatusCause
from crm_core.models.client_status import ClientStatusChange
from crm_core.repositories.analytics import purchases

POSTGRES_WORK_MEM = "256MB"
"""Memory PostgreSQL may use for the purchase aggregate's hash tables (this transaction only)."""


@dataclass(frozen=True)
class StatusWindows:
    """The status rule's day windows (see :func:`crm_core.analytics.status.classify`)."""

    fresh_days: int
    departed_days: int


@dataclass(frozen=True)
class SetBasedOutcome:
    """What the statements did: counterparties seen, pinned ones left alone, and the moves made."""

    total: int
    pinned: int
    transitions: Counter[tuple[ClientStatus, ClientStatus]]


def _pin_holds(today: date) -> ColumnElement[bool]:
    return and_(
        Counterparty.status_pinned.is_(True),
        or_(Counterparty.status_pinned_until.is_(None), Counterparty.status_pinned_until >= today),
    )


def recompute_in_database(
    session: Session, today: date, now: datetime, windows: StatusWindows, *, dry_run: bool = False
) -> SetBasedOutcome:
    """Move every unpinned counterparty to the status its purchases up to ``today`` give, keep each move in
    the history, stamp ``updated_at = now``; the caller commits. ``dry_run`` counts the moves only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.set_config("work_mem", POSTGRES_WORK_MEM, True)))
    bought = purchases(Shipment.shipped_on <= today)
    agg = (
        select(bought.c.cp, func.count().label("n"), func.max(bought.c.day).label("last"))
        .group_by(bought.c.cp)
        .subquery()
    )
    # age <= N days  <=>  last purchase day >= today - N days (date comparison works on both backends)
    fresh_from = today - timedelta(days=windows.fresh_days)
    regular_from = today - timedelta(days=windows.departed_days)
    new_status = case(
        (agg.c.n.is_(None), literal(ClientStatus.POTENTIAL.value)),
        (
            agg.c.n == 1,
            case(
                (agg.c.last >= fresh_from, literal(ClientStatus.ONE_TIME_FRESH.value)),
                else_=literal(ClientStatus.ONE_TIME_OLD.value),
            ),
        ),
        (agg.c.last >= regular_from, literal(ClientStatus.REGULAR.value)),
        else_=literal(ClientStatus.DEPARTED.value),
    )
    moves = Table(
        f"status_moves_{uuid.uuid4().hex[:12]}",
        MetaData(),
        Column("counterparty_id", Integer, primary_key=True, autoincrement=False),
        Column("from_status", String(32), nullable=False),
        Column("to_status", String(32), nullable=False),
        prefixes=["TEMPORARY"],
    )
    connection = session.connection()
    moves.create(connection)  # on an error the caller's rollback removes it with the rest
    changed = (
        select(Counterparty.id, Counterparty.status, new_status)
        .outerjoin(agg, agg.c.cp == Counterparty.id)
        .where(~_pin_holds(today), Counterparty.status != new_status)
    )
    session.execute(insert(moves).from_select(["counterparty_id", "from_status", "to_status"], changed))
    transitions: Counter[tuple[ClientStatus, ClientStatus]] = Counter(
        {
            (ClientStatus(old), ClientStatus(new)): n
            for old, new, n in session.execute(
                select(moves.c.from_status, moves.c.to_status, func.count()).group_by(
                    moves.c.from_status, moves.c.to_status
                )
            )
        }
    )
    if transitions and not dry_run:
        _write_moves(session, moves, today, now)
    moves.drop(connection)
    total, pinned = session.execute(
        select(func.count(), func.coalesce(func.sum(case((_pin_holds(today), 1), else_=0)), 0))
    ).one()
    return SetBasedOutcome(int(total), int(pinned), transitions)


def _write_moves(session: Session, moves: Table, today: date, now: datetime) -> None:
    """History rows first (they read the stored ``from``), then the statuses themselves."""
    session.execute(
        insert(ClientStatusChange).from_select(
            ["counterparty_id", "from_status", "to_status", "day", "cause", "at"],
            select(
                moves.c.counterparty_id,
                moves.c.from_status,
                moves.c.to_status,
                literal(today, ClientStatusChange.day.type),
                literal(StatusCause.RECOMPUTE.value),
                literal(now, ClientStatusChange.at.type),
            ).order_by(moves.c.counterparty_id),
        )
    )
    session.execute(
        update(Counterparty)
        .where(Counterparty.id == moves.c.counterparty_id)
        .values(status=moves.c.to_status, updated_at=now)
        .execution_options(synchronize_session=False)  # no ids fetched back into Python
    )
