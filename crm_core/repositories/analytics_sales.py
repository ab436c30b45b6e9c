"""Queries for the sales reports: needs, deal stage paths and status moves; portable across both backends.

Every query is restricted to what the viewer may see through :func:`~crm_core.repositories.scoped.scoped`
(a manager: their clients; a controller: their team's; director and admin: all) and reads nothing after
the reference instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, extract, func, select
from sqlalchemy.orm import Session

from crm_core.models import ClientStatus, Counterparty, Deal, DealStage, DealStageName, Manager, Need
from crm_core.models.client_status import ClientStatusChange
from crm_core.repositories.scoped import Viewer, scoped, visible_counterparty_ids

NEED_DIMENSIONS = ("region", "manager", "product")
_NEED_COLUMNS = {
    "region": Counterparty.region,
    "manager": Counterparty.manager_id,
    "product": Need.product,
}


@dataclass(frozen=True)
class NeedFilter:
    """Optional filters of the needs report (exact matches)."""

    region: str | None = None
    manager_id: int | None = None
    product: str | None = None


@dataclass(frozen=True)
class NeedGroup:
    """Needs of one group: ``None`` in a dimension not grouped by (or a client without region/manager)."""

    region: str | None
    manager_id: int | None
    manager_name: str | None
    product: str | None
    needs: int
    quantity: Decimal
    expected_quantity: Decimal


_QUANTITY = Decimal("0.001")


def _exact(value: object) -> Decimal:
    """A summed number as an exact three-place decimal (SQLite sums numerics as floats)."""
    return Decimal(str(value or 0)).quantize(_QUANTITY)


def need_groups(
    session: Session, viewer: Viewer, before: datetime, dimensions: Sequence[str], where: NeedFilter
) -> list[NeedGroup]:
    """Needs created before ``before`` of the clients the viewer sees, summed per ``dimensions``.

    ``quantity`` sums the stated quantities (a need without one adds 0); ``expected_quantity`` sums
    ``quantity x probability / 100``.
    """
    quantity = func.coalesce(Need.quantity, 0)
    keys = [_NEED_COLUMNS[d].label(d) for d in dimensions]
    filters: list[ColumnElement[bool]] = [Need.created_at < before]
    if where.region is not None:
        filters.append(Counterparty.region == where.region)
    if where.manager_id is not None:
        filters.append(Counterparty.manager_id == where.manager_id)
    if where.product is not None:
        filters.append(Need.product == where.product)
    stmt = (
        scoped(viewer, Need)
        .with_only_columns(*keys, func.count(), func.sum(quantity), func.sum(quantity * Need.probability))
        .select_from(Need)
        .join(Counterparty, Counterparty.id == Need.counterparty_id)
        .where(*filters)
        .group_by(*keys)
    )
    rows = session.execute(stmt).all()
    names = manager_names(session, [r._mapping["manager"] for r in rows if "manager" in dimensions])
    groups = []
    for row in rows:
        key: dict[str, Any] = dict(zip(dimensions, row[: len(dimensions)], strict=True))
        count, total, weighted = cast(tuple[int, Any, Any], tuple(row[len(dimensions) :]))
        manager_id: int | None = key.get("manager")
        groups.append(
            NeedGroup(
                region=key.get("region"),
                manager_id=manager_id,
                manager_name=names.get(manager_id) if manager_id is not None else None,
                product=key.get("product"),
                needs=count,
                quantity=_exact(total),
                expected_quantity=(_exact(weighted) / 100).quantize(_QUANTITY),
            )
        )
    return groups


def manager_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    """Names of the managers ``ids`` (any state)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    stmt = select(Manager.id, Manager.name).where(Manager.id.in_(wanted))
    return {mid: name for mid, name in session.execute(stmt)}


@dataclass(frozen=True)
class DealPath:
    """A deal and the stages it entered up to the reference instant, in order."""

    deal_id: int
    manager_id: int | None
    created_at: datetime
    stage_now: DealStageName
    stages: tuple[DealStageName, ...]


def deal_paths(
    session: Session, viewer: Viewer, start: datetime, end: datetime, manager_id: int | None
) -> list[DealPath]:
    """Deals created in ``[start, end)`` that the viewer sees (the deals of their clients), with the stages
    entered before ``end``."""
    filters = [Deal.created_at >= start, Deal.created_at < end]
    if manager_id is not None:
        filters.append(Deal.manager_id == manager_id)
    visible = scoped(viewer, Deal).where(*filters)
    deals = session.execute(
        visible.with_only_columns(Deal.id, Deal.manager_id, Deal.created_at, Deal.stage).order_by(Deal.id)
    ).all()
    history: dict[int, list[DealStageName]] = {}
    if deals:
        ids = visible.with_only_columns(Deal.id).scalar_subquery()
        steps = session.execute(
            select(DealStage.deal_id, DealStage.stage)
            .where(DealStage.deal_id.in_(ids), DealStage.entered_at < end)
            .order_by(DealStage.deal_id, DealStage.entered_at, DealStage.id)
        )
        for deal_id, stage in steps:
            history.setdefault(deal_id, []).append(stage)
    return [
        DealPath(deal_id, mid, created, stage, tuple(history.get(deal_id, ())))
        for deal_id, mid, created, stage in deals
    ]


@dataclass(frozen=True)
class StatusMoves:
    """How many clients moved ``from_status`` -> ``to_status`` in a month."""

    year: int
    month: int
    from_status: ClientStatus
    to_status: ClientStatus
    clients: int


def status_moves(session: Session, viewer: Viewer, since: date, until: date) -> list[StatusMoves]:
    """Status moves (recompute and manual) dated ``since`` .. ``until`` of the clients the viewer sees,
    counted per month and ``(from, to)``; a client moving twice the same way in a month counts twice."""
    year = extract("year", ClientStatusChange.day)
    month = extract("month", ClientStatusChange.day)
    visible = visible_counterparty_ids(viewer)
    stmt = (
        select(year, month, ClientStatusChange.from_status, ClientStatusChange.to_status, func.count())
        .where(
            ClientStatusChange.day.between(since, until),
            ClientStatusChange.counterparty_id.in_(visible),
        )
        .group_by(year, month, ClientStatusChange.from_status, ClientStatusChange.to_status)
    )
    moves = [StatusMoves(int(y), int(m), old, new, n) for y, m, old, new, n in session.execute(stmt)]
    return sorted(moves, key=lambda s: (s.year, s.month, s.from_status, s.to_status))
