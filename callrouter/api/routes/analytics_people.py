"""People analytics: forgotten clients, the monthly manager KPIs, and refining (confirming) cards."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from callrouter.api.deps import CurrentUser, DbSession, Principal, container_of
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.exports import XLSX_TYPE, ExportFormat, export
from callrouter.api.routes.crud import CompanyToday
from callrouter.api.schemas.analytics_people import (
    ForgottenPage,
    ForgottenRead,
    KpiReport,
    ManagerKpiRead,
)
from callrouter.api.schemas.common import MAX_ID, ItemId
from callrouter.api.schemas.counterparties import CounterpartyRead
from callrouter.api.schemas.crm import ContactRead
from crm_core.analytics.forgotten import DEFAULT_DAYS, ForgottenClient, forgotten_clients
from crm_core.analytics.kpi import ManagerKpi, manager_kpis
from crm_core.analytics.period import Period
from crm_core.i18n.catalogs import negotiate
from crm_core.i18n.localizer import Localizer
from crm_core.models import ContactPerson, Counterparty, Manager
from crm_core.repositories.scoped import get_visible, scoped
from crm_core.services import refining
from crm_core.services.errors import InvalidInput

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"], responses=ERROR_RESPONSES)
refine_router = APIRouter(prefix="/api/v1", tags=["analytics"], responses=ERROR_RESPONSES)

AsOf = Annotated[
    date | None,
    Query(
        ge=date(1900, 1, 1),
        le=date(2999, 12, 31),
        description="Reference day (default: today, company timezone)",
    ),
]
Format = Annotated[
    ExportFormat, Query(alias="format", description="json: one page; csv / xlsx: every matching row")
]
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, XLSX_TYPE: {}}, "description": "JSON, or the CSV / XLSX file"}
}
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


def _timezone(request: Request) -> str:
    return container_of(request).settings.company_timezone


def _forgotten_line(client: ForgottenClient, tz: ZoneInfo) -> ForgottenRead:
    at = client.last_contact_at
    return ForgottenRead(
        counterparty_id=client.counterparty_id,
        counterparty_name=client.name,
        manager_id=client.manager_id,
        manager_name=client.manager_name,
        last_contact_at=at,
        last_contact_on=at.astimezone(tz).date() if at else None,
        last_contact_kind=client.last_contact_kind,
        days_silent=client.days_silent,
        never_contacted=client.never_contacted,
    )


@router.get(
    "/forgotten",
    response_model=ForgottenPage,
    responses=FILE_RESPONSES,
    summary="Your clients nobody called, met or wrote to for more than DAYS days (never contacted first); "
    "csv/xlsx",
)
def forgotten(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    today: CompanyToday,
    as_of: AsOf = None,
    days: Annotated[int, Query(ge=1, le=3650, description="Silence window in days")] = DEFAULT_DAYS,
    manager_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    fmt: Format = ExportFormat.JSON,
) -> Any:
    day = as_of or today
    timezone = _timezone(request)
    clients = forgotten_clients(session, user.viewer, day, timezone, days, manager_id)
    rows = [_forgotten_line(c, ZoneInfo(timezone)) for c in clients]
    if fmt is not ExportFormat.JSON:
        return export(rows, ForgottenRead, fmt, f"forgotten-{day.isoformat()}")
    start = (page - 1) * page_size
    return ForgottenPage(
        items=rows[start : start + page_size],
        total=len(rows),
        page=page,
        page_size=page_size,
        as_of=day,
        days=days,
    )


def _kpi_line(kpi: ManagerKpi) -> ManagerKpiRead:
    delay = kpi.callbacks.median_delay
    return ManagerKpiRead(
        manager_id=kpi.manager_id,
        manager_name=kpi.name,
        refined_counterparties=kpi.refined_counterparties,
        refined_contacts=kpi.refined_contacts,
        calls_answered=kpi.calls_answered,
        talk_seconds=kpi.talk_seconds,
        missed=kpi.callbacks.missed,
        called_back=kpi.callbacks.called_back,
        callback_rate=kpi.callbacks.rate,
        median_callback_seconds=delay.total_seconds() if delay is not None else None,
        revenue=kpi.revenue,
        active_clients=kpi.active_clients,
        deals_won=kpi.deals_won,
    )


def _kpi_period(month: str | None, as_of: date | None, today: date) -> Period:
    """A whole ``month``, or ``as_of``'s (default today's) month up to that day."""
    if month is not None and as_of is not None:
        raise InvalidInput("month-or-as-of", "give month (a whole month) or as_of (its month up to it)")
    if month is not None:
        year, number = (int(part) for part in month.split("-"))
        try:
            return Period.month(year, number)
        except ValueError as exc:  # year 0, or a month whose end falls after 9999
            raise InvalidInput("month-out-of-range", {"month": month, "reason": str(exc)}) from exc
    day = as_of or today
    return Period(day.replace(day=1), day)


@router.get(
    "/kpi",
    response_model=KpiReport,
    responses=FILE_RESPONSES,
    summary="Monthly KPIs of the managers you may see: refined cards and contacts, calls, callbacks, "
    "revenue; csv/xlsx",
)
def kpi(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    today: CompanyToday,
    month: Annotated[str | None, Query(pattern=MONTH, description="YYYY-MM: the whole month")] = None,
    as_of: AsOf = None,
    fmt: Format = ExportFormat.JSON,
) -> Any:
    period = _kpi_period(month, as_of, today)
    visible = set(session.scalars(scoped(user.viewer, Manager).with_only_columns(Manager.id)))
    kpis = manager_kpis(session, period, _timezone(request))
    rows = [_kpi_line(k) for k in kpis if k.manager_id in visible]
    label = f"{period.start.year:04d}-{period.start.month:02d}"
    if fmt is not ExportFormat.JSON:
        return export(rows, ManagerKpiRead, fmt, f"kpi-{label}")
    return KpiReport(items=rows, month=label, start=period.start, end=period.end)


def _language(request: Request, session: Session, user: Principal) -> str:
    """The caller's own language, else their browser's, else the company's."""
    manager = session.get(Manager, user.manager_id)
    if manager is not None and manager.language is not None:
        return manager.language.value
    return negotiate(request.headers.get("accept-language"), container_of(request).settings.language)


