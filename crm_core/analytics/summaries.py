"""Company-level summaries for the director's charts: status distribution, month-to-month status moves and
the ABC x XYZ matrix, each on a reference day and restricted to the clients the viewer sees."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_core.analytics.abc_xyz import AbcClass, XyzClass, abc_xyz_report
from crm_core.analytics.clients import status_on
from crm_core.analytics.funnel import cohort_period
from crm_core.analytics.period import Period
from crm_core.models import ClientStatus
from crm_core.repositories import analytics as queries
from crm_core.repositories import analytics_sales as sales_queries
from crm_core.repositories.scoped import Viewer, visible_counterparty_ids
from crm_core.services.analytics_settings import Thresholds


def _visible(session: Session, viewer: Viewer) -> set[int] | None:
    """The counterparty ids the viewer sees, ``None`` for everybody's."""
    return None if viewer.sees_all else set(session.scalars(visible_counterparty_ids(viewer)))


@dataclass(frozen=True)
class StatusShare:
    """How many of the viewer's clients have ``status`` on the reference day, and their share."""

    status: ClientStatus
    clients: int
    share: float | None


def status_distribution(
    session: Session, viewer: Viewer, as_of: date, thresholds: Thresholds
) -> list[StatusShare]:
    """Every status (zero counts included) on ``as_of``, by the same rule and pins as the client list."""
    visible = _visible(session, viewer)
    counts = Counter(
        status_on(summary, as_of, thresholds)
        for summary in queries.shipment_summaries(session, as_of)
        if visible is None or summary.counterparty_id in visible
    )
    total = sum(counts.values())
    return [
        StatusShare(status, counts[status], round(counts[status] / total, 4) if total else None)
        for status in ClientStatus
    ]


@dataclass(frozen=True)
class StatusTransition:
    """Clients that moved ``from_status`` -> ``to_status`` in ``month`` (``YYYY-MM``)."""

    month: str
    from_status: ClientStatus
    to_status: ClientStatus
    clients: int


def status_transitions(session: Session, viewer: Viewer, as_of: date, months: int) -> list[StatusTransition]:
    """The moves kept in the status history in the ``months`` months up to ``as_of`` (that day included)."""
    period = cohort_period(as_of, months)
    return [
        StatusTransition(f"{m.year:04d}-{m.month:02d}", m.from_status, m.to_status, m.clients)
        for m in sales_queries.status_moves(session, viewer, period.start, period.end)
    ]


@dataclass(frozen=True)
class MatrixCell:
    """One cell of the ABC x XYZ matrix: its clients and their revenue."""

    abc: AbcClass
    xyz: XyzClass
    clients: int
    revenue: Decimal


def abc_xyz_matrix(session: Session, viewer: Viewer, as_of: date, thresholds: Thresholds) -> list[MatrixCell]:
    """Nine cells (A..C x X..Z) over the 12 whole months before ``as_of``'s month, classes computed
    company-wide as in the client list, counted over the viewer's clients."""
    visible = _visible(session, viewer)
    period = Period.whole_months_before(as_of, 12)
    clients: Counter[tuple[AbcClass, XyzClass]] = Counter()
    revenue: dict[tuple[AbcClass, XyzClass], Decimal] = {}
    for row in abc_xyz_report(session, period, thresholds.abc, thresholds.xyz):
        if row.xyz is None or (visible is not None and row.counterparty_id not in visible):
            continue
        clients[(row.abc, row.xyz)] += 1
        revenue[(row.abc, row.xyz)] = revenue.get((row.abc, row.xyz), Decimal(0)) + row.revenue
    return [
        MatrixCell(a, x, clients[(a, x)], revenue.get((a, x), Decimal(0))) for a in AbcClass for x in XyzClass
    ]
