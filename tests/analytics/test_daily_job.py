"""The daily recompute once per company day across instances: the claim, failures, crashes, the clock."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time as clock
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from callrouter.analytics_daily import JOB, due_day, ready_check, run_due, start
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.db import make_engine, make_session_factory
from crm_core.models import ClientStatus, Counterparty, Shipment
from crm_core.models.daily_jobs import DailyJobRun
from crm_core.services import daily_jobs

DAY = date(2026, 11, 30)
T0 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@pytest.fixture
def sessions(fresh_db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_db_url)
    yield make_session_factory(engine)
    engine.dispose()


def _runs(sessions: sessionmaker[Session]) -> list[tuple[date, str, int | None, str | None]]:
    with sessions() as s:
        rows = s.execute(
            select(DailyJobRun.day, DailyJobRun.status, DailyJobRun.rows, DailyJobRun.error).order_by(
                DailyJobRun.day
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _add_buyer(sessions: sessionmaker[Session], day: date) -> int:
    with sessions() as s:
        cp = Counterparty(name="Buyer")
        s.add(cp)
        s.flush()
        s.add(Shipment(counterparty_id=cp.id, shipped_on=day, product="p", quantity=1, amount=10))
        s.commit()
        return cp.id


def _status(sessions: sessionmaker[Session], cid: int) -> ClientStatus:
    with sessions() as s:
        return s.get_one(Counterparty, cid).status


def test_two_racing_runners_run_the_day_exactly_once(fresh_db_url: str) -> None:
    engines = [make_engine(fresh_db_url) for _ in range(2)]
    factories = [make_session_factory(e) for e in engines]
    ran: list[int] = []
    results: list[daily_jobs.JobRun | None] = []
    start = threading.Barrier(2)

    def runner(number: int) -> None:
        def work(session: Session) -> int:
            ran.append(number)
            clock.sleep(0.5)  # the other runner claims meanwhile
            return 7

        start.wait()
        results.append(
            daily_jobs.run_once(factories[number], JOB, DAY, work, clock=lambda: T0, instance=str(number))
        )

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()

    assert len(ran) == 1
    assert sorted((r is None) for r in results) == [False, True]
    assert _runs(factories[0]) == [(DAY, "done", 7, None)]


def test_a_failing_run_is_rolled_back_recorded_and_retried(sessions: sessionmaker[Session]) -> None:
    cid = _add_buyer(sessions, DAY - timedelta(days=1))

    def failing(session: Session) -> int:
        session.execute(text("UPDATE counterparties SET status = 'regular'"))
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        daily_jobs.run_once(sessions, JOB, DAY, failing, clock=lambda: T0)

    assert _status(sessions, cid) is ClientStatus.POTENTIAL  # its writes were rolled back
    assert _runs(sessions) == [(DAY, "failed", None, "RuntimeError('disk full')")]
    skipped = daily_jobs.run_once(sessions, JOB, DAY, lambda s: 1, clock=lambda: T0 + timedelta(minutes=5))
    assert skipped is None  # within retry_after (15 minutes)

    retried = daily_jobs.run_once(sessions, JOB, DAY, lambda s: 1, clock=lambda: T0 + timedelta(minutes=16))

    assert retried is not None and retried.rows == 1
    assert _runs(sessions) == [(DAY, "done", 1, None)]
    assert daily_jobs.run_once(sessions, JOB, DAY, lambda s: 2, clock=lambda: T0 + timedelta(hours=1)) is None


def test_the_next_day_runs_again(sessions: sessionmaker[Session]) -> None:
    assert daily_jobs.run_once(sessions, JOB, DAY, lambda s: 3, clock=lambda: T0) is not None
    assert daily_jobs.run_once(sessions, JOB, DAY, lambda s: 3, clock=lambda: T0) is None
    nxt = daily_jobs.run_once(sessions, JOB, DAY + timedelta(days=1), lambda s: 4, clock=lambda: T0)

    assert nxt is not None
    assert _runs(sessions) == [(DAY, "done", 3, None), (DAY + timedelta(days=1), "done", 4, None)]
    with sessions() as s:
        last = daily_jobs.last_run(s, JOB)
    assert last is not None and last.day == DAY + timedelta(days=1) and last.rows == 4


CRASHING_RUNNER = """
import os, sys
from datetime import UTC, date, datetime
from sqlalchemy import text
from crm_core.db import make_engine, make_session_factory
from crm_core.services import daily_jobs

def work(session):
    session.execute(text("UPDATE counterparties SET status = 'regular'"))
    session.flush()
    os._exit(9)  # killed half-way: no rollback, no failure record

