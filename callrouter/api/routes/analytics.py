"""Analytics: the thresholds every report applies (admin writes, audited; management reads), the client
status history, and a status set by hand (pinned against the daily recompute)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from callrouter.api.deps import AdminUser, CurrentUser, DbSession, ManagementUser, SupervisorUser
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.exports import XLSX_TYPE, ExportFormat, export
from callrouter.api.pagination import Page, Paging, page_of
from callrouter.api.routes.crud import CompanyToday
from callrouter.api.schemas.analytics import (
    AnalyticsSettingsPatch,
    AnalyticsSettingsRead,
    ClientAnalyticsRead,
)
from callrouter.api.schemas.client_status import StatusChangeRead, StatusPin
from callrouter.api.schemas.common import MAX_ID, ItemId
from callrouter.api.schemas.counterparties import CounterpartyRead
from crm_core.analytics.abc_xyz import AbcClass, XyzClass
from crm_core.analytics.clients import client_lines
from crm_core.models import ClientStatus, Counterparty
from crm_core.repositories.scoped import get_visible, visible_counterparty_ids
from crm_core.services import analytics_settings, client_status

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"], responses=ERROR_RESPONSES)
pins = APIRouter(prefix="/api/v1/counterparties", tags=["analytics"], responses=ERROR_RESPONSES)
AsOf = Annotated[date | None, Query(description="Reference day (default: today, company timezone)")]
Format = Annotated[
    ExportFormat, Query(alias="format", description="json: one page; csv / xlsx: every matching row")
]
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, XLSX_TYPE: {}}, "description": "A page, or the CSV / XLSX file"}
}


@router.get(
    "/clients",
    response_model=Page[ClientAnalyticsRead],
    responses=FILE_RESPONSES,
    summary="Your clients on a day: status, purchases, ABC/XYZ (12 whole months), RFM (365 days); csv/xlsx",
)
def clients(
    user: CurrentUser,
    session: DbSession,
    paging: Paging,
    today: CompanyToday,
    as_of: AsOf = None,
    status_: Annotated[ClientStatus | None, Query(alias="status")] = None,
    abc: AbcClass | None = None,
    xyz: XyzClass | None = None,
    manager_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    fmt: Format = ExportFormat.JSON,
) -> Any:
    day = as_of or today
    lines = client_lines(session, day, analytics_settings.thresholds(session))
    visible = None if user.viewer.sees_all else set(session.scalars(visible_counterparty_ids(user.viewer)))
    matching = [
        line
        for line in lines
        if (visible is None or line.counterparty_id in visible)
        and (status_ is None or line.status == status_)
        and (abc is None or line.abc == abc)
        and (xyz is None or line.xyz == xyz)
        and (manager_id is None or line.manager_id == manager_id)
    ]
    if fmt is not ExportFormat.JSON:  # models made one at a time while the file streams
        rows = (ClientAnalyticsRead.model_validate(line) for line in matching)
        return export(rows, ClientAnalyticsRead, fmt, f"clients-{day.isoformat()}")
    page = [
        ClientAnalyticsRead.model_validate(line)
        for line in matching[paging.offset : paging.offset + paging.limit]
    ]
    return Page[ClientAnalyticsRead](
        items=page, total=len(matching), limit=paging.limit, offset=paging.offset
    )


@router.get("/settings", summary="Status windows, ABC shares and XYZ bounds in force (admin, director)")
def get_settings(_user: ManagementUser, session: DbSession) -> AnalyticsSettingsRead:
    return AnalyticsSettingsRead.model_validate(analytics_settings.current_settings(session))


@router.patch(
    "/settings", summary="Change analytics thresholds (admin; audited; 422 invalid-analytics-settings)"
)
def patch_settings(
    body: AnalyticsSettingsPatch, user: AdminUser, session: DbSession
) -> AnalyticsSettingsRead:
    values = body.model_dump(exclude_unset=True)
    return AnalyticsSettingsRead.model_validate(
        analytics_settings.update_settings(session, user.viewer, values)
    )


@router.get(
    "/status-history", summary="Client status changes you may see, newest first (recompute or manual)"
)
def status_history(
    user: CurrentUser,
    session: DbSession,
    paging: Paging,
    counterparty_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Annotated[date | None, Query(description="Changes on or after this day")] = None,
    until: Annotated[date | None, Query(description="Changes on or before this day")] = None,
) -> Page[StatusChangeRead]:
    stmt = client_status.history_query(user.viewer, counterparty_id, since, until)
    return page_of(session, stmt, paging, StatusChangeRead)


@pins.put(
    "/{counterparty_id}/status-pin",
    summary="Set a client's status by hand and pin it against the recompute (controller and above; "
    "audited); returns the card",
)
def pin_status(
    counterparty_id: ItemId, body: StatusPin, user: SupervisorUser, session: DbSession, today: CompanyToday
) -> CounterpartyRead:
    card = get_visible(session, user.viewer, Counterparty, counterparty_id)
    client_status.pin_status(session, user.viewer, card, body.status, body.reason, today, body.pinned_until)
    return CounterpartyRead.model_validate(card)


@pins.delete(
    "/{counterparty_id}/status-pin",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Clear a status pin: the next recompute sets the status (controller and above; audited)",
)
def clear_pin(counterparty_id: ItemId, user: SupervisorUser, session: DbSession) -> None:
    client_status.clear_pin(
        session, user.viewer, get_visible(session, user.viewer, Counterparty, counterparty_id)
    )
