"""Schemas of the sales reports: needs, funnel, and the summaries behind the workspace charts.

Fields are named as the CSV/XLSX columns (one schema gives both)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from callrouter.api.schemas.common import ReadModel
from crm_core.analytics.abc_xyz import AbcClass, XyzClass
from crm_core.models import ClientStatus, DealStageName

RowT = TypeVar("RowT")


class Report(BaseModel, Generic[RowT]):
    """Every row of a summary (small by nature: no paging) on the reference day ``as_of``."""

    items: list[RowT]
    as_of: date


class NeedGroupRead(ReadModel):
    """Needs of one group; a dimension not grouped by is ``null``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "region": "Казань",
                    "manager_id": 3,
                    "manager_name": "Мария Иванова",
                    "product": "Цемент",
                    "needs": 4,
                    "quantity": "120.000",
                    "expected_quantity": "78.000",
                }
            ]
        }
    )
    region: str | None
    manager_id: int | None
    manager_name: str | None
    product: str | None
    needs: int
    quantity: Decimal
    expected_quantity: Decimal


class FunnelRowRead(ReadModel):
    """Deals of a month and manager that reached ``stage`` (``lost``: lost on ``as_of``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "month": "2026-10",
                    "manager_id": 3,
                    "manager_name": "Мария Иванова",
                    "stage": "proposal",
                    "deals": 6,
                    "conversion": 0.75,
                }
            ]
        }
    )
    month: str | None
    manager_id: int | None
    manager_name: str | None
    stage: DealStageName
    deals: int
    conversion: float | None


class StatusShareRead(ReadModel):
    status: ClientStatus
    clients: int
    share: float | None


class StatusTransitionRead(ReadModel):
    month: str
    from_status: ClientStatus
    to_status: ClientStatus
    clients: int


class MatrixCellRead(ReadModel):
    abc: AbcClass
    xyz: XyzClass
    clients: int
    revenue: Decimal


class TrendPointRead(ReadModel):
    """Missed calls created ``start`` .. ``end`` (company days) and how fast they were called back."""

    start: date
    end: date
    missed: int
    called_back: int
    callback_rate: float | None
    median_callback_seconds: float | None
    p90_callback_seconds: float | None
    escalated: int
