"""What an outside system (1C) last sent for each object, and the record of every sync run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow


class ExternalObject(Base):
    """One object of an outside system: its reference, the local row it maps to and the version last applied.

    ``kind`` is the outside object kind (``user``, ``client``, ``contact``, ``document``); ``data_version``
    is 1C's ``DataVersion``, so an unchanged object is skipped on the next run.
    """

    __tablename__ = "external_objects"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    local_id: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(64))
    data_version: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SyncRun(Base):
    """One run of a sync: when, how long, what it did per object kind and what went wrong."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    kind: Mapped[str | None] = mapped_column(String(16))
    """``full`` (every catalog object re-read and re-applied) or ``incremental`` (changed objects only)."""
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    problems: Mapped[list[Any] | None] = mapped_column(JSON)
