"""The caller's in-app notifications (missed calls to call back, escalations) and marking them read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from callrouter.api.deps import CurrentUser, DbSession
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.schemas.common import ItemId, ReadModel
from crm_core.services import notification_outbox
from crm_core.services.errors import NotFound

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses=ERROR_RESPONSES)


class InAppNotificationRead(ReadModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "missed_call_id": 12,
                    "title": "Missed call from ACME LLC",
                    "body": "+79001234567 called at 10:42 (5 min ago), nobody answered. Call back.",
                    "read": False,
                    "created_at": "2026-11-28T10:47:00Z",
                }
            ]
        },
    )

    id: int
    missed_call_id: int | None
    title: str
    body: str
    read: bool
    created_at: datetime


class NotificationList(BaseModel):
    """My notifications (newest first) and how many of all of mine are unread."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [], "unread": 3}]})

    items: list[InAppNotificationRead]
    unread: int = Field(description="Unread notifications in total (not only on this list)")


class ReadAllResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"marked": 3, "unread": 0}]})

    marked: int = Field(description="How many were unread")
    unread: int


@router.get("", summary="My in-app notifications, newest first, with the unread count")
def list_notifications(
    user: CurrentUser,
    session: DbSession,
    unread: Annotated[bool, Query(description="Only the unread ones")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NotificationList:
    rows = notification_outbox.list_inapp(session, user.manager_id, unread_only=unread, limit=limit)
    return NotificationList(
        items=[InAppNotificationRead.model_validate(row) for row in rows],
        unread=notification_outbox.unread_count(session, user.manager_id),
    )


@router.post("/read-all", summary="Mark all my notifications read")
def mark_all_read(user: CurrentUser, session: DbSession) -> ReadAllResult:
    marked = notification_outbox.mark_all_read(session, user.manager_id)
    return ReadAllResult(marked=marked, unread=notification_outbox.unread_count(session, user.manager_id))


@router.post(
    "/{notification_id}/read",
    summary="Mark one of my notifications read",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def mark_read(notification_id: ItemId, user: CurrentUser, session: DbSession) -> Response:
    if not notification_outbox.mark_inapp_read(session, user.manager_id, notification_id):
        raise NotFound("no-such-notification", {"id": notification_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
