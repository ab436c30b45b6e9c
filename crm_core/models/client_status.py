"""The history of client status changes: every move, by the daily recompute or by a person."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow
from crm_core.models.enums import ClientStatus, StatusCause, str_enum


class ClientStatusChange(Base):
    """One status move of a counterparty on a reference day; ``manager_id``/``reason`` for manual ones."""

    __tablename__ = "client_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(
        ForeignKey("counterparties.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[ClientStatus] = mapped_column(str_enum(ClientStatus, "status_change_from"))
    to_status: Mapped[ClientStatus] = mapped_column(str_enum(ClientStatus, "status_change_to"))
    day: Mapped[date] = mapped_column(Date, index=True)
    cause: Mapped[StatusCause] = mapped_column(str_enum(StatusCause, "status_cause"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    pinned_until: Mapped[date | None] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
