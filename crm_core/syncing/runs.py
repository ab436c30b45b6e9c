"""The record of sync runs: started, finished with counts and problems, the last one for operators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models.base import utcnow
from crm_core.models.external_sync import SyncRun
from crm_core.syncing.report import SyncReport

MAX_STORED_PROBLEMS = 200


FULL, INCREMENTAL = "full", "incremental"


def start_run(session: Session, source: str, kind: str = INCREMENTAL) -> SyncRun:
    run = SyncRun(source=source, status="running", kind=kind, started_at=utcnow())
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run: SyncRun, report: SyncReport, error: str | None = None) -> None:
    """Close ``run``: ``completed`` (maybe with warnings) or ``failed`` with the error."""
    run.finished_at = utcnow()
    run.status = "failed" if error else "completed"
    run.counts = report.counts_dict()
    problems: list[Any] = [str(p) for p in report.problems[:MAX_STORED_PROBLEMS]]
    run.problems = ([error] if error else []) + problems


def last_run(session: Session, source: str) -> dict[str, Any] | None:
    """The latest run as JSON-ready data, or None when the sync never ran."""
    run = session.scalars(
        select(SyncRun).where(SyncRun.source == source).order_by(SyncRun.id.desc()).limit(1)
    ).first()
    if run is None:
        return None
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "status": run.status,
        "kind": run.kind,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_s": duration,
        "counts": run.counts or {},
        "problems": run.problems or [],
    }


def last_full_start(session: Session, source: str) -> datetime | None:
    """When the latest completed full run started, or None when none completed yet."""
    stmt = select(SyncRun.started_at).where(
        SyncRun.source == source, SyncRun.kind == FULL, SyncRun.status == "completed"
    )
    return session.scalars(stmt.order_by(SyncRun.id.desc()).limit(1)).first()
