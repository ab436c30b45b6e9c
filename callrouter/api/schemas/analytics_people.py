"""Schemas of the people analytics: forgotten clients and the monthly manager KPIs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from callrouter.api.schemas.common import ReadModel
from crm_core.analytics.forgotten import ContactKind


class ForgottenRead(ReadModel):
    """A client nobody contacted for more than ``days`` days (``last_contact_at`` null: never)."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "counterparty_id": 42,
                    "counterparty_name": "Romashka LLC",
                    "manager_id": 3,
                    "manager_name": "Anna Petrova",
                    "last_contact_at": "2026-06-01T09:30:00Z",
                    "last_contact_on": "2026-06-01",
                    "last_contact_kind": "call",
                    "days_silent": 120,
                    "never_contacted": False,
                }
            ]
        },
    )

    counterparty_id: int
    counterparty_name: str
    manager_id: int | None
    manager_name: str | None
    last_contact_at: datetime | None = Field(description="An imported day counts from its local midnight")
    last_contact_on: date | None = Field(description="The last contact's day in the company timezone")
    last_contact_kind: ContactKind | None
    days_silent: int = Field(description="Days from the last contact (or the card's creation) to as_of")
    never_contacted: bool


class ForgottenPage(BaseModel):
    items: list[ForgottenRead]
    total: int
    page: int
    page_size: int
    as_of: date
    days: int


class ManagerKpiRead(BaseModel):
    """One manager's month: refined cards, calls, missed calls and callbacks, revenue, deals."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "manager_id": 3,
                    "manager_name": "Anna Petrova",
                    "refined_counterparties": 14,
                    "refined_contacts": 22,
                    "calls_answered": 310,
                    "talk_seconds": 41250.0,
                    "missed": 12,
                    "called_back": 11,
                    "callback_rate": 0.9166666666666666,
                    "median_callback_seconds": 540.0,
                    "revenue": "1250000.00",
                    "active_clients": 48,
                    "deals_won": 5,
                }
            ]
        }
    )
    manager_id: int
    manager_name: str
    refined_counterparties: int
    refined_contacts: int
    calls_answered: int
    talk_seconds: float
    missed: int
    called_back: int
    callback_rate: float | None = Field(description="Share of missed calls called back; null without any")
    median_callback_seconds: float | None
    revenue: Decimal
    active_clients: int
    deals_won: int


class KpiReport(BaseModel):
    items: list[ManagerKpiRead]
    month: str = Field(examples=["2026-11"])
    start: date
    end: date
