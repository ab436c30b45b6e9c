"""The client card a manager sees while the phone rings (screen pop) or after a call.

Client (name, status, manager), numbers, missed calls waiting for a callback, the last calls and
interactions, open deals and needs: a fixed number of queries whatever the history's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from crm_core.models import (
    CallDirection,
    CallDisposition,
    CallRecord,
    ClientStatus,
    ContactPerson,
    Counterparty,
    Deal,
    DealStageName,
    Interaction,
    InteractionKind,
    Manager,
    MissedCall,
    MissedStatus,
    Need,
    PhoneNumber,
)
from crm_core.repositories.missed_calls import MissedCallView, load_views, status_condition
from crm_core.services.missed_events import policy_sla

HISTORY = 10
CLOSED_STAGES = (DealStageName.WON, DealStageName.LOST)


@dataclass(frozen=True, slots=True)
class CardClient:
    id: int
    name: str
    status: ClientStatus
    tax_id: str | None
    region: str | None
    notes: str | None
    manager_id: int | None
    manager_name: str | None


@dataclass(frozen=True, slots=True)
class CardPhone:
    e164: str
    label: str | None
    contact_person_id: int | None
    contact_name: str | None


@dataclass(frozen=True, slots=True)
class CardCall:
    id: int
    direction: CallDirection
    caller_number: str | None
    callee_number: str | None
    started_at: datetime
    disposition: CallDisposition
    talk_seconds: float | None
    answered_by_manager_id: int | None
    answered_by_name: str | None
    has_recording: bool


@dataclass(frozen=True, slots=True)
class CardInteraction:
    id: int
    kind: InteractionKind
    occurred_at: datetime
    summary: str | None
    manager_id: int | None
    manager_name: str | None
    contact_person_id: int | None
    call_record_id: int | None


@dataclass(frozen=True, slots=True)
class CardDeal:
    id: int
    title: str
    amount: Decimal | None
    stage: DealStageName
    manager_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CardNeed:
    id: int
    product: str
    quantity: Decimal | None
    period: str | None
    probability: int


_CARD_EXAMPLE: dict[str, Any] = {
    "client": {
        "id": 42,
        "name": "ACME LLC",
        "status": "regular",
        "tax_id": "7701234567",
        "region": "Moscow",
        "notes": None,
        "manager_id": 5,
        "manager_name": "Maria Manager",
    },
    "phones": [{"e164": "+78431234567", "label": "office", "contact_person_id": None, "contact_name": None}],
    "open_missed_calls": [],
    "last_calls": [
        {
            "id": 17,
            "direction": "inbound",
            "caller_number": "+78431234567",
            "callee_number": "+74950001122",
            "started_at": "2026-11-28T10:00:00Z",
            "disposition": "answered",
            "talk_seconds": 171.0,
            "answered_by_manager_id": 5,
            "answered_by_name": "Maria Manager",
            "has_recording": True,
        }
    ],
    "last_interactions": [
        {
            "id": 3,
            "kind": "call",
            "occurred_at": "2026-11-28T10:03:00Z",
            "summary": "Wants a quote for 200 m of cable",
            "manager_id": 5,
            "manager_name": "Maria Manager",
            "contact_person_id": None,
            "call_record_id": 17,
        }
    ],
    "open_deals": [
        {
            "id": 8,
            "title": "Cable",
            "amount": "1200.50",
            "stage": "proposal",
            "manager_id": 5,
            "created_at": "2026-11-01T09:00:00Z",
        }
    ],
    "needs": [
        {"id": 2, "product": "Copper cable", "quantity": "200.000", "period": "month", "probability": 80}
    ],
}


@dataclass(frozen=True, slots=True)
class CounterpartyCard:
    """Everything the screen pop shows about one client."""

    __pydantic_config__ = ConfigDict(json_schema_extra={"examples": [_CARD_EXAMPLE]})

    client: CardClient
    phones: list[CardPhone]
    open_missed_calls: list[MissedCallView]
    last_calls: list[CardCall]
    last_interactions: list[CardInteraction]
    open_deals: list[CardDeal]
    needs: list[CardNeed]


_CARD_JSON = TypeAdapter(CounterpartyCard)


def card_json(card: CounterpartyCard) -> dict[str, Any]:
    """The card as JSON-ready data (what the API answers)."""
    data: dict[str, Any] = _CARD_JSON.dump_python(card, mode="json")
    return data


def _client(session: Session, counterparty: Counterparty) -> CardClient:
    manager_name = (
        session.scalar(select(Manager.name).where(Manager.id == counterparty.manager_id))
        if counterparty.manager_id is not None
        else None
    )
    return CardClient(
        counterparty.id,
        counterparty.name,
        counterparty.status,
        counterparty.tax_id,
        counterparty.region,
        counterparty.notes,
        counterparty.manager_id,
        manager_name,
    )


def _open_missed(session: Session, cp_id: int, now: datetime) -> list[MissedCallView]:
    missed = select(MissedCall).where(
        MissedCall.counterparty_id == cp_id, status_condition(MissedStatus.OPEN)
    )
    return load_views(session, missed.order_by(MissedCall.created_at.desc()), now, policy_sla(session))


def build_caller_card(
    session: Session, counterparty: Counterparty, caller: str | None, now: datetime
) -> CounterpartyCard:
    """What a manager who may not see ``counterparty`` gets while its call rings their phone (a colleague's
    client, through the fallback chain): enough to answer it - the name, status and personal manager, the
    number calling and the missed calls waiting for a callback; nothing of the history, deals, needs,
    notes, tax id or the client's other numbers."""
    full = _client(session, counterparty)
    client = CardClient(full.id, full.name, full.status, None, None, None, full.manager_id, full.manager_name)
    phones = [p for p in _phones(session, counterparty.id) if p.e164 == caller]
    return CounterpartyCard(
        client=client,
        phones=[CardPhone(p.e164, p.label, None, None) for p in phones],
        open_missed_calls=_open_missed(session, counterparty.id, now),
        last_calls=[],
        last_interactions=[],
        open_deals=[],
        needs=[],
    )


