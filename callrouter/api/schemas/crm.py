"""Contact persons, interactions, deals (with stage history), needs and shipments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, ConfigDict, Field

from callrouter.api.schemas.common import (
    Email,
    ExternalId,
    Id,
    LongName,
    Name,
    ReadModel,
    Short,
    Text,
    WriteModel,
)
from crm_core.models import DealStageName, InteractionKind, ShipmentKind

Amount = Annotated[Decimal, Field(max_digits=14, decimal_places=2, ge=0)]
Quantity = Annotated[Decimal, Field(max_digits=14, decimal_places=3, ge=0)]


def _examples(*items: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(items)})


class ContactUpdate(WriteModel):
    model_config = _examples({"position": "Chief buyer"})
    name: Name | None = None
    position: Name | None = None
    email: Email | None = None


class ContactCreate(ContactUpdate):
    model_config = _examples({"counterparty_id": 42, "name": "Petr Sidorov", "position": "Buyer"})
    counterparty_id: Id
    name: Name


class ContactRead(ReadModel):
    model_config = _examples(
        {
            "id": 7,
            "counterparty_id": 42,
            "name": "Petr Sidorov",
            "position": "Buyer",
            "email": None,
            "created_at": "2026-11-28T10:00:00Z",
            "refined_at": None,
            "refined_by_id": None,
        }
    )
    id: int
    counterparty_id: int
    name: str
    position: str | None
    email: str | None
    created_at: datetime
    refined_at: datetime | None
    refined_by_id: int | None


class InteractionUpdate(WriteModel):
    model_config = _examples({"summary": "Agreed on a December delivery"})
    contact_person_id: Id | None = None
    kind: InteractionKind | None = None
    occurred_at: AwareDatetime | None = None
    summary: Text | None = None
    call_record_id: Id | None = None
    manager_id: Id | None = Field(default=None, description="Who talked (controller and above; default: you)")


class InteractionCreate(InteractionUpdate):
    model_config = _examples({"counterparty_id": 42, "kind": "call", "summary": "Asked for a price list"})
    counterparty_id: Id
    kind: InteractionKind


class InteractionRead(ReadModel):
    model_config = _examples(
        {
            "id": 3,
            "counterparty_id": 42,
            "contact_person_id": None,
            "manager_id": 5,
            "kind": "call",
            "occurred_at": "2026-11-28T10:00:00Z",
            "summary": "Price list",
            "call_record_id": None,
        }
    )
    id: int
    counterparty_id: int
    contact_person_id: int | None
    manager_id: int | None
    kind: InteractionKind
    occurred_at: datetime
    summary: str | None
    call_record_id: int | None


class DealUpdate(WriteModel):
    model_config = _examples({"stage": "proposal", "amount": "150000.00"})
    title: LongName | None = None
    amount: Amount | None = None
    stage: DealStageName | None = Field(default=None, description="A change is kept in the stage history")
    manager_id: Id | None = Field(default=None, description="Controller and above; default: you")


class DealCreate(DealUpdate):
    model_config = _examples({"counterparty_id": 42, "title": "Winter supply", "amount": "150000.00"})
    counterparty_id: Id
    title: LongName


class DealRead(ReadModel):
    model_config = _examples(
        {
            "id": 9,
            "counterparty_id": 42,
            "manager_id": 5,
            "title": "Winter supply",
            "amount": "150000.00",
            "stage": "lead",
            "created_at": "2026-11-28T10:00:00Z",
            "closed_at": None,
        }
    )
    id: int
    counterparty_id: int
    manager_id: int | None
    title: str
    amount: Decimal | None
    stage: DealStageName
    created_at: datetime
    closed_at: datetime | None


class DealStageRead(ReadModel):
    model_config = _examples(
        {
            "id": 1,
            "deal_id": 9,
            "stage": "lead",
            "entered_at": "2026-11-28T10:00:00Z",
            "changed_by_manager_id": 5,
        }
    )
    id: int
    deal_id: int
    stage: DealStageName
    entered_at: datetime
    changed_by_manager_id: int | None


class NeedUpdate(WriteModel):
    model_config = _examples({"probability": 80})
    product: LongName | None = None
    quantity: Quantity | None = None
    period: Short | None = None
    probability: int | None = Field(default=None, ge=0, le=100)


class NeedCreate(NeedUpdate):
    model_config = _examples(
        {
            "counterparty_id": 42,
            "product": "Cement M500",
            "quantity": "20",
            "period": "month",
            "probability": 60,
        }
    )
    counterparty_id: Id
    product: LongName


class NeedRead(ReadModel):
    model_config = _examples(
        {
            "id": 2,
            "counterparty_id": 42,
            "product": "Cement M500",
            "quantity": "20.000",
            "period": "month",
            "probability": 60,
            "created_at": "2026-11-28T10:00:00Z",
        }
    )
    id: int
    counterparty_id: int
    product: str
    quantity: Decimal | None
    period: str | None
    probability: int
    created_at: datetime


DocumentNumber = Annotated[str, Field(min_length=1, max_length=64)]
LineNumber = Annotated[int, Field(ge=1, le=1_000_000)]


class ShipmentUpdate(WriteModel):
    """A sale or return line; ``amount`` is never negative (a ``return`` subtracts it from revenue);
    ``shipped_on`` at most one day after today (company timezone)."""

    model_config = _examples({"amount": "52000.00"})
    external_id: ExternalId | None = None
    shipped_on: date | None = None
    product: LongName | None = None
    quantity: Quantity | None = None
    amount: Amount | None = None
    kind: ShipmentKind | None = None
    document_number: DocumentNumber | None = None
    line_number: LineNumber | None = None


class ShipmentCreate(ShipmentUpdate):
    model_config = _examples(
        {
            "external_id": "1C-SH-1001",
            "counterparty_id": 42,
            "shipped_on": "2026-11-20",
            "product": "Cement M500",
            "quantity": "10",
            "amount": "52000.00",
            "kind": "sale",
            "document_number": "00000001234",
            "line_number": 1,
        }
    )
    counterparty_id: Id
    shipped_on: date
    product: LongName
    quantity: Quantity
    amount: Amount


class ShipmentRead(ReadModel):
    model_config = _examples(
        {
            "id": 11,
            "external_id": "1C-SH-1001",
            "counterparty_id": 42,
            "shipped_on": "2026-11-20",
            "product": "Cement M500",
            "quantity": "10.000",
            "amount": "52000.00",
            "kind": "sale",
            "document_number": "00000001234",
            "line_number": 1,
        }
    )
    id: int
    external_id: str | None
    counterparty_id: int
    shipped_on: date
    product: str
    quantity: Decimal
    amount: Decimal
    kind: ShipmentKind
    document_number: str | None
    line_number: int | None


class ShipmentBulk(WriteModel):
    """Shipments to upsert by ``external_id`` (rows without one are always inserted)."""

    model_config = _examples({"items": [ShipmentCreate.model_config["json_schema_extra"]["examples"][0]]})  # type: ignore[index]
    items: list[ShipmentCreate] = Field(min_length=1, max_length=5000)


class BulkResult(ReadModel):
    model_config = _examples({"inserted": 10, "updated": 2})
    inserted: int
    updated: int
