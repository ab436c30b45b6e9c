"""Clients and their contact persons from the outside system -> counterparties, contacts and numbers.

1C owns the name, tax id, code and the manager assignment (unless ``manager_pinned``); callrouter owns
calls, lists, notes and statuses. A deletion mark archives the card (kept with its history, routed like a
stranger); clearing the mark restores it. Unchanged objects (same ``DataVersion``) are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_core.models.base import utcnow
from crm_core.models.counterparties import ContactPerson, Counterparty
from crm_core.models.external_sync import ExternalObject
from crm_core.models.phones import PhoneNumber
from crm_core.repositories.routing import numbers_of_counterparty
from crm_core.syncing.phones import attach, load_numbers, prune, read_phones
from crm_core.syncing.report import SyncReport
from crm_core.syncing.rows import ExternalClient, ExternalContact
from crm_core.syncing.state import (
    CLIENT,
    CONTACT,
    USER,
    all_local_ids,
    audit_change,
    is_current,
    remember,
    stored,
)

CLIENTS = "clients"
CONTACTS = "contacts"


def apply_clients(
    session: Session,
    source: str,
    clients: Sequence[ExternalClient],
    region: str,
    report: SyncReport,
    *,
    force: bool = False,
) -> None:
    """Create, update or archive the counterparty of every client in this batch; never commits.

    ``force`` re-applies clients whose ``DataVersion`` is unchanged too (the nightly full pass: what
    someone changed here by hand in what 1C owns is put back)."""
    known = stored(session, source, CLIENT, (c.ref for c in clients))
    todo = [c for c in clients if force or not _unchanged(known, c.ref, c.version)]
    report.of(CLIENTS).unchanged += len(clients) - len(todo)
    if not todo:
        return
    managers = all_local_ids(session, source, USER)
    cards = _cards(session, known, todo)
    phones = {c.ref: read_phones(c.phones, region, CLIENTS, c.ref, report) for c in todo}
    numbers = load_numbers(session, (e for found in phones.values() for e in found))
    owners = {ref: card.id for ref, card in cards.items()}
    pruned = prune(session, source, "counterparty_id", owners, phones, numbers, report)
    for client in todo:
        card: Counterparty | None = cards.get(client.ref)
        manager_id = managers.get(client.manager_ref) if client.manager_ref else None
        if client.manager_ref and manager_id is None:
            report.problem(CLIENTS, client.ref, f"unknown manager reference {client.manager_ref}")
        created = card is None
        changed = False
        if card is None:
            card = _create(session, client, manager_id)
        else:
            changed = _update(session, card, client, manager_id, report)
        owner = {"counterparty_id": card.id}
        added = attach(session, phones[client.ref], numbers, owner, CLIENTS, client.ref, report, source)
        counts = report.of(CLIENTS)
        if created:
            counts.created += 1
        elif changed or added or client.ref in pruned:
            counts.updated += 1
        else:
            counts.unchanged += 1
        remember(session, known, source, CLIENT, client.ref, card.id, client.version, client.code)
    session.flush()


def _unchanged(known: dict[str, ExternalObject], ref: str, version: str | None) -> bool:
    state = known.get(ref)
    return is_current(state, version) and state is not None and state.local_id is not None


def _cards(
    session: Session, known: dict[str, ExternalObject], todo: Sequence[ExternalClient]
) -> dict[str, Counterparty]:
    """The stored counterparty of each client: by stored link, else external id, else tax id."""
    ids = {known[c.ref].local_id: c.ref for c in todo if c.ref in known and known[c.ref].local_id}
    refs = [c.ref for c in todo]
    taxes = {c.tax_id: c.ref for c in todo if c.tax_id}
    stmt = select(Counterparty).where(
        Counterparty.id.in_(list(ids))
        | Counterparty.external_id.in_(refs)
        | Counterparty.tax_id.in_(list(taxes))
    )
    cards: dict[str, Counterparty] = {}
    by_tax: dict[str, Counterparty] = {}
    for card in session.scalars(stmt):
        if card.id in ids:
            cards[ids[card.id]] = card
        elif card.external_id in refs:
            cards.setdefault(card.external_id, card)
        if card.tax_id:
            by_tax[card.tax_id] = card
    linked = {card.id for card in cards.values()}
    for tax_id, ref in taxes.items():
        holder = by_tax.get(tax_id)
        if (
            ref not in cards
            and holder is not None
            and holder.id not in linked
            and holder.external_id in (None, ref)
        ):
            cards[ref] = holder
            linked.add(holder.id)
    return cards


def _create(session: Session, client: ExternalClient, manager_id: int | None) -> Counterparty:
    card = Counterparty(
        name=client.name,
        external_id=client.ref,
        tax_id=client.tax_id or None,
        manager_id=manager_id,
        archived_at=utcnow() if client.deleted else None,
    )
    session.add(card)
    session.flush()
    after = {"name": card.name, "tax_id": card.tax_id, "manager_id": manager_id, "ref": client.ref}
    audit_change(session, "create", "counterparty", card.id, None, after)
    return card


def _update(
    session: Session, card: Counterparty, client: ExternalClient, manager_id: int | None, report: SyncReport
) -> bool:
    """Apply what 1C owns; True when something changed (audited with before and after)."""
    wanted: dict[str, object] = {"name": client.name, "external_id": client.ref}
    if client.tax_id:
        wanted["tax_id"] = client.tax_id
    if not card.manager_pinned:
        wanted["manager_id"] = manager_id
    before = {k: getattr(card, k) for k, v in wanted.items() if getattr(card, k) != v}
    after = {k: wanted[k] for k in before}
    if "tax_id" in after and _tax_id_taken(session, card, client.tax_id):
        report.problem(CLIENTS, client.ref, f"tax id {client.tax_id} belongs to another counterparty")
        del before["tax_id"], after["tax_id"]
    archived = client.deleted != (card.archived_at is not None)
    if archived:
        before["archived"], after["archived"] = not client.deleted, client.deleted
        card.archived_at = utcnow() if client.deleted else None
        if client.deleted:
            report.of(CLIENTS).archived += 1
    for key, value in after.items():
        if key != "archived":
            setattr(card, key, value)
    if "manager_id" in after or archived:
        report.numbers_changed.update(numbers_of_counterparty(session, card.id))
    if after:
        audit_change(
            session,
            "archive" if archived and client.deleted else "update",
            "counterparty",
            card.id,
            before,
            after,
        )
    return bool(after)


def _tax_id_taken(session: Session, card: Counterparty, tax_id: str | None) -> bool:
    holder = session.scalar(select(Counterparty.id).where(Counterparty.tax_id == tax_id))
    return holder is not None and holder != card.id


def apply_contacts(
    session: Session,
    source: str,
    contacts: Sequence[ExternalContact],
    region: str,
    report: SyncReport,
    *,
    force: bool = False,
) -> None:
    """Create, update or remove the contact persons of this batch; never commits (``force``: as above)."""
    counts = report.of(CONTACTS)
    known = stored(session, source, CONTACT, (c.ref for c in contacts))
    todo = [c for c in contacts if force or not _unchanged(known, c.ref, c.version)]
    counts.unchanged += len(contacts) - len(todo)
    if not todo:
        return
    clients = all_local_ids(session, source, CLIENT)
    ids = [known[c.ref].local_id for c in todo if c.ref in known and known[c.ref].local_id]
    people = {p.id: p for p in session.scalars(select(ContactPerson).where(ContactPerson.id.in_(ids)))}
    phones = {c.ref: read_phones(c.phones, region, CONTACTS, c.ref, report) for c in todo}
    numbers = load_numbers(session, (e for found in phones.values() for e in found))
    linked = {c.ref: known[c.ref].local_id for c in todo if not c.deleted and c.ref in known}
    owners = {ref: pid for ref, pid in linked.items() if pid is not None and pid in people}
    pruned = prune(session, source, "contact_person_id", owners, phones, numbers, report)
    for contact in todo:
        state = known.get(contact.ref)
        person = people.get(state.local_id) if state is not None and state.local_id else None
        if contact.deleted:
            if person is not None:
                remove_contact(session, person, report)
                counts.removed += 1
            else:
                counts.unchanged += 1
            remember(session, known, source, CONTACT, contact.ref, None, contact.version)
            continue
        counterparty_id = clients.get(contact.client_ref)
        if counterparty_id is None:
            report.problem(CONTACTS, contact.ref, f"client {contact.client_ref} is not synced")
            continue
        created = person is None
        person, changed = _write_contact(session, person, contact, counterparty_id, report)
        owner = {"contact_person_id": person.id}
        added = attach(session, phones[contact.ref], numbers, owner, CONTACTS, contact.ref, report, source)
        if created:
            counts.created += 1
        elif changed or added or contact.ref in pruned:
            counts.updated += 1
        else:
            counts.unchanged += 1
        remember(session, known, source, CONTACT, contact.ref, person.id, contact.version)
    session.flush()


def _write_contact(
    session: Session,
    person: ContactPerson | None,
    contact: ExternalContact,
    counterparty_id: int,
    report: SyncReport,
) -> tuple[ContactPerson, bool]:
    """Create the contact person or copy what 1C owns onto it; (the person, whether it changed)."""
    wanted = {"counterparty_id": counterparty_id, "name": contact.name, "position": contact.position}
    if person is None:
        person = ContactPerson(**wanted)
        session.add(person)
        session.flush()
        audit_change(session, "create", "contact_person", person.id, None, wanted)
        return person, True
    before = {k: getattr(person, k) for k, v in wanted.items() if getattr(person, k) != v}
    after = {k: wanted[k] for k in before}
    for key, value in after.items():
        setattr(person, key, value)
    if after:
        audit_change(session, "update", "contact_person", person.id, before, after)
        own = select(PhoneNumber.e164).where(PhoneNumber.contact_person_id == person.id)
        report.numbers_changed.update(session.scalars(own))
    return person, bool(after)


def remove_contact(session: Session, person: ContactPerson, report: SyncReport) -> None:
    """A contact marked for deletion goes, with its numbers (the counterparty keeps its call history)."""
    own = select(PhoneNumber.e164).where(PhoneNumber.contact_person_id == person.id)
    report.numbers_changed.update(session.scalars(own))
    session.execute(delete(PhoneNumber).where(PhoneNumber.contact_person_id == person.id))
    audit_change(session, "delete", "contact_person", person.id, {"name": person.name}, None)
    session.delete(person)
