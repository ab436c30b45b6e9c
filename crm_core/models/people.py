"""Managers: the people calls are routed to, with their controller above them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow
from crm_core.models.enums import Language, ManagerRole, str_enum


class Manager(Base):
    """An employee who takes calls: manager, controller, director or admin.

    ``working_hours`` maps ISO weekday numbers (``"1"`` = Monday) to ``[["09:00", "18:00"], ...]`` in the
    company timezone; ``None`` means "always reachable".
    """

    __tablename__ = "managers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    login: Mapped[str] = mapped_column(String(64), unique=True)
    dial_target: Mapped[str | None] = mapped_column(String(128))
    # the PBX the dial target is on (a name from the settings): click-to-call originates there; None: the main
    pbx: Mapped[str | None] = mapped_column(String(64))
    extension: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[ManagerRole] = mapped_column(
        str_enum(ManagerRole, "manager_role"), default=ManagerRole.MANAGER
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_leave_until: Mapped[date | None] = mapped_column(Date)
    controller_id: Mapped[int | None] = mapped_column(
        ForeignKey("managers.id", ondelete="SET NULL"), index=True
    )
    working_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ring_timeout_s: Mapped[int] = mapped_column(Integer, default=20)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[Language | None] = mapped_column(str_enum(Language, "language"))  # None: company's
    # raised by a password change or reset: access tokens carrying an older version stop working
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
