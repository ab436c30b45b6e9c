"""Counterparties: search (name, tax id, any written phone number), read, create, update, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from callrouter.api.deps import CurrentUser, DbSession, Invalidations, container_of
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.pagination import Page, Paging, page_of
from callrouter.api.routes.crud import CompanyToday
from callrouter.api.schemas.common import MAX_ID
from callrouter.api.schemas.counterparties import CounterpartyCreate, CounterpartyRead, CounterpartyUpdate
from crm_core.models import ClientStatus, Counterparty
from crm_core.repositories.scoped import get_visible, scoped
from crm_core.repositories.search import counterparty_matches
from crm_core.services import client_status, counterparties, phones, records

router = APIRouter(prefix="/api/v1/counterparties", tags=["counterparties"], responses=ERROR_RESPONSES)
CounterpartyId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _region(request: Request) -> str:
    return container_of(request).settings.default_region


@router.get("", summary="Search your counterparties by name, tax id or a phone number written any way")
def list_counterparties(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=200, description="Name part, tax id or phone number")] = None,
    manager_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status_: Annotated[ClientStatus | None, Query(alias="status")] = None,
) -> Page[CounterpartyRead]:
    stmt = scoped(user.viewer, Counterparty).order_by(Counterparty.id)
    if q:
        stmt = stmt.where(counterparty_matches(q, _region(request)))
    if manager_id is not None:
        stmt = stmt.where(Counterparty.manager_id == manager_id)
    if status_ is not None:
        stmt = stmt.where(Counterparty.status == status_)
    return page_of(session, stmt, paging, CounterpartyRead)


@router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Create a counterparty (yours unless you assign it)"
)
def create_counterparty(
    request: Request, body: CounterpartyCreate, user: CurrentUser, session: DbSession, after: Invalidations
) -> CounterpartyRead:
    values = body.model_dump(exclude_unset=True, exclude={"phones"})
    created = counterparties.create(session, user.viewer, values, body.phones, _region(request))
    after.invalidate_numbers(phones.numbers_of_counterparty(session, created.id))
    return CounterpartyRead.model_validate(created)


@router.get("/{counterparty_id}", summary="One counterparty (404 if it is not yours to see)")
def get_counterparty(
    counterparty_id: CounterpartyId, user: CurrentUser, session: DbSession
) -> CounterpartyRead:
    return CounterpartyRead.model_validate(get_visible(session, user.viewer, Counterparty, counterparty_id))


@router.patch("/{counterparty_id}", summary="Update allowed fields (manager_id: controller and above)")
def update_counterparty(
    counterparty_id: CounterpartyId,
    body: CounterpartyUpdate,
    user: CurrentUser,
    session: DbSession,
    after: Invalidations,
    today: CompanyToday,
) -> CounterpartyRead:
    entity = get_visible(session, user.viewer, Counterparty, counterparty_id)
    status_before = entity.status
    after.invalidate_numbers(
        counterparties.update(session, user.viewer, entity, body.model_dump(exclude_unset=True))
    )
    client_status.record_manual_change(session, user.viewer, entity, status_before, today)
    return CounterpartyRead.model_validate(entity)


@router.delete(
    "/{counterparty_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete (director and admin)"
)
def delete_counterparty(
    counterparty_id: CounterpartyId, user: CurrentUser, session: DbSession, after: Invalidations
) -> None:
    entity = get_visible(session, user.viewer, Counterparty, counterparty_id)
    numbers = phones.numbers_of_counterparty(session, entity.id)
    records.delete(session, user.viewer, entity, counterparties.POLICY)
    after.invalidate_numbers(numbers)
