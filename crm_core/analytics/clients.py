"""One line per client on a reference day: status, ABC, XYZ and RFM together (the director's client list).

* ``status``: the status the rule gives on ``as_of`` from the purchases up to that day, or the stored one
  while a person's pin holds on that day.
* ``abc``/``xyz``/``revenue``: over the 12 whole months before ``as_of``'s month (company-wide classes).
* ``rfm``: over the 365 days up to ``as_of``; ``None`` for a client without a purchase in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_core.analytics.abc_xyz import AbcClass, XyzClass, abc_xyz_report
from crm_core.analytics.period import Period
from crm_core.analytics.rfm import rfm_report
from crm_core.analytics.status import classify
from crm_core.models import ClientStatus
from crm_core.repositories import analytics as queries
from crm_core.services.analytics_settings import Thresholds


@dataclass(frozen=True, slots=True)
class ClientLine:
    """A client's analytics on the reference day."""

    counterparty_id: int
    name: str
    manager_id: int | None
    status: ClientStatus
    purchases: int
    last_purchase_on: date | None
    revenue: Decimal
    abc: AbcClass | None
    xyz: XyzClass | None
    rfm: str | None
    recency_days: int | None
    frequency: int | None
    monetary: Decimal | None


def status_on(summary: queries.ShipmentSummary, as_of: date, thresholds: Thresholds) -> ClientStatus:
    """The rule's status on ``as_of``, or the stored one while a person's pin holds on that day."""
    if summary.pinned and (summary.pinned_until is None or summary.pinned_until >= as_of):
        return summary.status
    return classify(summary.shipment_count, summary.last_shipped_on, as_of, thresholds.status)


def client_lines(session: Session, as_of: date, thresholds: Thresholds) -> list[ClientLine]:
    """Every counterparty's line on ``as_of``, by name."""
    abc = {
        row.counterparty_id: row
        for row in abc_xyz_report(
            session, Period.whole_months_before(as_of, 12), thresholds.abc, thresholds.xyz
        )
    }
    rfm = {s.counterparty_id: s for s in rfm_report(session, Period.last_days(365, as_of))}
    cards = queries.counterparty_cards(session)
    lines = []
    for summary in queries.shipment_summaries(session, as_of):
        cid = summary.counterparty_id
        status = status_on(summary, as_of, thresholds)
        name, manager_id = cards[cid]
        a, r = abc.get(cid), rfm.get(cid)
        lines.append(
            ClientLine(
                cid,
                name,
                manager_id,
                status,
                summary.shipment_count,
                summary.last_shipped_on,
                a.revenue if a else Decimal(0),
                a.abc if a else None,
                a.xyz if a else None,
                r.code if r else None,
                r.recency_days if r else None,
                r.frequency if r else None,
                r.monetary if r else None,
            )
        )
    return sorted(lines, key=lambda line: (line.name, line.counterparty_id))
