"""Notification groups for escalation steps (``group:<name>``): read (admin, director), change (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from callrouter.api.deps import AdminUser, DbSession, ManagementUser
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.schemas.common import Id, WriteModel
from crm_core.services import notification_groups

router = APIRouter(
    prefix="/api/v1/notification-groups", tags=["escalation policy"], responses=ERROR_RESPONSES
)

GroupName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]


class GroupMembers(WriteModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"member_ids": [3, 4]}]})

    member_ids: list[Id] = Field(max_length=500, description="The managers the group notifies")


class GroupRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [{"name": "sales-leads", "member_ids": [3, 4]}]}
    )

    name: str
    member_ids: list[int]


@router.get("", summary="Every notification group with its members (admin, director)")
def list_groups(_user: ManagementUser, session: DbSession) -> list[GroupRead]:
    return [
        GroupRead(name=g.name, member_ids=list(g.member_ids))
        for g in notification_groups.list_groups(session)
    ]


@router.put("/{name}", summary="Create a group or replace its members (admin; audited)")
def put_group(name: GroupName, body: GroupMembers, user: AdminUser, session: DbSession) -> GroupRead:
    group = notification_groups.put_group(session, user.viewer, name, body.member_ids)
    return GroupRead(name=group.name, member_ids=list(group.member_ids))


@router.delete(
    "/{name}",
    summary="Remove a group the escalation policy does not name (admin; audited)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def delete_group(name: GroupName, user: AdminUser, session: DbSession) -> Response:
    notification_groups.delete_group(session, user.viewer, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
