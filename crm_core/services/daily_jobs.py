"""Run a job once per company day across every instance, claimed through the database.

The claim is a row ``(job, day)`` of ``daily_job_runs`` (unique) written in the **same transaction** as the
job's own work: when the work commits, the row says ``done``; when the process dies half-way the database
rolls both back, so the day is not marked and the next attempt (on any instance) runs it. A job that raises
is rolled back and leaves a ``failed`` row with the error, which may be claimed again after ``retry_after``.

On PostgreSQL a transaction-scoped advisory lock on ``(job, day)`` is taken first without waiting, so a
second instance skips at once instead of queueing behind the unique key for the length of the run. On
SQLite the database's single writer serialises the claims (one instance).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models.daily_jobs import DailyJobRun

DONE, FAILED, RUNNING = "done", "failed", "running"

Work = Callable[[Session], int]
"""The job: does its writes in the session (never commits) and returns how many rows it changed."""


@dataclass(frozen=True)
class JobRun:
    """A finished run as recorded."""

    job: str
    day: date
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows: int | None
    error: str | None
    instance: str | None

    @property
    def duration_s(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``/ready``."""
        return {
            "job": self.job,
            "day": self.day.isoformat(),
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_s": self.duration_s,
            "rows": self.rows,
            "error": self.error,
            "instance": self.instance,
        }


def _lock_key(job: str, day: date) -> int:
    """A signed 64-bit advisory lock key for ``(job, day)``, stable across processes."""
    return (zlib.crc32(job.encode()) & 0x7FFFFFFF) << 32 | day.toordinal()


def _claim(
    session: Session, job: str, day: date, started: datetime, instance: str, retry_after: timedelta
) -> bool:
    """Insert the ``running`` row of ``(job, day)`` unless a run is done, in progress elsewhere, or failed
    less than ``retry_after`` ago; True when this transaction holds the day."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and not session.scalar(
        select(func.pg_try_advisory_xact_lock(_lock_key(job, day)))
    ):
        return False
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = DailyJobRun
    values = {"job": job, "day": day, "status": RUNNING, "started_at": started, "instance": instance}
    stmt = (
        insert(table)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[table.job, table.day],
            set_={**values, "finished_at": None, "rows": None, "error": None},
            where=(table.status == FAILED) & (table.finished_at <= started - retry_after),
        )
        .returning(table.id)
    )
    return session.execute(stmt).first() is not None


def run_once(
    sessions: sessionmaker[Session],
    job: str,
    day: date,
    work: Work,
    *,
    clock: Callable[[], datetime],
    instance: str = "",
    retry_after: timedelta = timedelta(minutes=15),
) -> JobRun | None:
    """Run ``work`` for ``day`` unless some instance already did (or is doing) it; None when skipped.

    Raises what ``work`` raised, after recording the ``failed`` run.
    """
    started = clock()
    with sessions() as session:
        if not _claim(session, job, day, started, instance, retry_after):
            session.rollback()
            return None
        try:
            rows = work(session)
            finished = clock()
            session.execute(
                update(DailyJobRun)
                .where(DailyJobRun.job == job, DailyJobRun.day == day)
                .values(status=DONE, finished_at=finished, rows=rows)
                .execution_options(synchronize_session=False)
            )
            session.commit()
        except Exception as exc:
            session.rollback()
            _record_failure(sessions, job, day, started, clock(), instance, repr(exc))
            raise
    return JobRun(job, day, DONE, started, finished, rows, None, instance)


def _record_failure(
    sessions: sessionmaker[Session],
    job: str,
    day: date,
    started: datetime,
    finished: datetime,
    instance: str,
    error: str,
) -> None:
    """Keep the failed run (the day stays open: a ``failed`` row may be claimed again)."""
    table = DailyJobRun
    with sessions() as session:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        values = {
            "job": job,
            "day": day,
            "status": FAILED,
            "started_at": started,
            "finished_at": finished,
            "error": error[:2000],
            "instance": instance,
        }
        session.execute(
            insert(table)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[table.job, table.day], set_=values, where=table.status != DONE
            )
        )
        session.commit()


def last_run(session: Session, job: str) -> JobRun | None:
    """The latest recorded run of ``job`` (by day), or None when it never ran."""
    row = session.scalars(
        select(DailyJobRun).where(DailyJobRun.job == job).order_by(DailyJobRun.day.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return JobRun(
        row.job, row.day, row.status, row.started_at, row.finished_at, row.rows, row.error, row.instance
    )
