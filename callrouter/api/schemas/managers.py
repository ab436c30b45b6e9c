"""Managers (staff): read, create (admin) and update under per-role field allow-lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from callrouter.api.schemas.auth import Login
from callrouter.api.schemas.common import Email, Id, Name, ReadModel, Short, Target, WriteModel
from callrouter.api.schemas.routing_admin import WeeklyHoursJson
from crm_core.models import ManagerRole

# Validated by the routing calendar itself (intervals in order, "24:00" allowed); null = always reachable.
WorkingHours = WeeklyHoursJson

_EXAMPLE: dict[str, Any] = {
    "name": "Anna Ivanova",
    "login": "ivanova",
    "role": "manager",
    "dial_target": "PJSIP/201",
    "pbx": None,
    "extension": "201",
    "mobile": "+79001234567",
    "email": "ivanova@example.com",
    "controller_id": 2,
    "ring_timeout_s": 20,
    "working_hours": {"1": [["09:00", "18:00"]], "2": [["09:00", "18:00"]]},
}


class ManagerRead(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _EXAMPLE
                | {"id": 5, "active": True, "on_leave_until": None, "created_at": "2026-11-28T10:00:00Z"}
            ]
        }
    )

    id: int
    name: str
    login: str
    role: ManagerRole
    active: bool
    dial_target: str | None
    pbx: str | None = Field(description="The PBX the dial target is on; null: the main PBX")
    extension: str | None
    mobile: str | None
    email: str | None
    on_leave_until: date | None
    controller_id: int | None
    working_hours: dict[str, list[list[str]]] | None
    ring_timeout_s: int
    created_at: datetime


class ManagerFields(WriteModel):
    """Fields shared by create and update; every one optional on update."""

    dial_target: Target | None = None
    pbx: Short | None = Field(
        default=None,
        description="The PBX the dial target is on, as named in the settings (click-to-call rings it"
        " there); null: the main PBX",
    )
    extension: Short | None = None
    mobile: Short | None = None
    email: Email | None = None
    on_leave_until: date | None = None
    controller_id: Id | None = None
    working_hours: WorkingHours | None = None
    ring_timeout_s: int = Field(default=20, ge=5, le=300)


class ManagerCreate(ManagerFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [_EXAMPLE | {"password": "a long initial secret"}]}
    )

    name: Name
    login: Login
    role: ManagerRole = ManagerRole.MANAGER
    password: Annotated[str, StringConstraints(min_length=10, max_length=200)] | None = Field(
        default=None, description="Initial password (10+ characters); without one the user cannot log in"
    )


class ManagerUpdate(ManagerFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"mobile": "+79001234567", "on_leave_until": "2026-12-20"}]}
    )

    name: Name | None = None
    role: ManagerRole | None = None
    active: bool | None = None
    ring_timeout_s: int = Field(default=20, ge=5, le=300)


class PasswordChange(WriteModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"current_password": "old secret value", "new_password": "new secret value"}]
        }
    )

    current_password: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Required when changing your own password"
    )
    new_password: Annotated[str, StringConstraints(min_length=10, max_length=200)]
