"""Runs of the jobs done once per company day across every instance (the daily status recompute)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime


class DailyJobRun(Base):
    """The run of ``job`` for the company day ``day``: one row per (job, day), whoever ran it.

    A row is committed together with the job's own writes (``status`` ``done``) or after they were rolled
    back (``failed``, with ``error``: the day is retried); a run in progress is invisible to others.
    """

    __tablename__ = "daily_job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    instance: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("job", "day"),)