def _refine(request: Request, session: Session, user: Principal, card: refining.Refinable) -> None:
    """Refine ``card``; a refusal lists the missing codes and their reasons in the caller's language."""
    try:
        refining.refine(session, user.viewer, card)
    except refining.Incomplete as exc:
        l10n = Localizer.of(_language(request, session, user), _timezone(request))
        missing: list[str] = exc.detail["missing"]
        reasons = [l10n.gettext(refining.MISSING_REASONS[code]) for code in missing]
        raise InvalidInput(exc.error_id, {**exc.detail, "reasons": reasons}) from exc


@refine_router.post(
    "/counterparties/{counterparty_id}/refine",
    summary="Confirm a counterparty complete (name, ИНН, region, manager, a contact with a number); "
    "422 counterparty-incomplete lists what is missing; audited",
)
def refine_counterparty(
    counterparty_id: ItemId, request: Request, user: CurrentUser, session: DbSession
) -> CounterpartyRead:
    card = get_visible(session, user.viewer, Counterparty, counterparty_id)
    _refine(request, session, user, card)
    return CounterpartyRead.model_validate(card)


@refine_router.post(
    "/contacts/{contact_id}/refine",
    summary="Confirm a contact person complete (a name and a phone number); 422 contact-person-incomplete "
    "lists what is missing; audited",
)
def refine_contact(
    contact_id: ItemId, request: Request, user: CurrentUser, session: DbSession
) -> ContactRead:
    contact = get_visible(session, user.viewer, ContactPerson, contact_id)
    _refine(request, session, user, contact)
    return ContactRead.model_validate(contact)
