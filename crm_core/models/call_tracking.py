"""In-flight call state persisted by call tracking, so calls survive a restart or a lost AMI link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow


class ActiveCall(Base):
    """The folded state of one conversation that has not finished yet (one row per PBX + Linkedid)."""

    __tablename__ = "active_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pbx_system: Mapped[str] = mapped_column(String(64))
    linkedid: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("pbx_system", "linkedid"),)
