"""Client status by hand (pinned against the recompute) and the status history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from callrouter.api.schemas.common import ReadModel, WriteModel
from crm_core.models import ClientStatus, StatusCause


class StatusPin(WriteModel):
    """A status set by hand; the recompute leaves it until ``pinned_until`` (included) or until cleared."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "regular", "reason": "framework contract signed", "pinned_until": "2027-03-31"}
            ]
        }
    )
    status: ClientStatus
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    pinned_until: date | None = None


class StatusChangeRead(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "counterparty_id": 42,
                    "from_status": "one_time_old",
                    "to_status": "regular",
                    "day": "2026-11-30",
                    "cause": "manual",
                    "manager_id": 3,
                    "reason": "framework contract signed",
                    "pinned_until": "2027-03-31",
                    "at": "2026-11-30T09:00:00Z",
                }
            ]
        }
    )
    id: int
    counterparty_id: int
    from_status: ClientStatus
    to_status: ClientStatus
    day: date
    cause: StatusCause
    manager_id: int | None
    reason: str | None
    pinned_until: date | None
    at: datetime
