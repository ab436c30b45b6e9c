"""Phone numbers (E.164 plus an optional extension) and the typed number lists (blacklist, candidates...)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from callrouter.api.schemas.common import Id, Note, RawNumber, ReadModel, Short, Target, WriteModel
from crm_core.models import ListKind, ListTreatment
from crm_core.phone_numbers import MAX_EXTENSION_LENGTH

OWNER_FIELDS = ("counterparty_id", "contact_person_id", "manager_id", "number_list_id")
Extension = Annotated[
    str,
    StringConstraints(pattern=rf"^[0-9]{{1,{MAX_EXTENSION_LENGTH}}}$"),
    Field(
        description="Digits dialled after the number answers (доб. 12); callers are matched by E.164 only",
        examples=["12"],
    ),
]


class PhoneRead(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "e164": "+78431234567",
                    "extension": "12",
                    "label": "office",
                    "note": None,
                    "counterparty_id": 42,
                    "contact_person_id": None,
                    "manager_id": None,
                    "number_list_id": None,
                    "created_at": "2026-11-28T10:00:00Z",
                }
            ]
        }
    )

    id: int
    e164: str
    extension: str | None
    label: str | None
    note: str | None
    counterparty_id: int | None
    contact_person_id: int | None
    manager_id: int | None
    number_list_id: int | None
    created_at: datetime


class PhoneOwner(WriteModel):
    """Exactly one owner: a counterparty, a contact person, a manager or a number list."""

    counterparty_id: Id | None = None
    contact_person_id: Id | None = None
    manager_id: Id | None = None
    number_list_id: Id | None = None

    @model_validator(mode="after")
    def _one_owner(self) -> PhoneOwner:
        if len(self.owner()) != 1:
            raise ValueError(f"give exactly one of {', '.join(OWNER_FIELDS)}")
        return self

    def owner(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in OWNER_FIELDS if getattr(self, name) is not None}


class PhoneAssign(PhoneOwner):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"number": "8 (843) 123-45-67 доб. 12", "counterparty_id": 42, "label": "office"},
                {"number": "+7 900 123-45-67", "contact_person_id": 7, "reassign": True},
            ]
        }
    )

    number: RawNumber
    extension: Extension | None = Field(
        default=None, description="Dialled after the number; default: the one written in `number` (доб. 12)"
    )
    label: Short | None = None
    note: Note | None = Field(default=None, description="Free text; for list entries: the reason")
    reassign: bool = Field(
        default=False, description="Move the number here even if another card or list holds it (audited)"
    )


class PhoneUpdate(WriteModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"label": "mobile", "note": "after 14:00"}, {"extension": "12"}]}
    )

    extension: Extension | None = None
    label: Short | None = None
    note: Note | None = None


class ListEntryCreate(WriteModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"number": "+7 495 000-00-00", "reason": "robocalls", "reassign": False}]
        }
    )

    number: RawNumber
    reason: Note | None = None
    reassign: bool = False


ListName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]+$")]


class NumberListUpdate(WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"target": "PJSIP/300", "ring_timeout_s": 25}]})

    name: ListName | None = None
    treatment: ListTreatment | None = None
    target: Target | None = None
    ring_timeout_s: int | None = Field(default=None, ge=5, le=300)


class NumberListCreate(NumberListUpdate):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Spam", "kind": "blacklist", "treatment": "reject"},
                {
                    "name": "Job candidates",
                    "kind": "job_candidates",
                    "treatment": "route",
                    "target": "PJSIP/300",
                },
            ]
        }
    )

    name: ListName
    kind: ListKind
    treatment: ListTreatment

    @model_validator(mode="after")
    def _route_needs_target(self) -> NumberListCreate:
        if self.treatment is ListTreatment.ROUTE and not self.target:
            raise ValueError("treatment 'route' needs a target")
        return self


class NumberListRead(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "name": "Spam",
                    "kind": "blacklist",
                    "treatment": "reject",
                    "target": None,
                    "ring_timeout_s": 20,
                    "created_at": "2026-11-28T10:00:00Z",
                }
            ]
        }
    )

    id: int
    name: str
    kind: ListKind
    treatment: ListTreatment
    target: str | None
    ring_timeout_s: int
    created_at: datetime
