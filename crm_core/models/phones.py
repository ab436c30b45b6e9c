"""Phone numbers (E.164, unique, maybe with an extension) and the typed lists a number can belong to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow
from crm_core.models.enums import ListKind, ListTreatment, str_enum
from crm_core.phone_numbers import MAX_EXTENSION_LENGTH

OWNER_COLUMNS = ("counterparty_id", "contact_person_id", "manager_id", "number_list_id")
_EXACTLY_ONE_OWNER = " + ".join(f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)" for c in OWNER_COLUMNS) + " = 1"


class NumberList(Base):
    """A special list (blacklist, job candidates, custom) with its routing treatment."""

    __tablename__ = "number_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[ListKind] = mapped_column(str_enum(ListKind, "list_kind"))
    treatment: Mapped[ListTreatment] = mapped_column(str_enum(ListTreatment, "list_treatment"))
    target: Mapped[str | None] = mapped_column(String(128))
    ring_timeout_s: Mapped[int] = mapped_column(Integer, default=20)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("treatment <> 'route' OR target IS NOT NULL", name="route_needs_target"),
    )


class PhoneNumber(Base):
    """One E.164 number, owned by exactly one counterparty, contact, manager or list.

    ``extension`` is dialled after the number answers (``доб. 12``); callers are looked up by E.164 only.
    """

    __tablename__ = "phone_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    e164: Mapped[str] = mapped_column(String(20), unique=True)
    extension: Mapped[str | None] = mapped_column(String(MAX_EXTENSION_LENGTH))
    label: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(String(500))
    origin: Mapped[str | None] = mapped_column(String(16))
    """The outside system that created the number (``1c``), so its sync may remove it; None: added here."""
    counterparty_id: Mapped[int | None] = mapped_column(
        ForeignKey("counterparties.id", ondelete="CASCADE"), index=True
    )
    contact_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_persons.id", ondelete="CASCADE"), index=True
    )
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id", ondelete="CASCADE"), index=True)
    number_list_id: Mapped[int | None] = mapped_column(
        ForeignKey("number_lists.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint(_EXACTLY_ONE_OWNER, name="exactly_one_owner"),
        CheckConstraint("e164 LIKE '+%'", name="e164_plus"),
    )
