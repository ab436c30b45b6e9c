"""The deal funnel: deals by stage per manager and month, with stage-to-stage conversion.

A deal belongs to the month it was **created** in (company timezone) and to its manager. It has
**reached** a stage of the path ``lead -> qualification -> proposal -> negotiation -> won`` when that stage
or a later one was entered up to the reference day (a skipped stage counts as passed; every deal has
reached ``lead``). A deal whose last stage on the reference day is ``lost`` counts in ``lost`` and keeps
the furthest stage it reached before. A deal without any stage history counts with its current stage.

**Conversion** of a stage = deals that reached it / deals that reached the stage before it, within one
month and manager; ``None`` for ``lead`` and when the stage before it is empty (no division by zero).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crm_core.analytics.period import Period
from crm_core.models import DealStageName
from crm_core.repositories import analytics_sales as queries
from crm_core.repositories.analytics_sales import DealPath
from crm_core.repositories.scoped import Viewer

PATH = (
    DealStageName.LEAD,
    DealStageName.QUALIFICATION,
    DealStageName.PROPOSAL,
    DealStageName.NEGOTIATION,
    DealStageName.WON,
)


class FunnelGrouping(enum.StrEnum):
    MONTH_MANAGER = "month_manager"
    MANAGER = "manager"
    MONTH = "month"
    TOTAL = "total"


@dataclass(frozen=True)
class FunnelRow:
    """Deals of a group that reached ``stage`` (``lost``: lost on the reference day) and the conversion."""

    month: str | None
    manager_id: int | None
    manager_name: str | None
    stage: DealStageName
    deals: int
    conversion: float | None


def furthest(stages: Sequence[DealStageName], stage_now: DealStageName) -> tuple[int, bool]:
    """The index in :data:`PATH` of the furthest stage reached and whether the deal ended lost.

    >>> furthest([DealStageName.LEAD, DealStageName.PROPOSAL, DealStageName.LOST], DealStageName.LOST)
    (2, True)
    >>> furthest([], DealStageName.NEGOTIATION)
    (3, False)
    >>> furthest([DealStageName.LOST], DealStageName.LOST)
    (0, True)
    """
    steps = list(stages) or [stage_now]
    reached = max((PATH.index(s) for s in steps if s in PATH), default=0)
    return reached, steps[-1] == DealStageName.LOST


def conversions(reached: Sequence[int]) -> list[float | None]:
    """Each stage's share of the stage before it (``None`` first and after an empty stage).

    >>> conversions([4, 2, 0, 0, 0])
    [None, 0.5, 0.0, None, None]
    """
    return [None] + [round(n / before, 4) if before else None for before, n in pairwise(reached)]


def _month(path: DealPath, tz: ZoneInfo) -> str:
    return path.created_at.astimezone(tz).strftime("%Y-%m")


def funnel_rows(
    paths: Iterable[DealPath], grouping: FunnelGrouping, timezone: str, names: dict[int, str]
) -> list[FunnelRow]:
    """Six rows per group (the five stages of :data:`PATH`, then ``lost``), groups by month then name."""
    tz = ZoneInfo(timezone)
    by_month = grouping in (FunnelGrouping.MONTH_MANAGER, FunnelGrouping.MONTH)
    by_manager = grouping in (FunnelGrouping.MONTH_MANAGER, FunnelGrouping.MANAGER)
    groups: dict[tuple[str | None, int | None], list[tuple[int, bool]]] = defaultdict(list)
    for path in paths:
        key = (_month(path, tz) if by_month else None, path.manager_id if by_manager else None)
        groups[key].append(furthest(path.stages, path.stage_now))
    rows: list[FunnelRow] = []
    order = sorted(groups, key=lambda k: (k[0] or "", k[1] is None, names.get(k[1] or 0, ""), k[1] or 0))
    for month, manager_id in order:
        deals = groups[(month, manager_id)]
        reached = [sum(1 for rank, _ in deals if rank >= i) for i in range(len(PATH))]
        name = names.get(manager_id) if manager_id is not None else None
        rows.extend(
            FunnelRow(month, manager_id, name, stage, n, rate)
            for stage, n, rate in zip(PATH, reached, conversions(reached), strict=True)
        )
        lost = sum(1 for _, is_lost in deals if is_lost)
        rows.append(FunnelRow(month, manager_id, name, DealStageName.LOST, lost, None))
    return rows


def cohort_period(as_of: date, months: int) -> Period:
    """The ``months`` calendar months ending with ``as_of``'s month, cut at ``as_of``.

    >>> cohort_period(date(2024, 3, 15), 3)
    Period(start=datetime.date(2024, 1, 1), end=datetime.date(2024, 3, 15))
    """
    if months < 1:
        raise ValueError(f"a funnel needs at least one month, got {months}")
    start = as_of.replace(day=1)
    for _ in range(months - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    return Period(start, as_of)


def funnel_report(
    session: Session,
    viewer: Viewer,
    as_of: date,
    timezone: str,
    months: int = 12,
    grouping: FunnelGrouping = FunnelGrouping.MONTH_MANAGER,
    manager_id: int | None = None,
) -> list[FunnelRow]:
    """The funnel of the deals created in the ``months`` months up to ``as_of`` that the viewer sees."""
    start, end = cohort_period(as_of, months).bounds(timezone)
    paths = queries.deal_paths(session, viewer, start, end, manager_id)
    names = queries.manager_names(session, [p.manager_id for p in paths])
    return funnel_rows(paths, grouping, timezone, names)
