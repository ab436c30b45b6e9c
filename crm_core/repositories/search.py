"""Counterparty search by name, tax id or any phone number in any written form."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select

from crm_core.models import ContactPerson, Counterparty, PhoneNumber
from crm_core.phone_numbers import normalize_number
from crm_core.repositories.text_match import contains_text


def counterparty_matches(query: str, region: str) -> ColumnElement[bool]:
    """A WHERE clause: the name contains ``query`` in any case, the tax id equals it, or it is their number.

    The number may be written any way (``8 (843) 123-45-67``, ``+7 843 1234567``...): it is normalized
    to E.164 and looked up among the counterparty's and its contacts' numbers. A ``query`` with a NUL byte
    is refused when the query runs (``unstorable-text``), like any text no database can store.
    """
    text = query.strip()
    if not text:
        return false()
    clauses: list[ColumnElement[bool]] = [
        contains_text(Counterparty.name, text),
        Counterparty.tax_id == text,
    ]
    e164 = normalize_number(text, region).e164
    if e164 is not None:
        via_contact = select(ContactPerson.counterparty_id).join(
            PhoneNumber, PhoneNumber.contact_person_id == ContactPerson.id
        )
        clauses.append(
            or_(
                Counterparty.id.in_(select(PhoneNumber.counterparty_id).where(PhoneNumber.e164 == e164)),
                Counterparty.id.in_(via_contact.where(PhoneNumber.e164 == e164)),
            )
        )
    return or_(*clauses)
