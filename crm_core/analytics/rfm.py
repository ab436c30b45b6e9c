"""RFM: recency, frequency and monetary scores 1-5 by fifths over a period.

For clients with a purchase within the period (``as_of`` = the period's last day):

* **R**ecency: days from the last purchase to ``as_of``; fewer days score higher.
* **F**requency: purchases (sale documents with a positive total; two lines of one document are one).
* **M**onetary: net revenue (sales minus returns).

Each measure ranks the ``n`` clients from worst to best; a client whose value has ``below`` clients worse
than it scores ``1 + floor(5 * below / n)``. Without ties each fifth of the clients gets one score.
**Tie rule:** equal values always share a score, and a group of equal values takes the score of the fifth
its first (worst-ranked) member falls in. So the worst value always scores 1 (every one-time buyer gets
F = 1 when they are the least frequent), a large tied group may leave the scores above its start unused,
and when every value is equal everyone scores 1.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_core.analytics.period import Period
from crm_core.repositories import analytics as queries
from crm_core.repositories.analytics import PurchaseHistory


def quintile_scores(values: Mapping[int, Decimal | int]) -> dict[int, int]:
    """Score 1-5 of every value, higher values scoring higher (tie rule: see the module docstring).

    >>> quintile_scores({1: 10, 2: 20, 3: 30, 4: 40, 5: 50})
    {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
    >>> quintile_scores({1: 7, 2: 7})
    {1: 1, 2: 1}
    >>> quintile_scores({1: 1, 2: 1, 3: 1, 4: 2, 5: 5})
    {1: 1, 2: 1, 3: 1, 4: 4, 5: 5}
    """
    ordered = sorted(values.values())
    n = len(ordered)
    return {key: 1 + (5 * bisect_left(ordered, value)) // n for key, value in values.items()}


@dataclass(frozen=True, slots=True)
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
    """RFM of every client with a purchase within ``period``, measured at its last day."""
    return rfm_scores(queries.purchase_histories(session, period), period.end)
