"""Routing administration schemas: targets, the routing settings, holidays, and validated weekly hours."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from callrouter.api.schemas.common import Id, Name, ReadModel, Target, WriteModel
from crm_core.models.routing_config import RejectTreatment
from routing.calendar import WeeklyHours

TimeOfDay = Annotated[str, StringConstraints(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
Weekday = Literal["1", "2", "3", "4", "5", "6", "7"]


Interval = Annotated[list[TimeOfDay], Field(min_length=2, max_length=2, description="[from, to]")]


def _parseable(hours: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    """Hours the routing calendar accepts: each interval ends after it starts (ValueError otherwise)."""
    WeeklyHours.parse(hours)
    return hours


WeeklyHoursJson = Annotated[
    dict[Weekday, list[Interval]],
    AfterValidator(_parseable),
    Field(
        description='ISO weekday ("1" = Monday) -> [[from, to], ...] in the company timezone; '
        '"24:00" ends a day; an absent weekday is closed',
        examples=[{"1": [["09:00", "18:00"]], "5": [["09:00", "13:00"], ["14:00", "17:00"]]}],
    ),
]
RingTimeout = Annotated[int, Field(ge=5, le=300, description="Seconds to ring before the next step")]
Ttl = Annotated[int, Field(ge=1, le=86_400, description="Seconds")]
TargetRef = Annotated[Id | None, Field(description="A routing target id; null = unset")]

_TARGET: dict[str, Any] = {"name": "reception", "dial_string": "PJSIP/100", "ring_timeout_s": 30}
_HOURS = {str(d): [["09:00", "18:00"]] for d in range(1, 6)}
_SETTINGS: dict[str, Any] = {
    "business_hours": _HOURS,
    "default_target_id": 1,
    "after_hours_target_id": 2,
    "group_target_id": None,
    "manager_number_target_id": None,
    "reject_treatment": "busy",
    "fallback_to_controller": True,
    "fallback_to_reception": True,
    "cache_ttl_s": 300,
    "negative_ttl_s": 30,
}


class RoutingTargetRead(ReadModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_TARGET | {"id": 1}]})

    id: int
    name: str
    dial_string: str
    ring_timeout_s: int


class RoutingTargetCreate(WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_TARGET]})

    name: Name
    dial_string: Target
    ring_timeout_s: RingTimeout = 20


class RoutingTargetUpdate(WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"dial_string": "PJSIP/101"}]})

    name: Name | None = None
    dial_string: Target | None = None
    ring_timeout_s: RingTimeout | None = None


class RoutingSettingsRead(ReadModel):
    """The routing policy in force (built-in defaults while nothing was stored: ``updated_at`` null)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [_SETTINGS | {"updated_at": "2026-11-28T10:00:00Z"}]}
    )

    business_hours: dict[str, list[list[str]]] | None
    default_target_id: int | None
    after_hours_target_id: int | None
    group_target_id: int | None
    manager_number_target_id: int | None
    reject_treatment: RejectTreatment
    fallback_to_controller: bool
    fallback_to_reception: bool
    cache_ttl_s: int
    negative_ttl_s: int
    updated_at: datetime | None


class RoutingSettingsPut(WriteModel):
    """The whole routing policy; ``business_hours`` null = always open."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SETTINGS]})

    business_hours: WeeklyHoursJson | None
    default_target_id: TargetRef
    after_hours_target_id: TargetRef
    group_target_id: TargetRef
    manager_number_target_id: TargetRef
    reject_treatment: RejectTreatment
    fallback_to_controller: bool
    fallback_to_reception: bool
    cache_ttl_s: Ttl
    negative_ttl_s: Ttl


class RoutingSettingsPatch(WriteModel):
    """Only the fields sent are changed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"after_hours_target_id": 2, "reject_treatment": "congestion"}]}
    )

    business_hours: WeeklyHoursJson | None = None
    default_target_id: TargetRef = None
    after_hours_target_id: TargetRef = None
    group_target_id: TargetRef = None
    manager_number_target_id: TargetRef = None
    reject_treatment: RejectTreatment | None = None
    fallback_to_controller: bool | None = None
    fallback_to_reception: bool | None = None
    cache_ttl_s: Ttl | None = None
    negative_ttl_s: Ttl | None = None


class HolidayRead(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": 3, "day": "2026-01-01", "name": "New Year"}]}
    )

    id: int
    day: date
    name: str


class HolidayCreate(WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"day": "2026-01-01", "name": "New Year"}]})

    day: Annotated[date, Field(ge=date(2000, 1, 1), le=date(2200, 12, 31))]
    name: Name
