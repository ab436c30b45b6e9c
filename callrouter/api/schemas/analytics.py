"""Analytics schemas: the stored thresholds and the per-client analytics."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from callrouter.api.schemas.common import ReadModel, WriteModel
from crm_core.analytics.abc_xyz import AbcClass, XyzClass
from crm_core.models import ClientStatus

Days = Annotated[int, Field(ge=0, le=3650, description="Calendar days")]
Share = Annotated[Decimal, Field(gt=0, le=1, max_digits=5, decimal_places=4)]
Cv = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]

_EXAMPLE: dict[str, Any] = {
    "fresh_days": 90,
    "departed_days": 180,
    "abc_a_share": "0.80",
    "abc_b_share": "0.95",
    "xyz_x_cv": "0.10",
    "xyz_y_cv": "0.25",
}


class AnalyticsSettingsPatch(WriteModel):
    """Thresholds to change: status windows, ABC cumulative shares (A <= B), XYZ CV bounds (X <= Y)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"fresh_days": 60}]})
    fresh_days: Days | None = None
    departed_days: Days | None = None
    abc_a_share: Share | None = None
    abc_b_share: Share | None = None
    xyz_x_cv: Cv | None = None
    xyz_y_cv: Cv | None = None


class AnalyticsSettingsRead(ReadModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_EXAMPLE, "updated_at": None}]})
    fresh_days: int
    departed_days: int
    abc_a_share: Decimal
    abc_b_share: Decimal
    xyz_x_cv: Decimal
    xyz_y_cv: Decimal
    updated_at: datetime | None


class ClientAnalyticsRead(ReadModel):
    """A client on the reference day: status, purchases, 12-month revenue with ABC/XYZ, 365-day RFM."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "counterparty_id": 42,
                    "name": "Romashka LLC",
                    "manager_id": 3,
                    "status": "regular",
                    "purchases": 14,
                    "last_purchase_on": "2026-11-20",
                    "revenue": "1250000.00",
                    "abc": "A",
                    "xyz": "Y",
                    "rfm": "545",
                    "recency_days": 10,
                    "frequency": 6,
                    "monetary": "640000.00",
                }
            ]
        }
    )
    counterparty_id: int
    name: str
    manager_id: int | None
    status: ClientStatus
    purchases: int
    last_purchase_on: date | None
    revenue: Decimal
    abc: AbcClass | None
    xyz: XyzClass | None
    rfm: str | None
    recency_days: int | None
    frequency: int | None
    monetary: Decimal | None
