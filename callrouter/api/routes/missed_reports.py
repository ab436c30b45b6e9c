"""Callback discipline reports: missed calls per manager and period, and the open ones with their age.

A manager sees their own row, a controller their team's, a director or admin everyone's (and the calls
nobody was assigned).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from callrouter.api.deps import CurrentUser, DbSession
from callrouter.api.errors import ERROR_RESPONSES
from crm_core.models import Manager, utcnow
from crm_core.repositories.scoped import Viewer, scoped
from crm_core.services import missed_reports
from crm_core.services.errors import InvalidInput

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=ERROR_RESPONSES)


class ManagerMissedStatsRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "manager_id": 3,
                    "manager_name": "Maria Manager",
                    "missed": 14,
                    "called_back": 12,
                    "callback_rate": 0.857,
                    "median_callback_seconds": 1260.0,
                    "p90_callback_seconds": 7340.0,
                    "escalated": 2,
                }
            ]
        },
    )

    manager_id: int | None
    manager_name: str | None
    missed: int
    called_back: int
    callback_rate: float
    median_callback_seconds: float | None
    p90_callback_seconds: float | None
    escalated: int


class OpenMissedCallRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "caller_number": "+79001234567",
                    "counterparty_name": "ACME LLC",
                    "manager_id": 3,
                    "manager_name": "Maria Manager",
                    "created_at": "2026-11-28T10:42:00Z",
                    "age_seconds": 5400.0,
                    "attempts": 2,
                    "escalated": False,
                }
            ]
        },
    )

    id: int
    caller_number: str
    counterparty_name: str | None
    manager_id: int | None
    manager_name: str | None
    created_at: datetime
    age_seconds: float
    attempts: int
    escalated: bool


def visible_managers(session: DbSession, viewer: Viewer) -> set[int | None]:
    """The managers whose missed calls the viewer sees (``None``: the unassigned ones, for see-all roles)."""
    visible: set[int | None] = set(session.scalars(scoped(viewer, Manager).with_only_columns(Manager.id)))
    if viewer.sees_all:
        visible.add(None)
    return visible


@router.get("/missed-calls", summary="Missed calls per manager: callback rate, time to callback, escalations")
def missed_calls_per_manager(
    user: CurrentUser,
    session: DbSession,
    since: datetime = Query(description="From this moment (inclusive, ISO 8601 with offset)"),
    until: datetime = Query(description="Before this moment (exclusive)"),
) -> list[ManagerMissedStatsRead]:
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidInput("naive-datetime", {"field": "since/until", "reason": "give a UTC offset"})
    try:
        stats = missed_reports.missed_calls_by_manager(session, since, until)
    except ValueError as exc:
        raise InvalidInput("empty-period", {"field": "until", "reason": str(exc)}) from None
    visible = visible_managers(session, user.viewer)
    return [ManagerMissedStatsRead.model_validate(s) for s in stats if s.manager_id in visible]


@router.get("/open-missed-calls", summary="Missed calls still waiting for a callback, oldest first, with age")
def open_missed_calls(user: CurrentUser, session: DbSession) -> list[OpenMissedCallRead]:
    visible = visible_managers(session, user.viewer)
    rows = missed_reports.open_missed_calls(session, utcnow(), managers=visible)
    return [OpenMissedCallRead.model_validate(r) for r in rows]
