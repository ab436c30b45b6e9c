"""Missed-call reports: per manager and period (callback rate, time to callback, escalations), open calls."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Exists, exists, or_, select
from sqlalchemy.orm import Session

from crm_core.models.calls import MissedCall
from crm_core.models.counterparties import Counterparty
from crm_core.models.enums import MissedStatus
from crm_core.models.escalation import EscalationStep, StepStatus
from crm_core.models.people import Manager

UNRESOLVED = (MissedStatus.OPEN, MissedStatus.ESCALATED)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) with linear interpolation between closest ranks; ``None`` for no values.

    >>> percentile([60, 120, 180, 240], 0.5), percentile([60, 120, 180, 240], 0.9)
    (150.0, 222.0)
    >>> percentile([], 0.5) is None
    True
    """
    if not 0 <= q <= 1:
        raise ValueError(f"quantile must be within 0..1, got {q}")
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


@dataclass(frozen=True, slots=True)
class ManagerMissedStats:
    """One manager's missed calls in a period (``manager_id`` ``None``: calls nobody was assigned)."""

    manager_id: int | None
    manager_name: str | None
    missed: int
    called_back: int
    callback_rate: float
    median_callback_seconds: float | None
    p90_callback_seconds: float | None
    escalated: int


@dataclass(frozen=True, slots=True)
class OpenMissedCall:
    """A missed call still waiting for a callback, with its age."""

    id: int
    caller_number: str
    counterparty_name: str | None
    manager_id: int | None
    manager_name: str | None
    created_at: datetime
    age_seconds: float
    attempts: int
    escalated: bool


def _escalated() -> Exists:
    return exists().where(
        EscalationStep.missed_call_id == MissedCall.id,
        EscalationStep.step >= 1,
        EscalationStep.status == StepStatus.FIRED,
    )


@dataclass(frozen=True, slots=True)
class MissedCallFact:
    """One missed call as the reports read it: who owned it, when, how long until the callback."""

    manager_id: int | None
    manager_name: str | None
    created_at: datetime
    callback_seconds: float | None
    escalated: bool


def missed_call_facts(session: Session, start: datetime, end: datetime) -> list[MissedCallFact]:
    """The missed calls created in ``[start, end)`` (an empty or reversed range is a ``ValueError``)."""
    if end <= start:
        raise ValueError(f"empty period: {start.isoformat()} .. {end.isoformat()}")
    rows = session.execute(
        select(
            MissedCall.assigned_manager_id,
            Manager.name,
            MissedCall.created_at,
            MissedCall.called_back_at,
            _escalated().label("escalated"),
        )
        .outerjoin(Manager, Manager.id == MissedCall.assigned_manager_id)
        .where(MissedCall.created_at >= start, MissedCall.created_at < end)
    ).all()
    return [
        MissedCallFact(
            manager_id,
            name,
            created_at,
            (called_back_at - created_at).total_seconds() if called_back_at is not None else None,
            bool(escalated),
        )
        for manager_id, name, created_at, called_back_at, escalated in rows
    ]


@dataclass(frozen=True, slots=True)
class CallbackDiscipline:
    """Callback figures of a group of missed calls: rate, median and p90 time to callback, escalations."""

    missed: int
    called_back: int
    callback_rate: float
    median_callback_seconds: float | None
    p90_callback_seconds: float | None
    escalated: int


def discipline(calls: Sequence[MissedCallFact]) -> CallbackDiscipline:
    """The callback figures of ``calls`` (a rate of 0 for no calls)."""
    delays = [c.callback_seconds for c in calls if c.callback_seconds is not None]
    return CallbackDiscipline(
        missed=len(calls),
        called_back=len(delays),
        callback_rate=len(delays) / len(calls) if calls else 0.0,
        median_callback_seconds=percentile(delays, 0.5),
        p90_callback_seconds=percentile(delays, 0.9),
        escalated=sum(1 for c in calls if c.escalated),
    )


def missed_calls_by_manager(session: Session, start: datetime, end: datetime) -> list[ManagerMissedStats]:
    """Missed calls created in ``[start, end)`` per assigned manager, ordered by manager name."""
    groups: dict[int | None, list[MissedCallFact]] = defaultdict(list)
    for fact in missed_call_facts(session, start, end):
        groups[fact.manager_id].append(fact)
    stats = [
        ManagerMissedStats(manager_id, calls[0].manager_name, **asdict(discipline(calls)))
        for manager_id, calls in groups.items()
    ]
    return sorted(stats, key=lambda s: (s.manager_name is None, s.manager_name or "", s.manager_id or 0))


def open_missed_calls(
    session: Session, now: datetime, limit: int = 500, managers: Collection[int | None] | None = None
) -> list[OpenMissedCall]:
    """Missed calls not yet called back or closed, oldest first, with their age at ``now``.

    ``managers`` keeps those assigned to these managers (``None`` in it: the unassigned ones) before the
    limit applies, so a team's list is never cut short by other teams' calls.
    """
    stmt = (
        select(MissedCall, Counterparty.name, Manager.name, _escalated().label("escalated"))
        .outerjoin(Counterparty, Counterparty.id == MissedCall.counterparty_id)
        .outerjoin(Manager, Manager.id == MissedCall.assigned_manager_id)
        .where(MissedCall.status.in_(UNRESOLVED))
    )
    if managers is not None:
        ids = [m for m in managers if m is not None]
        assigned = MissedCall.assigned_manager_id.in_(ids)
        unassigned = MissedCall.assigned_manager_id.is_(None)
        stmt = stmt.where(or_(assigned, unassigned) if None in managers else assigned)
    rows = session.execute(stmt.order_by(MissedCall.created_at, MissedCall.id).limit(limit)).all()
    return [
        OpenMissedCall(
            id=mc.id,
            caller_number=mc.caller_number,
            counterparty_name=client,
            manager_id=mc.assigned_manager_id,
            manager_name=manager,
            created_at=mc.created_at,
            age_seconds=(now - mc.created_at).total_seconds(),
            attempts=mc.attempts,
            escalated=bool(escalated),
        )
        for mc, client, manager, escalated in rows
    ]
