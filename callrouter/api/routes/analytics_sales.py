"""Sales reports: needs (expected volume), the deal funnel, and the summaries the workspace charts draw
(status distribution and moves, ABC x XYZ matrix, callback discipline trend).

Each takes ``as_of`` (default today, company timezone) and ``format=json|csv|xlsx``; a file holds every
row. Scoped by role: a manager sees their clients, a controller the team's, director and admin all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from callrouter.api.deps import CurrentUser, DbSession, container_of
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.exports import ExportFormat, export
from callrouter.api.pagination import Page, PageParams, Paging
from callrouter.api.routes.analytics import FILE_RESPONSES, AsOf, Format
from callrouter.api.routes.crud import CompanyToday
from callrouter.api.routes.missed_reports import visible_managers
from callrouter.api.schemas.analytics_sales import (
    FunnelRowRead,
    MatrixCellRead,
    NeedGroupRead,
    Report,
    StatusShareRead,
    StatusTransitionRead,
    TrendPointRead,
)
from callrouter.api.schemas.common import MAX_ID, LongName, Medium
from crm_core.analytics import summaries
from crm_core.analytics.callback_trend import TrendStep, callback_trend
from crm_core.analytics.funnel import FunnelGrouping, funnel_report
from crm_core.analytics.needs import NeedDimension, NeedFilter, needs_report
from crm_core.services import analytics_settings

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"], responses=ERROR_RESPONSES)
ReadT = TypeVar("ReadT", bound=BaseModel)
ManagerFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this manager's")]
Months = Annotated[int, Query(ge=1, le=60, description="Calendar months up to as_of's month")]


def _timezone(request: Request) -> str:
    return container_of(request).settings.company_timezone


def _rows(items: Sequence[object], read: type[ReadT]) -> list[ReadT]:
    return [read.model_validate(item) for item in items]


def _paged(rows: list[ReadT], read: type[ReadT], fmt: ExportFormat, paging: PageParams, filename: str) -> Any:
    """One page of ``rows`` as JSON, or every row as a CSV / XLSX file."""
    if fmt is not ExportFormat.JSON:
        return export(rows, read, fmt, filename)
    page = rows[paging.offset : paging.offset + paging.limit]
    return Page[read](items=page, total=len(rows), limit=paging.limit, offset=paging.offset)  # type: ignore[valid-type]


def _report(rows: list[ReadT], read: type[ReadT], fmt: ExportFormat, as_of: date, filename: str) -> Any:
    """Every row of a summary on ``as_of`` as JSON, or as a CSV / XLSX file."""
    if fmt is not ExportFormat.JSON:
        return export(rows, read, fmt, filename)
    return Report[read](items=rows, as_of=as_of)  # type: ignore[valid-type]


@router.get(
    "/needs",
    response_model=Page[NeedGroupRead],
    responses=FILE_RESPONSES,
    summary="Expected volume from needs (quantity x probability) by region, manager and/or product; csv/xlsx",
)
def needs(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    paging: Paging,
    today: CompanyToday,
    as_of: AsOf = None,
    by: Annotated[
        list[NeedDimension] | None,
        Query(description="Group by these (repeat the parameter); default region, manager and product"),
    ] = None,
    region: Annotated[Medium | None, Query()] = None,
    manager_id: ManagerFilter = None,
    product: Annotated[LongName | None, Query()] = None,
    fmt: Format = ExportFormat.JSON,
) -> Any:
    day = as_of or today
    groups = needs_report(
        session,
        user.viewer,
        day,
        _timezone(request),
        by or list(NeedDimension),
        NeedFilter(region, manager_id, product),
    )
    return _paged(_rows(groups, NeedGroupRead), NeedGroupRead, fmt, paging, f"needs-{day.isoformat()}")


@router.get(
    "/funnel",
    response_model=Page[FunnelRowRead],
    responses=FILE_RESPONSES,
    summary="Deals by stage per manager and creation month with stage-to-stage conversion; csv/xlsx",
)
def funnel(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    paging: Paging,
    today: CompanyToday,
    as_of: AsOf = None,
    months: Months = 12,
    per: Annotated[FunnelGrouping, Query(description="Rows per month and manager, or summed")] = (
        FunnelGrouping.MONTH_MANAGER
    ),
    manager_id: ManagerFilter = None,
    fmt: Format = ExportFormat.JSON,
) -> Any:
    day = as_of or today
    rows = funnel_report(session, user.viewer, day, _timezone(request), months, per, manager_id)
    return _paged(_rows(rows, FunnelRowRead), FunnelRowRead, fmt, paging, f"funnel-{day.isoformat()}")


@router.get(
    "/status-distribution",
    response_model=Report[StatusShareRead],
    responses=FILE_RESPONSES,
    summary="Your clients per status on a day (every status, zeros included); csv/xlsx",
)
def status_distribution(
    user: CurrentUser,
    session: DbSession,
    today: CompanyToday,
    as_of: AsOf = None,
    fmt: Format = ExportFormat.JSON,
) -> Any:
    day = as_of or today
    shares = summaries.status_distribution(session, user.viewer, day, analytics_settings.thresholds(session))
    return _report(_rows(shares, StatusShareRead), StatusShareRead, fmt, day, f"statuses-{day.isoformat()}")


@router.get(
    "/status-transitions",
    response_model=Report[StatusTransitionRead],
    responses=FILE_RESPONSES,
    summary="Status moves per month (from the status history) of your clients; csv/xlsx",
)
def status_transitions(
    user: CurrentUser,
    session: DbSession,
    today: CompanyToday,
    as_of: AsOf = None,
    months: Months = 12,
    fmt: Format = ExportFormat.JSON,
) -> Any:
    day = as_of or today
    moves = summaries.status_transitions(session, user.viewer, day, months)
    return _report(
        _rows(moves, StatusTransitionRead), StatusTransitionRead, fmt, day, f"status-moves-{day.isoformat()}"
    )


@router.get(
    "/abc-xyz",
    response_model=Report[MatrixCellRead],
    responses=FILE_RESPONSES,
    summary="ABC x XYZ matrix (12 whole months before as_of's month): clients and revenue per cell; csv/xlsx",
)
def abc_xyz(
    user: CurrentUser,
    session: DbSession,
    today: CompanyToday,
    as_of: AsOf = None,
    fmt: Format = ExportFormat.JSON,
) -> Any:
    day = as_of or today
    cells = summaries.abc_xyz_matrix(session, user.viewer, day, analytics_settings.thresholds(session))
    return _report(_rows(cells, MatrixCellRead), MatrixCellRead, fmt, day, f"abc-xyz-{day.isoformat()}")


@router.get(
    "/callback-trend",
    response_model=Report[TrendPointRead],
    responses=FILE_RESPONSES,
    summary="Callback rate, median / p90 time to callback and escalations per week or month; csv/xlsx",
)
def trend(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    today: CompanyToday,
    as_of: AsOf = None,
    step: TrendStep = TrendStep.WEEK,
    periods: Annotated[int, Query(ge=1, le=104, description="Weeks or months up to as_of")] = 12,
    fmt: Format = ExportFormat.JSON,
) -> Any:
    day = as_of or today
    managers = None if user.viewer.sees_all else visible_managers(session, user.viewer)
    points = callback_trend(session, day, _timezone(request), step, periods, managers)
    return _report(_rows(points, TrendPointRead), TrendPointRead, fmt, day, f"callbacks-{day.isoformat()}")
