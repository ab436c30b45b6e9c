"""Counterparties (client companies or persons) and their contact persons."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow
from crm_core.models.enums import ClientStatus, str_enum


class Counterparty(Base):
    """A client: company or person, with a personal manager."""

    __tablename__ = "counterparties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    tax_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    region: Mapped[str | None] = mapped_column(String(100))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id", ondelete="SET NULL"), index=True)
    status: Mapped[ClientStatus] = mapped_column(
        str_enum(ClientStatus, "client_status"), default=ClientStatus.POTENTIAL
    )
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    refined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    """When a person confirmed the card complete, or completed it (see docs/analytics.md, "Refined")."""
    refined_by_id: Mapped[int | None] = mapped_column(Integer)
    """The manager who refined it: a plain id, kept like a log entry (no foreign key, see 0014)."""
    last_contact_on: Mapped[date | None] = mapped_column(Date)
    """The last contact before the CRM knew the client (an imported day); real contacts are read apart."""
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set when the system of record (1C) marked the client for deletion: kept, but routed like a stranger."""
    manager_pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A manual manager assignment the 1C sync must not overwrite."""
    status_pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A person set the status: the recompute leaves it until ``status_pinned_until`` (or until cleared)."""
    status_pinned_until: Mapped[date | None] = mapped_column(Date)


class ContactPerson(Base):
    """A person at a counterparty."""

    __tablename__ = "contact_persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(
        ForeignKey("counterparties.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    """When a person confirmed the contact complete (a name and a number), or completed it."""
    refined_by_id: Mapped[int | None] = mapped_column(Integer)