sessions = make_session_factory(make_engine(sys.argv[1]))
daily_jobs.run_once(sessions, sys.argv[2], date.fromisoformat(sys.argv[3]), work,
                    clock=lambda: datetime.now(UTC))
"""


def test_a_process_killed_half_way_leaves_the_day_open(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    sessions = make_session_factory(engine)
    cid = _add_buyer(sessions, DAY - timedelta(days=1))

    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_RUNNER, fresh_db_url, JOB, DAY.isoformat()], timeout=120, check=False
    )

    assert crashed.returncode == 9
    assert _runs(sessions) == []
    assert _status(sessions, cid) is ClientStatus.POTENTIAL
    assert daily_jobs.run_once(sessions, JOB, DAY, lambda s: 5, clock=lambda: T0) is not None
    assert _runs(sessions) == [(DAY, "done", 5, None)]
    engine.dispose()


@pytest.mark.parametrize(
    ("now", "at", "due"),
    [
        (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), time(3, 0), None),  # 02:59 in Moscow on Dec 1
        (datetime(2026, 12, 1, 0, 0, tzinfo=UTC), time(3, 0), date(2026, 12, 1)),  # 03:00 in Moscow
        (datetime(2026, 11, 30, 21, 0, tzinfo=UTC), time(0, 0), date(2026, 12, 1)),  # Moscow midnight
        (datetime(2026, 11, 30, 20, 59, tzinfo=UTC), time(0, 0), date(2026, 11, 30)),
        (datetime(2026, 11, 30, 20, 59, tzinfo=UTC), time(23, 59), date(2026, 11, 30)),
        (datetime(2026, 11, 30, 20, 58, tzinfo=UTC), time(23, 59), None),
    ],
)
def test_the_due_day_is_the_company_day_after_the_set_time(now: datetime, at: time, due: date | None) -> None:
    assert due_day(now, "Europe/Moscow", at) == due


def test_serve_job_recomputes_and_reports_in_ready_and_metrics(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    settings = Settings(env="development", database_url=fresh_db_url, analytics_daily_at=time(3, 0))
    container = Container(settings=settings, engine=engine, sessions=make_session_factory(engine))
    cid = _add_buyer(container.sessions, DAY - timedelta(days=10))
    assert ready_check(container) == {"at": "03:00", "last_run": None}

    assert run_due(container, datetime(2026, 11, 29, 23, 59, tzinfo=UTC)) is None  # 02:59 Moscow: not yet
    run = run_due(container, datetime(2026, 11, 30, 0, 0, tzinfo=UTC))

    assert run is not None and run.day == DAY and run.rows == 1
    assert _status(container.sessions, cid) is ClientStatus.ONE_TIME_FRESH
    assert run_due(container, datetime(2026, 11, 30, 12, 0, tzinfo=UTC)) is None  # done today
    check = ready_check(container)
    assert check["last_run"]["day"] == "2026-11-30"
    assert check["last_run"]["status"] == "done" and check["last_run"]["rows"] == 1
    registry = container.metrics.registry
    assert registry.get_sample_value("callrouter_daily_job_last_rows", {"job": JOB}) == 1
    assert registry.get_sample_value("callrouter_daily_job_runs_total", {"job": JOB, "result": "done"}) == 1
    engine.dispose()


def test_the_setting_is_read_from_the_environment_and_can_be_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(env="development").analytics_daily_at == time(3, 0)
    monkeypatch.setenv("CALLROUTER_ANALYTICS_DAILY_AT", "04:30")
    assert Settings(env="development").analytics_daily_at == time(4, 30)
    monkeypatch.setenv("CALLROUTER_ANALYTICS_DAILY_AT", "off")
    assert Settings(env="development").analytics_daily_at is None


async def test_the_serve_task_runs_the_due_day_and_stops_with_the_stack(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    settings = Settings(env="development", database_url=fresh_db_url, analytics_daily_at=time(0, 0))
    container = Container(settings=settings, engine=engine, sessions=make_session_factory(engine))
    today = due_day(datetime.now(UTC), settings.company_timezone, time(0, 0))

    async with AsyncExitStack() as stack:
        start(container, stack)
        deadline = asyncio.get_running_loop().time() + 60
        while not await asyncio.to_thread(_runs, container.sessions):
            assert asyncio.get_running_loop().time() < deadline, "the daily run did not happen"
            await asyncio.sleep(0.1)

    assert _runs(container.sessions) == [(today, "done", 0, None)]
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "analytics-daily"]
    engine.dispose()
