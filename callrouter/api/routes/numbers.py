"""``POST /api/v1/numbers/register``: register a number from the workspace in one step."""

from __future__ import annotations

from fastapi import APIRouter, Request

from callrouter.api.deps import CurrentUser, DbSession, Invalidations, container_of
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.schemas.calls import NumberRegistered, NumberRegistration
from crm_core.models import ContactPerson
from crm_core.services import number_capture

router = APIRouter(prefix="/api/v1/numbers", tags=["number capture"], responses=ERROR_RESPONSES)


@router.post(
    "/register",
    summary="Register a number to a card, a contact, a new card or a list (blacklist, job candidates...)",
)
def register(
    request: Request, body: NumberRegistration, user: CurrentUser, session: DbSession, after: Invalidations
) -> NumberRegistered:
    region = container_of(request).settings.default_region
    owner = number_capture.owner_for(
        session,
        user.viewer,
        body.target,
        region=region,
        counterparty_id=body.counterparty_id,
        contact_id=body.contact_id,
        name=body.name,
        list_kind=body.list,
        list_id=body.list_id,
    )
    phone, linked = number_capture.register(session, user.viewer, body.number, owner, region, body.reason)
    counterparty_id = phone.counterparty_id
    if counterparty_id is None and phone.contact_person_id is not None:
        contact = session.get(ContactPerson, phone.contact_person_id)
        counterparty_id = contact.counterparty_id if contact else None
    missed = (
        number_capture.link_waiting_missed_calls(session, phone.e164, counterparty_id)
        if counterparty_id is not None
        else 0
    )
    after.invalidate_numbers([phone.e164])
    return NumberRegistered(
        phone_id=phone.id,
        e164=phone.e164,
        calls_linked=linked,
        counterparty_id=counterparty_id,
        number_list_id=phone.number_list_id,
        missed_calls_linked=missed,
    )
