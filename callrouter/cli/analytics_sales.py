"""``callrouter analytics needs`` and ``callrouter analytics funnel``: the sales reports on the command line
(every client and deal, as a director sees them; docs/analytics.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from callrouter.cli.analytics import AsOf, _fail, _print, _session
from crm_core.analytics.funnel import FunnelGrouping, funnel_report
from crm_core.analytics.needs import NeedDimension, NeedFilter, needs_report
from crm_core.models import ManagerRole
from crm_core.repositories.scoped import Viewer

ManagerId = Annotated[int | None, typer.Option(min=1, help="Only this manager's")]
EVERYTHING = Viewer(manager_id=0, role=ManagerRole.ADMIN)
"""The command line reads as an administrator: every client, every manager."""


def needs(
    by: Annotated[
        list[NeedDimension] | None,
        typer.Option(help="Group by region, manager and/or product (repeat; default: all three)"),
    ] = None,
    region: Annotated[str | None, typer.Option(help="Only this region")] = None,
    manager_id: ManagerId = None,
    product: Annotated[str | None, typer.Option(help="Only this product")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Groups to list")] = 30,
    as_of: AsOf = None,
) -> None:
    """Expected volume from needs (quantity x probability / 100), largest first."""
    dimensions = by or list(NeedDimension)
    where = NeedFilter(region, manager_id, product)
    with _session(as_of) as (session, tz, today):
        groups = needs_report(session, EVERYTHING, today, tz, dimensions, where)
    table = Table(
        *(d.value for d in dict.fromkeys(dimensions)),
        "needs",
        "quantity",
        "expected",
        title=f"Needs on {today}",
    )
    for g in groups[:limit]:
        keys = {"region": g.region or "-", "manager": g.manager_name or "-", "product": g.product or "-"}
        table.add_row(
            *(keys[d.value] for d in dict.fromkeys(dimensions)),
            str(g.needs),
            f"{g.quantity:,}",
            f"{g.expected_quantity:,}",
        )
    _print(table)
    _print(f"{len(groups)} groups")


def funnel(
    months: Annotated[
        int, typer.Option(min=1, max=60, help="Creation months up to the reference month")
    ] = 12,
    per: Annotated[FunnelGrouping, typer.Option(help="Rows per month and manager, or summed")] = (
        FunnelGrouping.MANAGER
    ),
    manager_id: ManagerId = None,
    as_of: AsOf = None,
) -> None:
    """Deals reached per stage and stage-to-stage conversion (deals created in the last MONTHS months)."""
    with _session(as_of) as (session, tz, today):
        try:
            rows = funnel_report(session, EVERYTHING, today, tz, months, per, manager_id)
        except ValueError as exc:
            raise _fail("bad period", exc) from exc
    table = Table("month", "manager", "stage", "deals", "conversion", title=f"Deal funnel on {today}")
    for row in rows:
        rate = "-" if row.conversion is None else f"{row.conversion:.0%}"
        manager = row.manager_name or (
            "(no manager)" if per in (FunnelGrouping.MANAGER, FunnelGrouping.MONTH_MANAGER) else "all"
        )
        table.add_row(row.month or "all", manager, row.stage.value, str(row.deals), rate)
    _print(table)
