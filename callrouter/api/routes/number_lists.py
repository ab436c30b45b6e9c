"""Typed number lists (blacklist, job candidates, custom) and their entries with reasons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from sqlalchemy import select

from callrouter.api.deps import AdminUser, CurrentUser, DbSession, Invalidations, container_of
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.pagination import Page, Paging, page_of
from callrouter.api.schemas.common import MAX_ID
from callrouter.api.schemas.phones import (
    ListEntryCreate,
    NumberListCreate,
    NumberListRead,
    NumberListUpdate,
    PhoneRead,
)
from crm_core.models import NumberList, PhoneNumber
from crm_core.repositories.scoped import get_visible, scoped
from crm_core.services import crm_policies, phones, records
from crm_core.services.dial_targets import require_dialable

router = APIRouter(prefix="/api/v1/number-lists", tags=["number lists"], responses=ERROR_RESPONSES)
ListId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _entries(session: DbSession, list_id: int) -> list[str]:
    return list(session.scalars(select(PhoneNumber.e164).where(PhoneNumber.number_list_id == list_id)))


@router.get("", summary="Every number list")
def list_lists(user: CurrentUser, session: DbSession, paging: Paging) -> Page[NumberListRead]:
    return page_of(session, scoped(user.viewer, NumberList).order_by(NumberList.id), paging, NumberListRead)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a list (admin; audited)")
def create_list(
    body: NumberListCreate, user: AdminUser, session: DbSession, after: Invalidations
) -> NumberListRead:
    values = body.model_dump(exclude_unset=True)
    require_dialable(values, "target")
    created = records.create(session, user.viewer, NumberList, crm_policies.NUMBER_LISTS, values)
    after.invalidate_config()
    return NumberListRead.model_validate(created)


@router.get("/{list_id}", summary="One list")
def get_list(list_id: ListId, user: CurrentUser, session: DbSession) -> NumberListRead:
    return NumberListRead.model_validate(get_visible(session, user.viewer, NumberList, list_id))


@router.patch("/{list_id}", summary="Change a list's treatment or target (admin; applies to the next call)")
def update_list(
    list_id: ListId, body: NumberListUpdate, user: AdminUser, session: DbSession, after: Invalidations
) -> NumberListRead:
    entity = get_visible(session, user.viewer, NumberList, list_id)
    values = body.model_dump(exclude_unset=True)
    require_dialable(values, "target")
    records.update(session, user.viewer, entity, crm_policies.NUMBER_LISTS, values)
    after.invalidate_config()
    after.invalidate_numbers(_entries(session, list_id))
    return NumberListRead.model_validate(entity)


@router.delete("/{list_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a list and its entries")
def delete_list(list_id: ListId, user: AdminUser, session: DbSession, after: Invalidations) -> None:
    entity = get_visible(session, user.viewer, NumberList, list_id)
    after.invalidate_numbers(_entries(session, list_id))
    records.delete(session, user.viewer, entity, crm_policies.NUMBER_LISTS)
    after.invalidate_config()


@router.get("/{list_id}/entries", summary="The numbers on a list, with their reasons")
def list_entries(list_id: ListId, user: CurrentUser, session: DbSession, paging: Paging) -> Page[PhoneRead]:
    get_visible(session, user.viewer, NumberList, list_id)
    stmt = (
        scoped(user.viewer, PhoneNumber).where(PhoneNumber.number_list_id == list_id).order_by(PhoneNumber.id)
    )
    return page_of(session, stmt, paging, PhoneRead)


@router.post("/{list_id}/entries", summary="Put a number on the list with a reason (remove it via /phones)")
def add_entry(
    request: Request,
    list_id: ListId,
    body: ListEntryCreate,
    user: CurrentUser,
    session: DbSession,
    after: Invalidations,
) -> PhoneRead:
    phone = phones.assign(
        session,
        user.viewer,
        body.number,
        {"number_list_id": list_id},
        region=container_of(request).settings.default_region,
        reassign=body.reassign,
        note=body.reason,
    )
    after.invalidate_numbers([phone.e164])
    return PhoneRead.model_validate(phone)
