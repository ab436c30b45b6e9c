"""Refined cards: a person confirms a counterparty or a contact person complete, or completes it.

A counterparty is *complete* with a name, an ИНН, a region, a personal manager and at least one contact
person who has a phone number; a contact person is complete with a name and a phone number. Confirming
an incomplete card is refused (``counterparty-incomplete`` / ``contact-person-incomplete``, listing what
is missing). An edit that turns an incomplete card complete refines it too. A card is refined once:
``refined_at`` and ``refined_by_id`` keep the first time and person (the monthly KPI counts them).
The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Exists, exists, select
from sqlalchemy.orm import Session

from crm_core.i18n.localizer import N_
from crm_core.models import ContactPerson, Counterparty, PhoneNumber, utcnow
from crm_core.repositories.scoped import Viewer, kebab
from crm_core.services import audit
from crm_core.services.errors import InvalidInput

MISSING_REASONS: dict[str, str] = {
    "name": N_("the name is empty"),
    "tax_id": N_("no ИНН (tax id)"),
    "region": N_("no region"),
    "manager": N_("no personal manager"),
    "contact_with_number": N_("no contact person with a phone number"),
    "phone_number": N_("no phone number"),
}
"""What a card may lack (stable codes) and the reason shown for each (translated where shown)."""

Refinable = Counterparty | ContactPerson


class Incomplete(InvalidInput):
    """The card lacks what ``detail["missing"]`` lists (codes of :data:`MISSING_REASONS`)."""


def _blank(text: str | None) -> bool:
    return not (text and text.strip())


def _has_number(contact_id: object) -> Exists:
    return exists().where(PhoneNumber.contact_person_id == contact_id)


def counterparty_gaps(session: Session, card: Counterparty) -> list[str]:
    """What the counterparty lacks to be complete (empty: complete)."""
    gaps = [
        code
        for code, lacking in (
            ("name", _blank(card.name)),
            ("tax_id", _blank(card.tax_id)),
            ("region", _blank(card.region)),
            ("manager", card.manager_id is None),
        )
        if lacking
    ]
    reachable = select(ContactPerson.id).where(
        ContactPerson.counterparty_id == card.id,
        _has_number(ContactPerson.id),
        ContactPerson.name.is_not(None),
        ContactPerson.name != "",
    )
    if session.scalars(reachable.limit(1)).first() is None:
        gaps.append("contact_with_number")
    return gaps


def contact_gaps(session: Session, contact: ContactPerson) -> list[str]:
    """What the contact person lacks to be complete (empty: complete)."""
    gaps = ["name"] if _blank(contact.name) else []
    if not session.scalar(select(_has_number(contact.id))):
        gaps.append("phone_number")
    return gaps


def gaps_of(session: Session, card: Refinable) -> list[str]:
    if isinstance(card, Counterparty):
        return counterparty_gaps(session, card)
    return contact_gaps(session, card)


def _mark(session: Session, viewer: Viewer, card: Refinable, now: datetime, action: str) -> None:
    before = {"refined_at": None, "refined_by_id": None}
    card.refined_at, card.refined_by_id = now, viewer.manager_id
    session.flush()
    after = {"refined_at": now.isoformat(), "refined_by_id": viewer.manager_id}
    audit.record(session, viewer.manager_id, action, kebab(type(card).__name__), card.id, before, after)


def refine(session: Session, viewer: Viewer, card: Refinable, now: datetime | None = None) -> Refinable:
    """Confirm ``card`` complete (audited ``refine``); :class:`Incomplete` when it is not. A card refined
    before keeps its first refinement."""
    gaps = gaps_of(session, card)
    if gaps:
        raise Incomplete(f"{kebab(type(card).__name__)}-incomplete", {"id": card.id, "missing": gaps})
    if card.refined_at is None:
        _mark(session, viewer, card, now or utcnow(), "refine")
    return card


@dataclass(frozen=True)
class Completeness:
    """Whether a counterparty and (optionally) one of its contacts were complete before an edit."""

    counterparty_id: int
    counterparty: bool
    contact_id: int | None = None
    contact: bool = True


def observe(
    session: Session, counterparty: Counterparty, contact: ContactPerson | None = None
) -> Completeness:
    """Take note of the completeness before an edit (see :func:`refine_if_completed`)."""
    return Completeness(
        counterparty.id,
        not counterparty_gaps(session, counterparty),
        contact.id if contact else None,
        not contact_gaps(session, contact) if contact else True,
    )


def refine_if_completed(session: Session, viewer: Viewer, before: Completeness) -> None:
    """Refine (audited ``complete``) the cards an edit turned from incomplete to complete, if not refined."""
    cards: list[tuple[Refinable | None, bool]] = [
        (session.get(Counterparty, before.counterparty_id), before.counterparty)
    ]
    if before.contact_id is not None:
        cards.insert(0, (session.get(ContactPerson, before.contact_id), before.contact))
    now = utcnow()
    for card, was_complete in cards:
        if card is not None and not was_complete and card.refined_at is None and not gaps_of(session, card):
            _mark(session, viewer, card, now, "complete")


def contact_edited(session: Session, viewer: Viewer, contact: ContactPerson, name_before: str | None) -> None:
    """Refine (audited ``complete``) a contact person whose edited name completed it (its numbers are
    written apart, see :func:`crm_core.services.phones.assign`)."""
    if contact.refined_at is None and _blank(name_before) and not contact_gaps(session, contact):
        _mark(session, viewer, contact, utcnow(), "complete")
