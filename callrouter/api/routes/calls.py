"""Call records (filters), recordings and the monthly number-capture report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import ColumnElement, Select

from callrouter.api.deps import CurrentUser, DbSession, Invalidations, container_of
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.pagination import Page, Paging, page_of
from callrouter.api.schemas.calls import (
    CallRead,
    CaptureReport,
    ManagerCapture,
    Month,
    RegisterNumber,
    RegisterResult,
    UnregisteredNumber,
)
from callrouter.api.schemas.common import MAX_ID, ItemId
from crm_core.models import CallDisposition, CallRecord
from crm_core.repositories.scoped import get_visible, scoped
from crm_core.services import number_capture
from crm_core.services.errors import NotFound

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
ManagerFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Since = Annotated[datetime | None, Query(description="From this moment (inclusive, ISO 8601 with offset)")]
Until = Annotated[datetime | None, Query(description="Before this moment (exclusive)")]
AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".gsm", ".ogg", ".wav49"})


def aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def where_given(stmt: Select[Any], *filters: tuple[object, Callable[[], ColumnElement[bool]]]) -> Select[Any]:
    """``stmt`` narrowed by the condition of each filter whose query value was given (is not None)."""
    for value, condition in filters:
        if value is not None:
            stmt = stmt.where(condition())
    return stmt


@router.get("/calls", tags=["calls"], summary="Call records you can see, by manager, period and status")
def list_calls(
    user: CurrentUser,
    session: DbSession,
    paging: Paging,
    manager_id: ManagerFilter = None,
    counterparty_id: ManagerFilter = None,
    since: Since = None,
    until: Until = None,
    disposition: Annotated[CallDisposition | None, Query()] = None,
    unregistered: Annotated[bool | None, Query(description="Only calls from unregistered numbers")] = None,
) -> Page[CallRead]:
    stmt = scoped(user.viewer, CallRecord).order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
    stmt = where_given(
        stmt,
        (manager_id, lambda: CallRecord.answered_by_manager_id == manager_id),
        (counterparty_id, lambda: CallRecord.counterparty_id == counterparty_id),
        (since, lambda: CallRecord.started_at >= aware(since)),
        (until, lambda: CallRecord.started_at < aware(until)),
        (disposition, lambda: CallRecord.disposition == disposition),
        (unregistered, lambda: CallRecord.unregistered_number == unregistered),
    )
    return page_of(session, stmt, paging, CallRead)


@router.get("/calls/{call_id}", tags=["calls"], summary="One call record")
def get_call(call_id: ItemId, user: CurrentUser, session: DbSession) -> CallRead:
    return CallRead.model_validate(get_visible(session, user.viewer, CallRecord, call_id))


@router.get(
    "/calls/{call_id}/recording",
    tags=["calls"],
    summary="Listen to the call's recording",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}, "audio/mpeg": {}}, "description": "The recording"}},
)
def get_recording(call_id: ItemId, user: CurrentUser, session: DbSession) -> FileResponse:
    call = get_visible(session, user.viewer, CallRecord, call_id)
    path = FilePath(call.recording_file) if call.recording_file else None
    if path is None or path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
        raise NotFound("no-recording", {"id": call_id})
    return FileResponse(path)


def _month_bounds(month: str, timezone: str) -> tuple[datetime, datetime]:
    year, number = (int(part) for part in month.split("-"))
    zone = ZoneInfo(timezone)
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


def current_month(timezone: str) -> str:
    """The month now in the company timezone, ``YYYY-MM``."""
    return datetime.now(ZoneInfo(timezone)).strftime("%Y-%m")


@router.get(
    "/reports/unregistered-numbers",
    tags=["number capture"],
    summary="Numbers that called this month but are in no card or list, per manager, with their calls",
)
def capture_report(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    month: Annotated[Month | None, Query(description="YYYY-MM; default: this month")] = None,
    manager_id: ManagerFilter = None,
    scope: Annotated[
        Literal["mine"] | None, Query(description="mine: only the numbers that are mine to register")
    ] = None,
) -> CaptureReport:
    timezone = container_of(request).settings.company_timezone
    month = month or current_month(timezone)
    start, end = _month_bounds(month, timezone)
    if scope == "mine":
        manager_id = user.manager_id
    report = number_capture.unregistered_calls(session, user.viewer, start, end, manager_id)
    return CaptureReport(
        month=month,
        managers=[
            ManagerCapture(
                manager_id=manager,
                numbers=[
                    UnregisteredNumber(number=number, calls=[CallRead.model_validate(c) for c in calls])
                    for number, calls in numbers.items()
                ],
            )
            for manager, numbers in sorted(report.items(), key=lambda item: (item[0] is None, item[0] or 0))
        ],
    )


@router.post(
    "/reports/unregistered-numbers/register",
    tags=["number capture"],
    summary="Register a reported number to a counterparty, contact or list in one call",
)
def register_number(
    request: Request, body: RegisterNumber, user: CurrentUser, session: DbSession, after: Invalidations
) -> RegisterResult:
    region = container_of(request).settings.default_region
    phone, linked = number_capture.register(
        session, user.viewer, body.number, body.owner(), region, body.note
    )
    after.invalidate_numbers([phone.e164])
    return RegisterResult(phone_id=phone.id, e164=phone.e164, calls_linked=linked)
