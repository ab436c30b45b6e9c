"""Manager KPIs over a period (calendar days in the company timezone).

=====================  ===========================================================================
KPI                    definition
=====================  ===========================================================================
calls answered         call records with disposition ``answered`` started in the period in which the
                       manager talked to the caller (answered, or took the call over by a transfer)
talk time              the manager's own legs' talk time in those calls (a transferred call is split)
missed calls           missed calls assigned to the manager, created in the period
callback rate          share of those missed calls with ``called_back_at`` set (``None`` if none)
median callback        median of ``called_back_at - created_at`` over those called back
revenue                shipments in the period of the clients the manager owns *now*
active clients         distinct clients of the manager with a shipment in the period
deals won              deals of the manager in stage ``won`` closed in the period
refined cards          counterparties the manager refined (confirmed or completed) in the period
refined contacts       contact persons the manager refined in the period
=====================  ===========================================================================

Every active manager gets a row, plus inactive ones with activity in the period.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_core.analytics.period import Period
from crm_core.models import ContactPerson, Counterparty
from crm_core.repositories import analytics as queries
from crm_core.repositories.refined import refined_per_manager


@dataclass(frozen=True)
class CallbackStats:
    """How a manager's missed calls were handled."""

    missed: int
    called_back: int
    median_delay: timedelta | None

    @property
    def rate(self) -> float | None:
        """Share of missed calls called back, ``None`` without missed calls."""
        return self.called_back / self.missed if self.missed else None


def callback_stats(missed: Sequence[tuple[datetime, datetime | None]]) -> CallbackStats:
    """Summarize ``(created_at, called_back_at)`` pairs.

    >>> t = datetime(2024, 1, 1, 9)
    >>> s = callback_stats([(t, t + timedelta(minutes=4)), (t, t + timedelta(minutes=10)), (t, None)])
    >>> s.called_back, s.median_delay, round(s.rate, 2)
    (2, datetime.timedelta(seconds=420), 0.67)
    """
    delays = [(back - created).total_seconds() for created, back in missed if back is not None]
    median = timedelta(seconds=statistics.median(delays)) if delays else None
    return CallbackStats(len(missed), len(delays), median)


@dataclass(frozen=True)
class ManagerKpi:
    """One manager's KPIs for a period."""

    manager_id: int
    name: str
    calls_answered: int
    talk_seconds: float
    callbacks: CallbackStats
    revenue: Decimal
    active_clients: int
    deals_won: int
    refined_counterparties: int = 0
    refined_contacts: int = 0


def manager_kpis(session: Session, period: Period, timezone: str) -> list[ManagerKpi]:
    """KPIs of every manager for ``period``, highest revenue first."""
    start, end = period.bounds(timezone)
    answered = queries.answered_calls_per_manager(session, start, end)
    missed = queries.missed_calls_per_manager(session, start, end)
    shipments = queries.shipments_per_manager(session, period)
    won = queries.deals_won_per_manager(session, start, end)
    cards = refined_per_manager(session, Counterparty, start, end)
    contacts = refined_per_manager(session, ContactPerson, start, end)
    involved = set(answered) | set(missed) | set(shipments) | set(won) | set(cards) | set(contacts)
    names = queries.managers_by_id(session, sorted(involved))
    kpis = [
        ManagerKpi(
            manager_id=mid,
            name=name,
            calls_answered=answered[mid].calls if mid in answered else 0,
            talk_seconds=answered[mid].talk_seconds if mid in answered else 0.0,
            callbacks=callback_stats(missed.get(mid, [])),
            revenue=shipments.get(mid, (Decimal(0), 0))[0],
            active_clients=shipments.get(mid, (Decimal(0), 0))[1],
            deals_won=won.get(mid, 0),
            refined_counterparties=cards.get(mid, 0),
            refined_contacts=contacts.get(mid, 0),
        )
        for mid, name in names.items()
    ]
    return sorted(kpis, key=lambda k: (-k.revenue, k.name, k.manager_id))
