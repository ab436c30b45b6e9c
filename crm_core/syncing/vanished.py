"""Catalog objects the outside system no longer has at all (deleted, not only marked for deletion).

Found by the nightly full pass, confirmed one by one by the adapter, and treated like a deletion mark: a
client's card is archived with its history (never hard-deleted), a contact person is removed with its
numbers. The stored link goes, so an object that comes back (a restored backup) is matched again by its
reference as ``external_id``.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from crm_core.models.base import utcnow
from crm_core.models.counterparties import ContactPerson, Counterparty
from crm_core.repositories.routing import numbers_of_counterparty
from crm_core.syncing.clients import CLIENTS, CONTACTS, remove_contact
from crm_core.syncing.report import SyncReport
from crm_core.syncing.state import CLIENT, CONTACT, audit_change, stored


def archive_vanished_clients(
    session: Session, source: str, refs: Collection[str], report: SyncReport
) -> None:
    """Archive the cards of clients the outside system deleted; never commits."""
    for ref, state in stored(session, source, CLIENT, refs).items():
        card = session.get(Counterparty, state.local_id) if state.local_id is not None else None
        if card is not None and card.archived_at is None:
            card.archived_at = utcnow()
            audit_change(
                session,
                "archive",
                "counterparty",
                card.id,
                {"archived": False},
                {"archived": True, "vanished": ref},
            )
            report.numbers_changed.update(numbers_of_counterparty(session, card.id))
            report.of(CLIENTS).archived += 1
        session.delete(state)
    session.flush()


def remove_vanished_contacts(
    session: Session, source: str, refs: Collection[str], report: SyncReport
) -> None:
    """Remove the contact persons the outside system deleted, with their numbers; never commits."""
    for state in stored(session, source, CONTACT, refs).values():
        person = session.get(ContactPerson, state.local_id) if state.local_id is not None else None
        if person is not None:
            remove_contact(session, person, report)
            report.of(CONTACTS).removed += 1
        session.delete(state)
    session.flush()
