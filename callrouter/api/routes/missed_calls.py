"""Missed calls: the workspace's list (names, age and SLA in one request), one call, the answer after a
call (called back / closed with a reason, a note to the client's history), reassignment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from callrouter.api.deps import CurrentUser, DbSession
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.pagination import Paging
from callrouter.api.routes.calls import ManagerFilter, Since, Until, aware, where_given
from callrouter.api.schemas.calls import (
    Assignee,
    MissedCallAssignment,
    MissedCallItem,
    MissedCallOutcome,
    MissedCallPage,
    MissedCallResolution,
)
from callrouter.api.schemas.common import ItemId
from crm_core.models import MissedCall, MissedReason, MissedStatus, utcnow
from crm_core.repositories.missed_calls import (
    MissedScope,
    load_views,
    status_condition,
    visible_missed_calls,
)
from crm_core.repositories.scoped import Viewer, get_visible
from crm_core.services import missed_events, missed_resolution

router = APIRouter(prefix="/api/v1/missed-calls", tags=["missed calls"], responses=ERROR_RESPONSES)
PageNumber = Annotated[int | None, Query(ge=1, le=1_000_000, description="1-based page (with page_size)")]
PageSize = Annotated[int | None, Query(ge=1, le=200, description="Items per page (default 50)")]


def _item(session: DbSession, viewer: Viewer, missed_id: int) -> MissedCallItem:
    missed = get_visible(session, viewer, MissedCall, missed_id)
    return MissedCallItem.model_validate(missed_events.current_view(session, missed.id))


@router.get("", summary="Missed calls: scope, status, manager, period, reason; one page with names and SLA")
def list_missed(
    user: CurrentUser,
    session: DbSession,
    paging: Paging,
    page: PageNumber = None,
    page_size: PageSize = None,
    scope: Annotated[
        MissedScope | None,
        Query(description="mine, team, all (default: everything you may see) or unknown (shared queue)"),
    ] = None,
    status: Annotated[
        MissedStatus | None, Query(description="open = waiting for a callback (open or escalated)")
    ] = None,
    manager_id: ManagerFilter = None,
    since: Since = None,
    until: Until = None,
    reason: Annotated[MissedReason | None, Query()] = None,
) -> MissedCallPage:
    limit = page_size or paging.limit
    offset = (page - 1) * limit if page is not None else paging.offset
    stmt = visible_missed_calls(user.viewer, scope).where(status_condition(status))
    stmt = where_given(
        stmt,
        (manager_id, lambda: MissedCall.assigned_manager_id == manager_id),
        (since, lambda: MissedCall.created_at >= aware(since)),
        (until, lambda: MissedCall.created_at < aware(until)),
        (reason, lambda: MissedCall.reason == reason),
    )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    ordered = stmt.order_by(MissedCall.created_at.desc(), MissedCall.id.desc()).limit(limit).offset(offset)
    views = load_views(session, ordered, utcnow(), missed_events.policy_sla(session))
    return MissedCallPage(
        items=[MissedCallItem.model_validate(v) for v in views],
        total=total,
        limit=limit,
        offset=offset,
        page=offset // limit + 1,
        page_size=limit,
    )


@router.get(
    "/assignees",
    summary="Whom you may hand a missed call to (active staff by name): reception everyone, supervisors "
    "their managers",
)
def list_assignees(user: CurrentUser, session: DbSession) -> list[Assignee]:
    return [Assignee.model_validate(m) for m in missed_resolution.assignees(session, user.viewer)]


@router.get("/{missed_id}", summary="One missed call")
def get_missed(missed_id: ItemId, user: CurrentUser, session: DbSession) -> MissedCallItem:
    return _item(session, user.viewer, missed_id)


@router.post("/{missed_id}/resolution", summary="Acknowledge or close, with a comment")
def resolve_missed(
    missed_id: ItemId, body: MissedCallResolution, user: CurrentUser, session: DbSession
) -> MissedCallItem:
    missed = get_visible(session, user.viewer, MissedCall, missed_id)
    missed_resolution.resolve(session, user.viewer, missed, body.action, body.comment)
    return _item(session, user.viewer, missed_id)


@router.post(
    "/{missed_id}/resolve",
    summary="After the call: called back (counts in the callback rate) or closed with a reason; a note",
)
def record_outcome(
    missed_id: ItemId, body: MissedCallOutcome, user: CurrentUser, session: DbSession
) -> MissedCallItem:
    missed = get_visible(session, user.viewer, MissedCall, missed_id)
    missed_resolution.record_outcome(session, user.viewer, missed, body.outcome, body.reason, body.note)
    return _item(session, user.viewer, missed_id)


@router.post("/{missed_id}/assign", summary="Give a waiting missed call to a manager (controller and above)")
def assign_missed(
    missed_id: ItemId, body: MissedCallAssignment, user: CurrentUser, session: DbSession
) -> MissedCallItem:
    missed = get_visible(session, user.viewer, MissedCall, missed_id)
    missed_resolution.assign(session, user.viewer, missed, body.manager_id)
    # as it is now, even if it left the caller's sight (reception handing a call out of the queue)
    return MissedCallItem.model_validate(missed_events.current_view(session, missed.id))