def build_card(session: Session, counterparty: Counterparty, now: datetime) -> CounterpartyCard:
    """The card of ``counterparty`` (the caller checked the viewer may see it)."""
    cp_id = counterparty.id
    return CounterpartyCard(
        client=_client(session, counterparty),
        phones=_phones(session, cp_id),
        open_missed_calls=_open_missed(session, cp_id, now),
        last_calls=_calls(session, cp_id),
        last_interactions=_interactions(session, cp_id),
        open_deals=[
            CardDeal(d.id, d.title, d.amount, d.stage, d.manager_id, d.created_at)
            for d in session.scalars(
                select(Deal)
                .where(Deal.counterparty_id == cp_id, Deal.stage.not_in(CLOSED_STAGES))
                .order_by(Deal.created_at.desc(), Deal.id.desc())
            )
        ],
        needs=[
            CardNeed(n.id, n.product, n.quantity, n.period, n.probability)
            for n in session.scalars(
                select(Need).where(Need.counterparty_id == cp_id).order_by(Need.probability.desc(), Need.id)
            )
        ],
    )


def _phones(session: Session, cp_id: int) -> list[CardPhone]:
    contacts = select(ContactPerson.id).where(ContactPerson.counterparty_id == cp_id)
    rows = session.execute(
        select(PhoneNumber, ContactPerson.name)
        .outerjoin(ContactPerson, ContactPerson.id == PhoneNumber.contact_person_id)
        .where((PhoneNumber.counterparty_id == cp_id) | PhoneNumber.contact_person_id.in_(contacts))
        .order_by(PhoneNumber.id)
    ).all()
    return [CardPhone(p.e164, p.label, p.contact_person_id, name) for p, name in rows]


def _calls(session: Session, cp_id: int) -> list[CardCall]:
    rows = session.execute(
        select(CallRecord, Manager.name)
        .outerjoin(Manager, Manager.id == CallRecord.answered_by_manager_id)
        .where(CallRecord.counterparty_id == cp_id)
        .order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
        .limit(HISTORY)
    ).all()
    return [
        CardCall(
            c.id,
            c.direction,
            c.caller_number,
            c.callee_number,
            c.started_at,
            c.disposition,
            c.talk_seconds,
            c.answered_by_manager_id,
            name,
            bool(c.recording_file),
        )
        for c, name in rows
    ]


def _interactions(session: Session, cp_id: int) -> list[CardInteraction]:
    who = aliased(Manager)
    rows = session.execute(
        select(Interaction, who.name)
        .outerjoin(who, who.id == Interaction.manager_id)
        .where(Interaction.counterparty_id == cp_id)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(HISTORY)
    ).all()
    return [
        CardInteraction(
            i.id, i.kind, i.occurred_at, i.summary, i.manager_id, name, i.contact_person_id, i.call_record_id
        )
        for i, name in rows
    ]
