"""Call records, missed calls and the monthly total-number-capture report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, computed_field

from callrouter.api.schemas.common import Id, LongName, Note, RawNumber, ReadModel, Text, WriteModel
from callrouter.api.schemas.phones import PhoneOwner
from crm_core.models import CallDirection, CallDisposition, ListKind, ManagerRole, MissedReason, MissedStatus

Month = Annotated[str, Field(pattern=r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$", examples=["2026-11"])]


_CALL_EXAMPLE: dict[str, Any] = {
    "id": 17,
    "linkedid": "1795875455.438",
    "direction": "inbound",
    "caller_number": "+78431234567",
    "callee_number": "+78432000000",
    "started_at": "2026-11-28T10:00:00Z",
    "answered_at": "2026-11-28T10:00:09Z",
    "ended_at": "2026-11-28T10:03:00Z",
    "ring_seconds": 9.0,
    "talk_seconds": 171.0,
    "disposition": "answered",
    "answered_by_manager_id": 5,
    "route_kind": "personal_manager",
    "counterparty_id": 42,
    "unregistered_number": False,
    "approximate": False,
    "transferred_to": None,
    "has_recording": True,
    "recording_url": "/api/v1/calls/17/recording",
}
_TRANSFERRED_EXAMPLE: dict[str, Any] = {
    **_CALL_EXAMPLE,
    "transferred_to": "PJSIP/m2",
    "legs": [
        {
            "target": "PJSIP/m1",
            "manager_id": 5,
            "answered_at": "2026-11-28T10:00:09Z",
            "ended_at": "2026-11-28T10:01:00Z",
            "talk_seconds": 51.0,
            "approximate": False,
        },
        {
            "target": "PJSIP/m2",
            "manager_id": 6,
            "answered_at": "2026-11-28T10:01:04Z",
            "ended_at": "2026-11-28T10:03:00Z",
            "talk_seconds": 116.0,
            "approximate": False,
        },
    ],
}


class CallRead(ReadModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CALL_EXAMPLE]})

    id: int
    linkedid: str
    direction: CallDirection
    caller_number: str | None
    callee_number: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    ring_seconds: float | None
    talk_seconds: float | None
    disposition: CallDisposition
    answered_by_manager_id: int | None
    route_kind: str | None
    counterparty_id: int | None
    unregistered_number: bool
    approximate: bool = Field(
        description="A stored time is a guess: events of this call were lost while the AMI link was down"
    )
    transferred_to: str | None = Field(description="The last leg's target when the call was transferred")
    recording_file: str | None = Field(exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def has_recording(self) -> bool:
        return bool(self.recording_file)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recording_url(self) -> str | None:
        """The listen link (served by this API)."""
        return f"/api/v1/calls/{self.id}/recording" if self.recording_file else None


_MISSED_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "call_record_id": 17,
    "caller_number": "+78431234567",
    "reason": "manager_no_answer",
    "ring_seconds": 20.0,
    "assigned_manager_id": 5,
    "counterparty_id": 42,
    "status": "open",
    "attempts": 1,
    "last_attempt_at": "2026-11-28T10:00:20Z",
    "called_back_at": None,
    "comment": None,
    "created_at": "2026-11-28T10:00:20Z",
    "closed_at": None,
}


class CallLegRead(ReadModel):
    """One answered party of the call, in order: the talk time is this party's own."""

    target: str
    manager_id: int | None
    answered_at: datetime
    ended_at: datetime | None
    talk_seconds: float | None
    approximate: bool


class CallDetail(CallRead):
    """A call record with every answered leg (more than one after a transfer)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_TRANSFERRED_EXAMPLE]})

    legs: list[CallLegRead]


class MissedCallRead(ReadModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_MISSED_EXAMPLE]})

    id: int
    call_record_id: int
    caller_number: str
    reason: MissedReason
    ring_seconds: float | None
    assigned_manager_id: int | None
    counterparty_id: int | None
    status: MissedStatus
    attempts: int
    last_attempt_at: datetime
    called_back_at: datetime | None
    comment: str | None
    created_at: datetime
    closed_at: datetime | None


class MissedCallItem(MissedCallRead):
    """A missed call as the workspace lists it: names, first and last call, age and SLA included."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _MISSED_EXAMPLE
                | {
                    "manager_name": "Maria Manager",
                    "counterparty_name": "ACME LLC",
                    "first_call_at": "2026-11-28T10:00:20Z",
                    "last_call_at": "2026-11-28T10:00:20Z",
                    "age_seconds": 5400.0,
                    "due_at": "2026-11-29T10:00:20Z",
                    "overdue": False,
                }
            ]
        }
    )

    manager_name: str | None
    counterparty_name: str | None
    first_call_at: datetime = Field(description="The first missed call")
    last_call_at: datetime = Field(description="The latest attempt (same as last_attempt_at)")
    age_seconds: float = Field(description="Waiting since the first call (until it was resolved)")
    due_at: datetime | None = Field(description="When the callback is due by the escalation policy")
    overdue: bool = Field(description="Still waiting and past due_at")


