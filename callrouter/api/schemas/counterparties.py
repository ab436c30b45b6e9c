"""Counterparties (clients)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from callrouter.api.schemas.common import (
    ExternalId,
    Id,
    LongName,
    Medium,
    RawNumber,
    ReadModel,
    Text,
    WriteModel,
)
from crm_core.models import ClientStatus

TaxId = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$")]

_EXAMPLE: dict[str, Any] = {
    "name": "OOO Romashka",
    "tax_id": "1655123456",
    "external_id": "1C-000123",
    "region": "Tatarstan",
    "status": "regular",
    "notes": "Orders every month",
    "manager_id": 5,
}


class CounterpartyRead(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _EXAMPLE
                | {
                    "id": 42,
                    "created_at": "2026-11-28T10:00:00Z",
                    "updated_at": "2026-11-28T10:00:00Z",
                    "refined_at": None,
                    "refined_by_id": None,
                    "last_contact_on": None,
                    "archived_at": None,
                    "manager_pinned": False,
                    "status_pinned": False,
                    "status_pinned_until": None,
                }
            ]
        }
    )

    id: int
    name: str
    tax_id: str | None
    external_id: str | None
    region: str | None
    status: ClientStatus
    notes: str | None
    manager_id: int | None
    created_at: datetime
    updated_at: datetime
    refined_at: datetime | None = Field(description="When a person confirmed or completed the card")
    refined_by_id: int | None = Field(description="The manager who refined the card")
    last_contact_on: date | None = Field(description="Last contact day before the CRM (imported)")
    archived_at: datetime | None = Field(
        description="Marked for deletion in 1C: kept, routed like a stranger"
    )
    manager_pinned: bool = Field(description="The 1C sync keeps this manager instead of 1C's")
    status_pinned: bool
    status_pinned_until: date | None


class CounterpartyUpdate(WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "regular", "notes": "Called back"}]})

    name: LongName | None = None
    tax_id: TaxId | None = None
    external_id: ExternalId | None = None
    region: Medium | None = None
    status: ClientStatus | None = None
    notes: Text | None = None
    manager_id: Id | None = Field(default=None, description="Personal manager (controller and above)")
    manager_pinned: bool | None = Field(
        default=None, description="Keep this manager when 1C assigns another (controller and above)"
    )


class CounterpartyCreate(CounterpartyUpdate):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE | {"phones": ["8 (843) 123-45-67"]}]})

    name: LongName
    phones: list[RawNumber] = Field(default_factory=list, max_length=20, description="Numbers to register")
