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
    """Clients with ``status`` on the reference day and their share of all the caller's clients."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "regular", "clients": 412, "share": 0.1873}]}
    )
    status: ClientStatus
    clients: int
    share: float | None


class StatusTransitionRead(ReadModel):
    """Clients that moved ``from_status`` -> ``to_status`` in ``month`` (from the status history)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"month": "2026-10", "from_status": "regular", "to_status": "departed", "clients": 17}
            ]
        }
    )
    month: str
    from_status: ClientStatus
    to_status: ClientStatus
    clients: int


class MatrixCellRead(ReadModel):
    """One ABC x XYZ cell: the caller's clients in it and their revenue."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"abc": "A", "xyz": "X", "clients": 38, "revenue": "18250000.00"}]}
    )
    abc: AbcClass
    xyz: XyzClass
    clients: int
    revenue: Decimal


class TrendPointRead(ReadModel):
    """Missed calls created ``start`` .. ``end`` (company days) and how fast they were called back."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2026-11-23",
                    "end": "2026-11-29",
                    "missed": 42,
                    "called_back": 37,
                    "callback_rate": 0.881,
                    "median_callback_seconds": 840.0,
                    "p90_callback_seconds": 5400.0,
                    "escalated": 3,
                }
            ]
        }
    )
    start: date
    end: date
    missed: int
    called_back: int
    callback_rate: float | None
    median_callback_seconds: float | None
    p90_callback_seconds: float | None
    escalated: int
