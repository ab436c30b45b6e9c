"""ABC (revenue share) and XYZ (revenue stability) classes of clients over a period.

**ABC.** Clients are ranked by revenue, highest first (ties by id). A client is ``A`` while the clients
ranked above it hold less than ``a_share`` (80 %) of the total, ``B`` while they hold less than ``b_share``
(80 + 15 = 95 %), else ``C``. So the top client is always ``A`` and A's revenue covers at least 80 %.
Clients with zero or negative revenue (returns) are ``C`` and do not count in the total.

**XYZ.** The coefficient of variation ``CV = population standard deviation / mean`` of the client's
monthly revenue over every month of the period (a month without shipments counts as 0):

=====  ===============================  =========================================
class  CV                               meaning
=====  ===============================  =========================================
``X``  ``CV <= 0.10``                   steady buyer, forecastable
``Y``  ``0.10 < CV <= 0.25``            seasonal or trending
``Z``  ``CV > 0.25`` or mean <= 0       irregular
=====  ===============================  =========================================

XYZ needs at least two months; for a shorter period the report gives ABC only.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_core.analytics.period import Period
from crm_core.repositories import analytics as queries


class AbcClass(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"


class XyzClass(enum.StrEnum):
    X = "X"
    Y = "Y"
    Z = "Z"


@dataclass(frozen=True)
class AbcThresholds:
    """Cumulative revenue shares closing class A and class B."""

    a_share: Decimal = Decimal("0.80")
    b_share: Decimal = Decimal("0.95")

    def __post_init__(self) -> None:
        if not Decimal(0) < self.a_share <= self.b_share <= Decimal(1):
            raise ValueError("ABC shares must satisfy 0 < a_share <= b_share <= 1")


@dataclass(frozen=True)
class XyzThresholds:
    """Upper coefficient-of-variation bounds of class X and class Y."""

    x_cv: Decimal = Decimal("0.10")
    y_cv: Decimal = Decimal("0.25")

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.x_cv <= self.y_cv:
            raise ValueError("XYZ bounds must satisfy 0 <= x_cv <= y_cv")


def abc_classes(
    revenue: Mapping[int, Decimal], thresholds: AbcThresholds = AbcThresholds()
) -> dict[int, AbcClass]:
    """The ABC class of every client in ``revenue`` (client id -> revenue).

    >>> abc_classes({1: Decimal(70), 2: Decimal(20), 3: Decimal(6), 4: Decimal(4)})
    {1: <AbcClass.A: 'A'>, 2: <AbcClass.A: 'A'>, 3: <AbcClass.B: 'B'>, 4: <AbcClass.C: 'C'>}
    """
    total = sum((r for r in revenue.values() if r > 0), Decimal(0))
    classes: dict[int, AbcClass] = {}
    above = Decimal(0)
    for cid, amount in sorted(revenue.items(), key=lambda item: (-item[1], item[0])):
        if amount <= 0:
            classes[cid] = AbcClass.C
            continue
        share_above = above / total
        if share_above < thresholds.a_share:
            classes[cid] = AbcClass.A
        elif share_above < thresholds.b_share:
            classes[cid] = AbcClass.B
        else:
            classes[cid] = AbcClass.C
        above += amount
    return classes


def coefficient_of_variation(monthly: Sequence[Decimal]) -> Decimal | None:
    """Population standard deviation over mean; ``None`` when the mean is not positive.

    >>> coefficient_of_variation([Decimal(90), Decimal(110)])
    Decimal('0.1')
    """
    if len(monthly) < 2:
        raise ValueError(f"XYZ needs at least two months of revenue, got {len(monthly)}")
    mean = sum(monthly, Decimal(0)) / len(monthly)
    if mean <= 0:
        return None
    variance = sum(((x - mean) ** 2 for x in monthly), Decimal(0)) / len(monthly)
    return variance.sqrt() / mean


def xyz_class(cv: Decimal | None, thresholds: XyzThresholds = XyzThresholds()) -> XyzClass:
    """The XYZ class of a coefficient of variation (``None``: no positive revenue, so ``Z``)."""
    if cv is None or cv > thresholds.y_cv:
        return XyzClass.Z
    return XyzClass.X if cv <= thresholds.x_cv else XyzClass.Y


@dataclass(frozen=True, slots=True)
class AbcXyzRow:
    """One client's line of the ABC/XYZ report (``cv``/``xyz`` are ``None`` for a one-month period)."""

    counterparty_id: int
    name: str
    revenue: Decimal
    abc: AbcClass
    cv: Decimal | None
    xyz: XyzClass | None


def abc_xyz_report(
    session: Session,
    period: Period,
    abc: AbcThresholds = AbcThresholds(),
    xyz: XyzThresholds = XyzThresholds(),
) -> list[AbcXyzRow]:
    """ABC and XYZ of every client that shipped within ``period``, highest revenue first."""
    by_month = queries.monthly_revenue(session, period)
    months = period.months()
    revenue = {cid: sum(m.values(), Decimal(0)) for cid, m in by_month.items()}
    classes = abc_classes(revenue, abc)
    names = queries.counterparty_names(session, list(revenue))
    rows = []
    for cid, amount in sorted(revenue.items(), key=lambda item: (-item[1], item[0])):
        cv = xyz_cls = None
        if len(months) >= 2:
            cv = coefficient_of_variation([by_month[cid].get(m, Decimal(0)) for m in months])
            xyz_cls = xyz_class(cv, xyz)
        rows.append(AbcXyzRow(cid, names[cid], amount, classes[cid], cv, xyz_cls))
    return rows
