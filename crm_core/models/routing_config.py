"""Routing configuration that admins change at run time: business hours, holidays, targets, fallbacks.

``routing_settings`` holds one row (``id = 1``); when it is missing the routing service uses built-in
defaults (reception = ``Settings.default_route``). Targets are named dial strings (a queue, a ring group,
the reception desk) that the settings refer to, so a dial string is changed in one place.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow
from crm_core.models.enums import str_enum


class RejectTreatment(enum.StrEnum):
    """What the dialplan plays to a rejected (blacklisted) caller."""

    BUSY = "busy"
    CONGESTION = "congestion"
    HANGUP = "hangup"


class RoutingTarget(Base):
    """A named dial string with its ring timeout (reception, HR, a ring group, after-hours voicemail)."""

    __tablename__ = "routing_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    dial_string: Mapped[str] = mapped_column(String(128))
    ring_timeout_s: Mapped[int] = mapped_column(Integer, default=20)

    __table_args__ = (CheckConstraint("ring_timeout_s > 0", name="positive_timeout"),)


def _target_fk() -> Mapped[int | None]:
    return mapped_column(ForeignKey("routing_targets.id", ondelete="SET NULL"))


class RoutingSettings(Base):
    """The company's routing policy (one row, ``id = 1``).

    ``business_hours`` has the shape of ``Manager.working_hours`` (ISO weekday -> ``[["09:00", "18:00"]]``
    in the company timezone); ``None`` means always open. A number owned by a manager (an internal mobile)
    goes to ``manager_number_target`` (or the default target when unset).
    """

    __tablename__ = "routing_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    default_target_id: Mapped[int | None] = _target_fk()
    after_hours_target_id: Mapped[int | None] = _target_fk()
    group_target_id: Mapped[int | None] = _target_fk()
    manager_number_target_id: Mapped[int | None] = _target_fk()
    reject_treatment: Mapped[RejectTreatment] = mapped_column(
        str_enum(RejectTreatment, "reject_treatment"), default=RejectTreatment.BUSY
    )
    fallback_to_controller: Mapped[bool] = mapped_column(Boolean, default=True)
    fallback_to_reception: Mapped[bool] = mapped_column(Boolean, default=True)
    cache_ttl_s: Mapped[int] = mapped_column(Integer, default=300)
    negative_ttl_s: Mapped[int] = mapped_column(Integer, default=30)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("cache_ttl_s > 0 AND negative_ttl_s > 0", name="positive_ttls"),
    )


class Holiday(Base):
    """A company holiday: the whole local day is outside business hours."""

    __tablename__ = "routing_holidays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(200))
