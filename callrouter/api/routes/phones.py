"""Phone numbers: list and search, add or move (explicit ``reassign``), relabel, remove."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from callrouter.api.deps import CurrentUser, DbSession, Invalidations, container_of
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.pagination import Page, Paging, page_of
from callrouter.api.schemas.common import MAX_ID
from callrouter.api.schemas.phones import PhoneAssign, PhoneRead, PhoneUpdate
from crm_core.models import PhoneNumber
from crm_core.repositories.scoped import get_visible, scoped
from crm_core.services import audit, phones

router = APIRouter(prefix="/api/v1/phones", tags=["phones"], responses=ERROR_RESPONSES)
PhoneId = Annotated[int, Path(ge=1, le=MAX_ID)]
OwnerFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("", summary="Numbers you can see, by owner or by a number written any way")
def list_phones(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    paging: Paging,
    number: Annotated[str | None, Query(max_length=64, description="Any written form")] = None,
    counterparty_id: OwnerFilter = None,
    contact_person_id: OwnerFilter = None,
    manager_id: OwnerFilter = None,
    number_list_id: OwnerFilter = None,
) -> Page[PhoneRead]:
    stmt = scoped(user.viewer, PhoneNumber).order_by(PhoneNumber.id)
    if number:
        stmt = stmt.where(
            PhoneNumber.e164 == phones.to_e164(number, container_of(request).settings.default_region)
        )
    for column, value in (
        (PhoneNumber.counterparty_id, counterparty_id),
        (PhoneNumber.contact_person_id, contact_person_id),
        (PhoneNumber.manager_id, manager_id),
        (PhoneNumber.number_list_id, number_list_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return page_of(session, stmt, paging, PhoneRead)


@router.post(
    "",
    summary="Add a number to a card or list; moving it from another owner needs reassign=true (audited)",
)
def assign_phone(
    request: Request, body: PhoneAssign, user: CurrentUser, session: DbSession, after: Invalidations
) -> PhoneRead:
    phone = phones.assign(
        session,
        user.viewer,
        body.number,
        body.owner(),
        region=container_of(request).settings.default_region,
        reassign=body.reassign,
        label=body.label,
        note=body.note,
        extension=body.extension,
    )
    after.invalidate_numbers([phone.e164])
    return PhoneRead.model_validate(phone)


@router.get("/{phone_id}", summary="One number")
def get_phone(phone_id: PhoneId, user: CurrentUser, session: DbSession) -> PhoneRead:
    return PhoneRead.model_validate(get_visible(session, user.viewer, PhoneNumber, phone_id))


@router.patch("/{phone_id}", summary="Change a number's extension, label or note")
def update_phone(phone_id: PhoneId, body: PhoneUpdate, user: CurrentUser, session: DbSession) -> PhoneRead:
    phone = get_visible(session, user.viewer, PhoneNumber, phone_id)
    phones.ensure_may_change(user.viewer, phone)
    before = audit.snapshot(phone)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(phone, name, value)
    session.flush()
    audit.record(
        session, user.viewer.manager_id, "update", "phone-number", phone.id, before, audit.snapshot(phone)
    )
    return PhoneRead.model_validate(phone)


@router.delete("/{phone_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a number (audited)")
def remove_phone(phone_id: PhoneId, user: CurrentUser, session: DbSession, after: Invalidations) -> None:
    phone = get_visible(session, user.viewer, PhoneNumber, phone_id)
    after.invalidate_numbers([phones.remove(session, user.viewer, phone)])
