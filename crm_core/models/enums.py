"""Value sets stored as constrained strings (portable across PostgreSQL and SQLite)."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


class ManagerRole(enum.StrEnum):
    MANAGER = "manager"
    CONTROLLER = "controller"
    DIRECTOR = "director"
    ADMIN = "admin"
    RECEPTION = "reception"  # sees its own calls like a manager, and the shared queue of unknown numbers


class Language(enum.StrEnum):
    """The languages of the workspace and of notifications."""

    RU = "ru"
    EN = "en"


class ClientStatus(enum.StrEnum):
    POTENTIAL = "potential"
    ONE_TIME_FRESH = "one_time_fresh"
    REGULAR = "regular"
    ONE_TIME_OLD = "one_time_old"
    DEPARTED = "departed"


class StatusCause(enum.StrEnum):
    """Why a client's status changed: the daily recompute or a person (with a reason)."""

    RECOMPUTE = "recompute"
    MANUAL = "manual"


class ShipmentKind(enum.StrEnum):
    """A sale line (a purchase when its document totals above zero) or a return line (reduces revenue)."""

    SALE = "sale"
    RETURN = "return"


class ListKind(enum.StrEnum):
    BLACKLIST = "blacklist"
    JOB_CANDIDATES = "job_candidates"
    CUSTOM = "custom"


class ListTreatment(enum.StrEnum):
    REJECT = "reject"
    ROUTE = "route"


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class CallDisposition(enum.StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    ABANDONED = "abandoned"
    REJECTED = "rejected"
    FAILED = "failed"


class MissedReason(enum.StrEnum):
    MANAGER_NO_ANSWER = "manager_no_answer"
    CHAIN_NO_ANSWER = "chain_no_answer"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    ABANDONED = "abandoned"
    SHORT_ABANDON = "short_abandon"
    AFTER_HOURS = "after_hours"
    NOT_ANSWERED_BY_PERSON = "not_answered_by_person"


class MissedStatus(enum.StrEnum):
    OPEN = "open"
    CALLED_BACK = "called_back"
    ESCALATED = "escalated"
    CLOSED = "closed"


class InteractionKind(enum.StrEnum):
    CALL = "call"
    MESSENGER = "messenger"
    EMAIL = "email"
    MEETING = "meeting"
    NOTE = "note"


class DealStageName(enum.StrEnum):
    LEAD = "lead"
    QUALIFICATION = "qualification"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    WON = "won"
    LOST = "lost"


def str_enum(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    """A VARCHAR column restricted to the enum's values by a named CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
