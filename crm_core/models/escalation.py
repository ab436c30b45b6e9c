"""Escalation of missed calls: the policy as data, durable step timers, the notification outbox.

* ``EscalationPolicyStep`` rows are the policy admins edit at run time (ordered by ``position``).
* ``NotificationGroup`` / ``NotificationGroupMember`` name groups a step can address (``group:<name>``).
* ``EscalationStep`` is one durable timer: step N of one missed call, due at ``due_at`` (compared with
  the database clock). Firing a step turns it into deliveries in the same transaction.
* ``NotificationDelivery`` is the outbox: one row per missed call + step + recipient + channel (the
  UNIQUE ``dedupe_key``), leased to one worker while it sends, retried with backoff.
* ``NotificationAttempt`` records every send attempt; ``InAppNotification`` is what the workspace lists.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow
from crm_core.models.enums import str_enum


class StepStatus(enum.StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class EscalationPolicyStep(Base):
    """Step ``position`` of the escalation policy.

    ``recipients`` holds roles relative to the missed call: ``assigned_manager``, ``controller``,
    ``director`` or ``group:<name>``; ``channels`` holds channel names (``email``, ``sms``, ``whatsapp``,
    ``webhook``, ``inapp``). ``delay_seconds`` counts from the missed call, in business time only when
    ``business_hours_only`` is set.
    """

    __tablename__ = "escalation_policy_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    delay_seconds: Mapped[int] = mapped_column(Integer)
    business_hours_only: Mapped[bool] = mapped_column(Boolean, default=False)
    recipients: Mapped[list[Any]] = mapped_column(JSON)
    channels: Mapped[list[Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NotificationGroup(Base):
    """A named set of managers a policy step can notify."""

    __tablename__ = "notification_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class NotificationGroupMember(Base):
    """Membership of one manager in one notification group."""

    __tablename__ = "notification_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("notification_groups.id", ondelete="CASCADE"), primary_key=True
    )
    manager_id: Mapped[int] = mapped_column(ForeignKey("managers.id", ondelete="CASCADE"), primary_key=True)


class EscalationStep(Base):
    """A durable timer: step ``step`` of a missed call, with the recipients and channels planned for it."""

    __tablename__ = "escalation_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    missed_call_id: Mapped[int] = mapped_column(ForeignKey("missed_calls.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[StepStatus] = mapped_column(
        str_enum(StepStatus, "escalation_step_status"), default=StepStatus.PENDING
    )
    recipients: Mapped[list[Any]] = mapped_column(JSON)
    channels: Mapped[list[Any]] = mapped_column(JSON)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fired_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("missed_call_id", "step"),
        Index("ix_escalation_steps_status_due_at", "status", "due_at"),
    )


class NotificationDelivery(Base):
    """One notification to one recipient on one channel (who, what, when, channel, result)."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    missed_call_id: Mapped[int] = mapped_column(ForeignKey("missed_calls.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    recipient_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("managers.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_notification_deliveries_status_next_retry_at", "status", "next_retry_at"),)


class NotificationAttempt(Base):
    """One try at sending a delivery, successful or not."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("notification_deliveries.id", ondelete="CASCADE"), index=True
    )
    worker: Mapped[str] = mapped_column(String(100))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)


class InAppNotification(Base):
    """A notification shown in the web workspace and listed by the API."""

    __tablename__ = "inapp_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_manager_id: Mapped[int] = mapped_column(ForeignKey("managers.id", ondelete="CASCADE"))
    missed_call_id: Mapped[int | None] = mapped_column(ForeignKey("missed_calls.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    read: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_inapp_notifications_recipient_read", "recipient_manager_id", "read"),)
