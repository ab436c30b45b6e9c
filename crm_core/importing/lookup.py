"""Batched reads of what the database already holds for a batch of rows: a few IN queries, no per-row I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_core.models.counterparties import Counterparty
from crm_core.models.enums import ClientStatus
from crm_core.models.phones import PhoneNumber


@dataclass(frozen=True, slots=True)
class StoredCounterparty:
    """The columns of a stored counterparty that an import compares and may update."""

    id: int
    name: str
    external_id: str | None
    tax_id: str | None
    region: str | None
    manager_id: int | None
    status: ClientStatus
    notes: str | None
    last_contact_on: date | None


@dataclass(frozen=True, slots=True)
class NumberOwner:
    """Who holds a stored number: a counterparty (its id) or another kind of owner; its row and extension."""

    phone_id: int
    counterparty_id: int | None
    other: str | None
    extension: str | None


@dataclass
class StoredState:
    """The stored counterparties and numbers that a batch's keys and numbers refer to."""

    by_external_id: dict[str, StoredCounterparty]
    by_tax_id: dict[str, StoredCounterparty]
    by_id: dict[int, StoredCounterparty]
    numbers: dict[str, NumberOwner]

    def describe(self, owner: NumberOwner) -> str:
        """``counterparty 'Name'`` or ``a manager`` / ``a contact person`` / ``a number list``."""
        if owner.counterparty_id is not None:
            return f"counterparty {self.by_id[owner.counterparty_id].name!r}"
        return f"a {owner.other}"


_STORED_COLUMNS = (
    Counterparty.id,
    Counterparty.name,
    Counterparty.external_id,
    Counterparty.tax_id,
    Counterparty.region,
    Counterparty.manager_id,
    Counterparty.status,
    Counterparty.notes,
    Counterparty.last_contact_on,
)


def load_state(
    session: Session, external_ids: Iterable[str], tax_ids: Iterable[str], numbers: Iterable[str]
) -> StoredState:
    """Two queries: the owners of ``numbers``, then every counterparty matching a key or owning a number."""
    numbers = list(set(numbers))
    owners: dict[str, NumberOwner] = {}
    if numbers:
        for phone_id, e164, extension, cp_id, contact_id, manager_id in session.execute(
            select(
                PhoneNumber.id,
                PhoneNumber.e164,
                PhoneNumber.extension,
                PhoneNumber.counterparty_id,
                PhoneNumber.contact_person_id,
                PhoneNumber.manager_id,
            ).where(PhoneNumber.e164.in_(numbers))
        ):
            other = "contact person" if contact_id else "manager" if manager_id else "number list"
            owners[e164] = NumberOwner(phone_id, cp_id, None if cp_id else other, extension)
    conditions = []
    if ext := list(set(external_ids)):
        conditions.append(Counterparty.external_id.in_(ext))
    if tax := list(set(tax_ids)):
        conditions.append(Counterparty.tax_id.in_(tax))
    if owner_ids := {o.counterparty_id for o in owners.values() if o.counterparty_id is not None}:
        conditions.append(Counterparty.id.in_(owner_ids))
    stored = []
    if conditions:
        query = select(*_STORED_COLUMNS).where(or_(*conditions))
        stored = [StoredCounterparty(*row) for row in session.execute(query)]
    return StoredState(
        by_external_id={c.external_id: c for c in stored if c.external_id},
        by_tax_id={c.tax_id: c for c in stored if c.tax_id},
        by_id={c.id: c for c in stored},
        numbers=owners,
    )
