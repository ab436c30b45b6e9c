"""Routing administration: named targets, the routing settings, holidays.

Admin writes, director reads. Every write is audited (before/after) and, once committed, invalidates the
routing configuration cache (here, in Redis and in every instance), so the next call sees it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from callrouter.api.deps import AdminUser, DbSession, Invalidations, ManagementUser
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.pagination import Page, Paging, page_of
from callrouter.api.schemas.common import ItemId
from callrouter.api.schemas.routing_admin import (
    HolidayCreate,
    HolidayRead,
    RoutingSettingsPatch,
    RoutingSettingsPut,
    RoutingSettingsRead,
    RoutingTargetCreate,
    RoutingTargetRead,
    RoutingTargetUpdate,
)
from crm_core.models.routing_config import Holiday, RoutingTarget
from crm_core.services import routing_admin

router = APIRouter(prefix="/api/v1/routing", tags=["routing administration"], responses=ERROR_RESPONSES)
FIRST, LAST = date(2000, 1, 1), date(2200, 12, 31)


# targets ----------------------------------------------------------------------------------------------


@router.get("/targets", summary="Named dial strings with ring timeouts (admin, director)")
def list_targets(_user: ManagementUser, session: DbSession, paging: Paging) -> Page[RoutingTargetRead]:
    return page_of(session, select(RoutingTarget).order_by(RoutingTarget.id), paging, RoutingTargetRead)


@router.post("/targets", status_code=status.HTTP_201_CREATED, summary="Add a routing target (admin; audited)")
def create_target(
    body: RoutingTargetCreate, user: AdminUser, session: DbSession, after: Invalidations
) -> RoutingTargetRead:
    target = routing_admin.create_target(session, user.viewer, body.model_dump())
    after.invalidate_config()
    return RoutingTargetRead.model_validate(target)


@router.get("/targets/{target_id}", summary="One routing target (admin, director)")
def get_target(target_id: ItemId, _user: ManagementUser, session: DbSession) -> RoutingTargetRead:
    return RoutingTargetRead.model_validate(routing_admin.get_target(session, target_id))


@router.patch(
    "/targets/{target_id}", summary="Change a target's name, dial string or timeout (admin; next call)"
)
def update_target(
    target_id: ItemId, body: RoutingTargetUpdate, user: AdminUser, session: DbSession, after: Invalidations
) -> RoutingTargetRead:
    target = routing_admin.get_target(session, target_id)
    routing_admin.update_target(session, user.viewer, target, body.model_dump(exclude_unset=True))
    after.invalidate_config()
    return RoutingTargetRead.model_validate(target)


@router.delete(
    "/targets/{target_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a target the settings do not use (admin; 409 routing-target-in-use otherwise)",
)
def delete_target(target_id: ItemId, user: AdminUser, session: DbSession, after: Invalidations) -> None:
    routing_admin.delete_target(session, user.viewer, routing_admin.get_target(session, target_id))
    after.invalidate_config()


# settings ---------------------------------------------------------------------------------------------


@router.get(
    "/settings", summary="Business hours, routes, reject treatment, fallbacks, TTLs (admin, director)"
)
def get_settings(_user: ManagementUser, session: DbSession) -> RoutingSettingsRead:
    return RoutingSettingsRead.model_validate(routing_admin.current_settings(session))


@router.put("/settings", summary="Replace the routing settings (admin; audited; applies to the next call)")
def put_settings(
    body: RoutingSettingsPut, user: AdminUser, session: DbSession, after: Invalidations
) -> RoutingSettingsRead:
    row = routing_admin.update_settings(session, user.viewer, body.model_dump())
    after.invalidate_config()
    return RoutingSettingsRead.model_validate(row)


@router.patch("/settings", summary="Change some routing settings (admin; audited; applies to the next call)")
def patch_settings(
    body: RoutingSettingsPatch, user: AdminUser, session: DbSession, after: Invalidations
) -> RoutingSettingsRead:
    row = routing_admin.update_settings(session, user.viewer, body.model_dump(exclude_unset=True))
    after.invalidate_config()
    return RoutingSettingsRead.model_validate(row)


# holidays ---------------------------------------------------------------------------------------------


@router.get("/holidays", summary="Company holidays, optionally within [from, to] (admin, director)")
def list_holidays(
    _user: ManagementUser,
    session: DbSession,
    paging: Paging,
    from_: Annotated[date | None, Query(alias="from", ge=FIRST, le=LAST)] = None,
    to: Annotated[date | None, Query(ge=FIRST, le=LAST)] = None,
) -> Page[HolidayRead]:
    stmt = select(Holiday).order_by(Holiday.day)
    if from_ is not None:
        stmt = stmt.where(Holiday.day >= from_)
    if to is not None:
        stmt = stmt.where(Holiday.day <= to)
    return page_of(session, stmt, paging, HolidayRead)


@router.post("/holidays", status_code=status.HTTP_201_CREATED, summary="Add a holiday (admin; audited)")
def create_holiday(
    body: HolidayCreate, user: AdminUser, session: DbSession, after: Invalidations
) -> HolidayRead:
    holiday = routing_admin.create_holiday(session, user.viewer, body.model_dump())
    after.invalidate_config()
    return HolidayRead.model_validate(holiday)


@router.delete(
    "/holidays/{holiday_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a holiday (admin)"
)
def delete_holiday(holiday_id: ItemId, user: AdminUser, session: DbSession, after: Invalidations) -> None:
    routing_admin.delete_holiday(session, user.viewer, routing_admin.get_holiday(session, holiday_id))
    after.invalidate_config()
