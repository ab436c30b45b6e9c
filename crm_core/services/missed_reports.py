"""Missed-call reports: per manager and period (callback rate, time to callback, escalations), open calls."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
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


def missed_calls_by_manager(session: Session, start: datetime, end: datetime) -> list[ManagerMissedStats]:
    """Missed calls created in ``[start, end)`` per assigned manager, ordered by manager name."""
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
    groups: dict[int | None, list[tuple[str | None, float | None, bool]]] = defaultdict(list)
    for manager_id, name, created_at, called_back_at, escalated in rows:
        delay = (called_back_at - created_at).total_seconds() if called_back_at is not None else None
        groups[manager_id].append((name, delay, bool(escalated)))
    stats = []
    for manager_id, calls in groups.items():
        delays = [d for _, d, _ in calls if d is not None]
        stats.append(
            ManagerMissedStats(
                manager_id=manager_id,
                manager_name=calls[0][0],
                missed=len(calls),
                called_back=len(delays),
                callback_rate=len(delays) / len(calls),
                median_callback_seconds=percentile(delays, 0.5),
                p90_callback_seconds=percentile(delays, 0.9),
                escalated=sum(1 for _, _, e in calls if e),
            )
        )
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
