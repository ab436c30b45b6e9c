"""RFM: recency, frequency and monetary scores 1-5 by quintiles over a period.

For clients that shipped within the period (``as_of`` = the period's last day):

* **R**ecency: days from the last shipment to ``as_of``; fewer days score higher.
* **F**requency: distinct shipping days (one order may span several shipment lines).
* **M**onetary: revenue.

Each measure is scored by its mid-rank percentile ``p = (worse + equal / 2) / n`` among the ``n`` clients:
``score = 1 + floor(5 p)``, so each fifth of the clients gets one score, equal values always share a score,
and when all values are equal everyone scores 3.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_core.analytics.period import Period
from crm_core.repositories import analytics as queries
from crm_core.repositories.analytics import PurchaseHistory


def quintile_scores(values: Mapping[int, Decimal | int]) -> dict[int, int]:
    """Score 1-5 of every value, higher values scoring higher.

    >>> quintile_scores({1: 10, 2: 20, 3: 30, 4: 40, 5: 50})
    {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
    >>> quintile_scores({1: 7, 2: 7})
    {1: 3, 2: 3}
    """
    ordered = sorted(values.values())
    n = len(ordered)
    scores = {}
    for key, value in values.items():
        below = bisect_left(ordered, value)
        equal = bisect_right(ordered, value) - below
        scores[key] = 1 + (5 * (2 * below + equal)) // (2 * n)
    return scores


@dataclass(frozen=True)
class RfmScore:
    """A client's RFM measures and scores; ``code`` reads like ``"545"``."""

    counterparty_id: int
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int

    @property
    def code(self) -> str:
        return f"{self.r}{self.f}{self.m}"


def rfm_scores(histories: Sequence[PurchaseHistory], as_of: date) -> list[RfmScore]:
    """RFM of every history, best (highest R, F, M) first."""
    recency = {h.counterparty_id: (as_of - h.last_shipped_on).days for h in histories}
    r = quintile_scores({cid: -days for cid, days in recency.items()})
    f = quintile_scores({h.counterparty_id: h.order_days for h in histories})
    m = quintile_scores({h.counterparty_id: h.revenue for h in histories})
    scores = []
    for h in histories:
        cid = h.counterparty_id
        scores.append(RfmScore(cid, recency[cid], h.order_days, h.revenue, r[cid], f[cid], m[cid]))
    return sorted(scores, key=lambda s: (-s.r, -s.f, -s.m, s.counterparty_id))


def rfm_report(session: Session, period: Period) -> list[RfmScore]:
    """RFM of every client that shipped within ``period``, measured at its last day."""
    return rfm_scores(queries.purchase_histories(session, period), period.end)