class MissedCallPage(ReadModel):
    """A page of missed calls; ``page``/``page_size`` mirror ``offset``/``limit``."""

    items: list[MissedCallItem]
    total: int
    limit: int
    offset: int
    page: int
    page_size: int


class MissedCallResolution(WriteModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"action": "close", "comment": "Client called back from another number"}]
        }
    )

    action: Literal["acknowledge", "close"] = Field(
        description="acknowledge: seen, keep it open; close: nothing more to do"
    )
    comment: Annotated[Text, Field(min_length=1)]


class MissedCallOutcome(WriteModel):
    """What came of the missed call after the manager's call."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"outcome": "called_back", "note": "Wants a quote for 200 m of cable"},
                {"outcome": "closed", "reason": "Wrong number", "note": None},
            ]
        }
    )

    outcome: Literal["called_back", "closed"] = Field(
        description="called_back: reached the client (counts in the callback rate); closed: no callback"
    )
    reason: Annotated[Note, Field(min_length=1)] | None = Field(
        default=None, description="Required to close without a callback"
    )
    note: Annotated[Text, Field(min_length=1)] | None = Field(
        default=None, description="Becomes an interaction in the client's history"
    )


class MissedCallAssignment(WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"manager_id": 5}]})

    manager_id: Id


class Assignee(ReadModel):
    """A member of staff a missed call can be handed to."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{"id": 5, "name": "Мария Иванова", "role": "manager"}]},
    )

    id: int
    name: str
    role: ManagerRole


class UnregisteredNumber(ReadModel):
    number: str
    calls: list[CallRead]


class ManagerCapture(ReadModel):
    manager_id: int | None = Field(description="null: calls no manager took or was assigned")
    numbers: list[UnregisteredNumber]


class CaptureReport(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "month": "2026-11",
                    "managers": [
                        {
                            "manager_id": 5,
                            "numbers": [
                                {
                                    "number": "+79005550003",
                                    "calls": [_CALL_EXAMPLE],
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    month: str
    managers: list[ManagerCapture]


class RegisterNumber(PhoneOwner):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"number": "+79005550003", "counterparty_id": 42, "note": "new branch"}]
        }
    )

    number: RawNumber
    note: Note | None = None


class RegisterResult(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone_id": 12, "e164": "+79005550003", "calls_linked": 3}]}
    )

    phone_id: int
    e164: str
    calls_linked: int = Field(description="Call records of this number now linked to the counterparty")


class NumberRegistration(WriteModel):
    """Register a number in one step: to a card, a contact, a new card or a list (with a reason)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"number": "+79005550003", "target": "counterparty", "counterparty_id": 42},
                {"number": "8 900 555-00-04", "target": "new_counterparty", "name": "Sidorov IP"},
                {"number": "+79005550005", "target": "list", "list": "blacklist", "reason": "robocalls"},
            ]
        }
    )

    number: RawNumber
    target: Literal["counterparty", "contact", "new_counterparty", "list"]
    counterparty_id: Id | None = None
    contact_id: Id | None = None
    name: Annotated[LongName, Field(description="The new counterparty's name")] | None = None
    list: ListKind | None = Field(default=None, description="The list's kind (its first list is used)")
    list_id: Id | None = Field(default=None, description="A particular list instead of the kind")
    reason: Note | None = Field(default=None, description="Why (kept as the number's note)")


class NumberRegistered(RegisterResult):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "phone_id": 12,
                    "e164": "+79005550003",
                    "calls_linked": 3,
                    "counterparty_id": 42,
                    "number_list_id": None,
                    "missed_calls_linked": 1,
                }
            ]
        }
    )

    counterparty_id: int | None
    number_list_id: int | None
    missed_calls_linked: int = Field(description="Waiting missed calls of this number now on the card")
