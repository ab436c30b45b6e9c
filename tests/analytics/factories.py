"""Small factories writing CRM rows for the analytics tests (flushed, never committed)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.orm import Session

from crm_core.models import (
    CallDirection,
    CallDisposition,
    CallRecord,
    ContactPerson,
    Counterparty,
    Deal,
    DealStageName,
    Interaction,
    InteractionKind,
    Manager,
    MissedCall,
    MissedReason,
    PhoneNumber,
    Shipment,
    ShipmentKind,
)

T = TypeVar("T")
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
_seq = itertools.count(1)


class Crm:
    """Creates rows in ``session`` with sensible defaults."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _add(self, row: T) -> T:
        self.session.add(row)
        self.session.flush()
        return row

    def manager(self, name: str = "Manager", *, active: bool = True) -> Manager:
        return self._add(Manager(name=name, login=f"m{next(_seq)}", active=active))

    def counterparty(
        self,
        name: str = "Client",
        manager: Manager | None = None,
        created_at: datetime = LONG_AGO,
        **fields: object,
    ) -> Counterparty:
        manager_id = manager.id if manager else None
        return self._add(Counterparty(name=name, manager_id=manager_id, created_at=created_at, **fields))

    def contact(self, cp: Counterparty, name: str = "Contact", number: str | None = None) -> ContactPerson:
        contact = self._add(ContactPerson(counterparty_id=cp.id, name=name))
        if number is not None:
            self._add(PhoneNumber(e164=number, contact_person_id=contact.id))
        return contact

    def shipment(
        self,
        cp: Counterparty,
        day: date,
        amount: str | int = 100,
        *,
        document: str | None = None,
        line: int | None = None,
        kind: ShipmentKind = ShipmentKind.SALE,
    ) -> Shipment:
        return self._add(
            Shipment(
                counterparty_id=cp.id,
                shipped_on=day,
                product="p",
                quantity=1,
                amount=Decimal(amount),
                kind=kind,
                document_number=document,
                line_number=line,
            )
        )

    def interaction(
        self, cp: Counterparty, at: datetime, kind: InteractionKind = InteractionKind.NOTE
    ) -> Interaction:
        return self._add(Interaction(counterparty_id=cp.id, kind=kind, occurred_at=at))

    def call(
        self,
        at: datetime,
        *,
        cp: Counterparty | None = None,
        by: Manager | None = None,
        disposition: CallDisposition = CallDisposition.ANSWERED,
        direction: CallDirection = CallDirection.INBOUND,
    ) -> CallRecord:
        return self._add(
            CallRecord(
                pbx_system="main",
                linkedid=f"{next(_seq)}.1",
                direction=direction,
                started_at=at,
                answered_at=at if disposition == CallDisposition.ANSWERED else None,
                disposition=disposition,
                counterparty_id=cp.id if cp else None,
                answered_by_manager_id=by.id if by else None,
            )
        )

    def missed(self, manager: Manager, created_at: datetime, called_back_at: datetime | None) -> MissedCall:
        record = self.call(created_at, disposition=CallDisposition.NO_ANSWER)
        return self._add(
            MissedCall(
                call_record_id=record.id,
                caller_number="+79001234567",
                reason=MissedReason.MANAGER_NO_ANSWER,
                assigned_manager_id=manager.id,
                created_at=created_at,
                called_back_at=called_back_at,
            )
        )

    def deal(
        self, cp: Counterparty, manager: Manager, stage: DealStageName, closed_at: datetime | None
    ) -> Deal:
        return self._add(
            Deal(counterparty_id=cp.id, manager_id=manager.id, title="d", stage=stage, closed_at=closed_at)
        )
