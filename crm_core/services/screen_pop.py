"""Screen pop: when a manager's phone rings, the caller's card for that manager's live view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.events import RINGING, Audience, DomainEvent
from crm_core.models import ContactPerson, Counterparty, PhoneNumber
from crm_core.phone_numbers import normalize_number
from crm_core.services.call_records import ManagerDirectory
from crm_core.services.card import build_card, card_json


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


def ringing_event(session: Session, ring: Ringing, region: str, now: datetime) -> DomainEvent | None:
    """The ``ringing`` event for the manager behind the dial target; ``None`` when it is nobody's phone.

    The card goes to the manager the call rings whoever the client's manager is: they are about to talk.
    An unknown (or withheld) number comes without a card, for the "register this number" form.
    """
    manager = ManagerDirectory(session).by_target(ring.target, ring.dial_string, ring.dest_number)
    if manager is None:
        return None
    e164 = normalize_number(ring.caller, region).e164 if ring.caller else None
    counterparty = _counterparty_of(session, e164) if e164 else None
    card = card_json(build_card(session, counterparty, now)) if counterparty is not None else None
    return DomainEvent(
        RINGING,
        {
            "linkedid": ring.linkedid,
            "caller": e164 or ring.caller,
            "manager_id": manager.id,
            "counterparty_id": counterparty.id if counterparty is not None else None,
            "card": card,
        },
        Audience.of([manager.id]),
    )
