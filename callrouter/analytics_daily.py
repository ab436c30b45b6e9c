"""The daily client status recompute inside ``serve``: once per company day, whichever instance gets it.

After ``CALLROUTER_ANALYTICS_DAILY_AT`` (company timezone, default 03:00; ``off`` disables) every instance
tries, once a minute, to claim the day's run through the database (:mod:`crm_core.services.daily_jobs`):
exactly one runs it, a run that fails or dies half-way leaves the day open and is retried. The last run
(from the database, so every instance shows the same) is in ``/ready`` and ``/metrics``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from contextlib import AsyncExitStack
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from callrouter.wiring import Container
from crm_core.analytics.status import recompute_statuses
from crm_core.models import utcnow
from crm_core.services import analytics_settings, daily_jobs

log = logging.getLogger(__name__)
JOB = "analytics-status"
POLL_S = 60.0
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"


def due_day(now: datetime, timezone: str, at: time) -> date | None:
    """The company day whose run is due at ``now``: today there once its clock shows ``at``, else None."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.date() if local.time().replace(tzinfo=None) >= at else None


def run_due(container: Container, now: datetime) -> daily_jobs.JobRun | None:
    """One attempt (blocking): run the recompute for the day due at ``now`` unless it is done or not due."""
    at = container.settings.analytics_daily_at
    day = due_day(now, container.settings.company_timezone, at) if at is not None else None
    if day is None:
        return None

    def work(session: Session) -> int:
        thresholds = analytics_settings.thresholds(session).status
        return recompute_statuses(session, day, utcnow(), thresholds).changed

    metrics = container.metrics
    try:
        run = daily_jobs.run_once(container.sessions, JOB, day, work, clock=utcnow, instance=INSTANCE)
    except Exception:
        metrics.daily_job_runs.labels(JOB, daily_jobs.FAILED).inc()
        raise
    if run is not None:
        metrics.daily_job_runs.labels(JOB, daily_jobs.DONE).inc()
        log.info("daily status recompute done", extra={"day": day.isoformat(), "rows": run.rows})
    return run


def last_run(container: Container) -> daily_jobs.JobRun | None:
    """The latest recorded run (any instance); also refreshes the ``callrouter_daily_job_last_*`` gauges."""
    with container.sessions() as session:
        run = daily_jobs.last_run(session, JOB)
    if run is not None and run.finished_at is not None:
        metrics = container.metrics
        metrics.daily_job_last_finished.labels(JOB).set(run.finished_at.timestamp())
        metrics.daily_job_last_duration.labels(JOB).set(run.duration_s or 0.0)
        metrics.daily_job_last_rows.labels(JOB).set(run.rows or 0)
    return run


def ready_check(container: Container) -> dict[str, Any]:
    """For ``/ready`` (informative, never makes it fail): the setting and the last run."""
    at = container.settings.analytics_daily_at
    try:
        run = last_run(container)
    except Exception as exc:
        return {"at": at.isoformat("minutes") if at else "off", "last_run": None, "error": repr(exc)}
    return {"at": at.isoformat("minutes") if at else "off", "last_run": run.as_dict() if run else None}


async def run_daily(container: Container, stop: asyncio.Event) -> None:
    """Try every ``POLL_S`` until ``stop``; a failed attempt is logged and retried later (a database that
    is away is logged once, as a warning, until it is back)."""
    database_away = False
    while not stop.is_set():
        try:
            await asyncio.to_thread(run_due, container, utcnow())
            await asyncio.to_thread(last_run, container)
            if database_away:
                log.info("daily status recompute: the database is back")
            database_away = False
        except (OperationalError, InterfaceError) as exc:
            if not database_away:
                log.warning(
                    "daily status recompute: database unavailable", extra={"error": str(exc.orig)[:300]}
                )
            database_away = True
        except Exception as exc:
            log.exception("daily status recompute failed; retried later", extra={"error": repr(exc)})
        try:
            async with asyncio.timeout(POLL_S):
                await stop.wait()
        except TimeoutError:
            continue


def start(container: Container, stack: AsyncExitStack) -> None:
    """Schedule the job in ``serve`` (nothing when ``CALLROUTER_ANALYTICS_DAILY_AT=off``)."""
    if container.settings.analytics_daily_at is None:
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run_daily(container, stop), name="analytics-daily")

    async def _stop() -> None:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    stack.push_async_callback(_stop)
    log.info(
        "daily status recompute scheduled", extra={"at": container.settings.analytics_daily_at.isoformat()}
    )
