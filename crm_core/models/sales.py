"""Interactions, deals with their stage history, client needs and shipments (the analytics input)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow
from crm_core.models.enums import DealStageName, InteractionKind, ShipmentKind, str_enum


class Interaction(Base):
    """A touch with a client: call, messenger, email, meeting or note."""

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(
        ForeignKey("counterparties.id", ondelete="CASCADE"), index=True
    )
    contact_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_persons.id", ondelete="SET NULL")
    )
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id", ondelete="SET NULL"), index=True)
    kind: Mapped[InteractionKind] = mapped_column(str_enum(InteractionKind, "interaction_kind"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    summary: Mapped[str | None] = mapped_column(Text)
    call_record_id: Mapped[int | None] = mapped_column(ForeignKey("call_records.id", ondelete="SET NULL"))


class Deal(Base):
    """A sales opportunity moving through stages."""

    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(
        ForeignKey("counterparties.id", ondelete="CASCADE"), index=True
    )
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    stage: Mapped[DealStageName] = mapped_column(
        str_enum(DealStageName, "deal_stage"), default=DealStageName.LEAD
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DealStage(Base):
    """One step of a deal's stage history."""

    __tablename__ = "deal_stages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    stage: Mapped[DealStageName] = mapped_column(str_enum(DealStageName, "deal_stage_history"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id", ondelete="SET NULL"))


class Need(Base):
    """What a client needs, how much, how often and how likely they buy (0-100 %)."""

    __tablename__ = "needs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(
        ForeignKey("counterparties.id", ondelete="CASCADE"), index=True
    )
    product: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    period: Mapped[str | None] = mapped_column(String(50))
    probability: Mapped[int] = mapped_column(Integer, default=50)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("probability BETWEEN 0 AND 100", name="probability_percent"),)


class Shipment(Base):
    """A sale or return line of a 1C document: the ground truth for client status and ABC/XYZ/RFM.

    ``amount`` is never negative; a ``return`` line subtracts it from revenue. Lines of one document share
    ``document_number``; ``(kind, document_number, line_number)`` is unique, so a re-import updates lines.
    """

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    counterparty_id: Mapped[int] = mapped_column(
        ForeignKey("counterparties.id", ondelete="CASCADE"), index=True
    )
    shipped_on: Mapped[date] = mapped_column(Date, index=True)
    product: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    kind: Mapped[ShipmentKind] = mapped_column(
        str_enum(ShipmentKind, "shipment_kind"), default=ShipmentKind.SALE, server_default="sale"
    )
    document_number: Mapped[str | None] = mapped_column(String(64))
    line_number: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("kind", "document_number", "line_number"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )
