"""Expected volume from client needs: ``quantity x probability / 100`` summed by region, manager, product.

A need counts from its creation (company timezone) up to the reference day; a need without a quantity
counts as a need of quantity 0. The manager and region are the client's (the need has none of its own).
Probability 0 expects nothing, probability 100 the whole quantity.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from crm_core.analytics.period import Period
from crm_core.repositories import analytics_sales as queries
from crm_core.repositories.analytics_sales import NeedFilter, NeedGroup
from crm_core.repositories.scoped import Viewer

__all__ = ["NeedDimension", "NeedFilter", "NeedGroup", "needs_report"]


class NeedDimension(enum.StrEnum):
    REGION = "region"
    MANAGER = "manager"
    PRODUCT = "product"


def needs_report(
    session: Session,
    viewer: Viewer,
    as_of: date,
    timezone: str,
    by: Sequence[NeedDimension],
    where: NeedFilter = NeedFilter(),
) -> list[NeedGroup]:
    """The viewer's needs up to ``as_of`` summed per ``by`` (in that order), largest expected volume first."""
    if not by:
        raise ValueError("group the needs by at least one of region, manager, product")
    dimensions = [d.value for d in dict.fromkeys(by)]
    _, before = Period(as_of, as_of).bounds(timezone)
    groups = queries.need_groups(session, viewer, before, dimensions, where)
    return sorted(
        groups,
        key=lambda g: (-g.expected_quantity, g.region or "", g.manager_name or "", g.product or ""),
    )
