"""Managers: list and read within scope, create (admin), update under allow-lists, passwords."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from callrouter.api.deps import AdminUser, CurrentUser, DbSession, Invalidations, container_of
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.pagination import Page, Paging, page_of
from callrouter.api.schemas.common import MAX_ID
from callrouter.api.schemas.managers import ManagerCreate, ManagerRead, ManagerUpdate, PasswordChange
from crm_core.models import Manager, ManagerRole
from crm_core.repositories.scoped import get_visible, scoped
from crm_core.services import staff

router = APIRouter(prefix="/api/v1/managers", tags=["managers"], responses=ERROR_RESPONSES)
ManagerId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", summary="Managers you can see (yourself; a controller's team; everyone for director/admin)")
def list_managers(
    user: CurrentUser,
    session: DbSession,
    paging: Paging,
    role: Annotated[ManagerRole | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
    controller_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Page[ManagerRead]:
    stmt = scoped(user.viewer, Manager).order_by(Manager.id)
    if role is not None:
        stmt = stmt.where(Manager.role == role)
    if active is not None:
        stmt = stmt.where(Manager.active == active)
    if controller_id is not None:
        stmt = stmt.where(Manager.controller_id == controller_id)
    return page_of(session, stmt, paging, ManagerRead)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a staff account (admin only)")
def create_manager(
    request: Request, body: ManagerCreate, user: AdminUser, session: DbSession, after: Invalidations
) -> ManagerRead:
    values = body.model_dump(exclude={"password"})
    pbxs = container_of(request).settings.pbx_names
    created = staff.create(session, user.viewer, values, body.password, pbxs=pbxs)
    after.invalidate_config()
    return ManagerRead.model_validate(created)


@router.get("/{manager_id}", summary="One manager")
def get_manager(manager_id: ManagerId, user: CurrentUser, session: DbSession) -> ManagerRead:
    return ManagerRead.model_validate(get_visible(session, user.viewer, Manager, manager_id))


@router.patch(
    "/{manager_id}",
    summary="Update a manager: yourself name/email/mobile; supervisors availability; admin everything",
)
def update_manager(
    request: Request,
    manager_id: ManagerId,
    body: ManagerUpdate,
    user: CurrentUser,
    session: DbSession,
    after: Invalidations,
) -> ManagerRead:
    target = get_visible(session, user.viewer, Manager, manager_id)
    values = body.model_dump(exclude_unset=True)
    pbxs = container_of(request).settings.pbx_names
    updated = staff.update(session, user.viewer, target, values, pbxs=pbxs)
    after.invalidate_config()  # dial target, hours, leave and active status are routing configuration
    return ManagerRead.model_validate(updated)


@router.post("/{manager_id}/password", status_code=status.HTTP_204_NO_CONTENT, summary="Set a password")
def set_password(manager_id: ManagerId, body: PasswordChange, user: CurrentUser, session: DbSession) -> None:
    target = get_visible(session, user.viewer, Manager, manager_id)
    staff.set_password(session, user.viewer, target, body.new_password, body.current_password)
