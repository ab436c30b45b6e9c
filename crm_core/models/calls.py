"""Call records (one per conversation, keyed by PBX + Linkedid), their answered legs, and missed calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow
from crm_core.models.enums import CallDirection, CallDisposition, MissedReason, MissedStatus, str_enum


class CallRecord(Base):
    """What really happened in one conversation across all its channels."""

    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pbx_system: Mapped[str] = mapped_column(String(64))
    linkedid: Mapped[str] = mapped_column(String(64))
    direction: Mapped[CallDirection] = mapped_column(str_enum(CallDirection, "call_direction"))
    caller_number: Mapped[str | None] = mapped_column(String(64), index=True)
    callee_number: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ring_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    disposition: Mapped[CallDisposition] = mapped_column(str_enum(CallDisposition, "call_disposition"))
    answered_by_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("managers.id", ondelete="SET NULL"), index=True
    )
    answered_by_target: Mapped[str | None] = mapped_column(String(128))
    rung_targets: Mapped[list[Any] | None] = mapped_column(JSON)
    route_kind: Mapped[str | None] = mapped_column(String(32))
    recording_file: Mapped[str | None] = mapped_column(String(500))
    counterparty_id: Mapped[int | None] = mapped_column(
        ForeignKey("counterparties.id", ondelete="SET NULL"), index=True
    )
    unregistered_number: Mapped[bool] = mapped_column(Boolean, default=False)
    approximate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    transferred_to: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("pbx_system", "linkedid"),)


class CallLeg(Base):
    """One answered party of a call, in answer order: who talked to the caller and for how long."""

    __tablename__ = "call_legs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_record_id: Mapped[int] = mapped_column(ForeignKey("call_records.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(128))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id", ondelete="SET NULL"), index=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    approximate: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("call_record_id", "position"),)


class MissedCall(Base):
    """An inbound client call nobody answered, to be called back (or escalated)."""

    __tablename__ = "missed_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_record_id: Mapped[int] = mapped_column(
        ForeignKey("call_records.id", ondelete="CASCADE"), unique=True
    )
    caller_number: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[MissedReason] = mapped_column(str_enum(MissedReason, "missed_reason"))
    ring_seconds: Mapped[float | None] = mapped_column(Float)
    assigned_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("managers.id", ondelete="SET NULL"), index=True
    )
    counterparty_id: Mapped[int | None] = mapped_column(
        ForeignKey("counterparties.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[MissedStatus] = mapped_column(
        str_enum(MissedStatus, "missed_status"), default=MissedStatus.OPEN, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    callback_call_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_records.id", ondelete="SET NULL")
    )
    called_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_back_by_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("managers.id", ondelete="SET NULL")
    )
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
