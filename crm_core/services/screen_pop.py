"""Screen pop: when a manager's phone rings, the caller's card for that manager's live view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.events import RINGING, Audience, DomainEvent
from crm_core.models import ContactPerson, Counterparty, Manager, PhoneNumber
from crm_core.phone_numbers import normalize_number
from crm_core.repositories.scoped import Viewer, scoped
from crm_core.services.call_records import ManagerDirectory
from crm_core.services.card import CounterpartyCard, build_caller_card, build_card, card_json

CardScope = Literal["full", "caller"]


@dataclass(frozen=True, slots=True)
class Ringing:
    """A phone starts ringing: the call, who calls, and the dial target (as the telephony front names it)."""

    linkedid: str
    caller: str | None
    target: str
    dial_string: str = ""
    dest_number: str = ""


def _counterparty_of(session: Session, e164: str) -> Counterparty | None:
    phone = session.scalars(select(PhoneNumber).where(PhoneNumber.e164 == e164)).first()
    if phone is None:
        return None
    counterparty_id = phone.counterparty_id
    if counterparty_id is None and phone.contact_person_id is not None:
        counterparty_id = session.scalar(
            select(ContactPerson.counterparty_id).where(ContactPerson.id == phone.contact_person_id)
        )
    return session.get(Counterparty, counterparty_id) if counterparty_id is not None else None


def _pop_card(
    session: Session, manager: Manager, counterparty: Counterparty, caller: str | None, now: datetime
) -> tuple[CounterpartyCard, CardScope]:
    """The card the rung manager may have: the API's own (scope check of ``scoped``) or the caller card."""
    viewer = Viewer(manager.id, manager.role)
    visible = session.scalar(scoped(viewer, Counterparty).where(Counterparty.id == counterparty.id))
    if visible is not None:
        return build_card(session, counterparty, now), "full"
    return build_caller_card(session, counterparty, caller, now), "caller"


def ringing_event(session: Session, ring: Ringing, region: str, now: datetime) -> DomainEvent | None:
    """The ``ringing`` event for the manager behind the dial target; ``None`` when it is nobody's phone.

    The card is the one ``GET /counterparties/{id}/card`` gives that manager (``card_scope`` ``full``);
    a client they may not see (a colleague's, ringing them through the fallback chain) comes as the
    caller card of :func:`~crm_core.services.card.build_caller_card` (``card_scope`` ``caller``): what
    they need to answer the phone, and no more. An unknown (or withheld) number comes without a card,
    for the "register this number" form.
    """
    manager = ManagerDirectory(session).by_target(ring.target, ring.dial_string, ring.dest_number)
    if manager is None:
        return None
    e164 = normalize_number(ring.caller, region).e164 if ring.caller else None
    counterparty = _counterparty_of(session, e164) if e164 else None
    card: dict[str, Any] | None = None
    scope: CardScope | None = None
    if counterparty is not None:
        built, scope = _pop_card(session, manager, counterparty, e164, now)
        card = card_json(built)
    return DomainEvent(
        RINGING,
        {
            "linkedid": ring.linkedid,
            "caller": e164 or ring.caller,
            "manager_id": manager.id,
            "counterparty_id": counterparty.id if counterparty is not None else None,
            "card": card,
            "card_scope": scope,
        },
        Audience.of([manager.id]),
    )
