"""Real worker processes on one throw-away PostgreSQL database: never a double send, and a worker killed
between "claimed" and "sent" leads to exactly one delivery after restart."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import make_engine, make_session_factory
from crm_core.models import MissedCall, MissedStatus
from crm_core.models.escalation import DeliveryStatus, NotificationAttempt, NotificationDelivery
from crm_core.services.escalation import PolicyStep, set_policy
from tests.conftest import migrated_pg_database
from tests.escalation.conftest import add_missed_call, add_staff
from tests.escalation.http_recorder import Script, http_recorder

SCRIPT = Path(__file__).with_name("worker_process.py")
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres
CALLS = 40


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this module's own, dropped afterwards."""
    with migrated_pg_database(prefix="callrouter_esc") as url:
        yield url


@pytest.fixture
def pg_sessions(pg_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(pg_url)
    yield make_session_factory(engine)
    with engine.begin() as conn:
        tables = "escalation_policy_steps, missed_calls, call_records, counterparties, managers"
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    engine.dispose()


Starter = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture
def start(pg_url: str) -> Iterator[Starter]:
    """Starts worker processes (each waits for :func:`go` once it printed READY); kills leftovers."""
    started: list[subprocess.Popen[str]] = []

    def _start(worker_id: str, *extra: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--db-url", pg_url, "--worker-id", worker_id, *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        started.append(process)
        return process

    yield _start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def go(*processes: subprocess.Popen[str]) -> None:
    """Wait until every process is READY, then release them together."""
    for p in processes:
        assert p.stdout is not None and p.stdout.readline().strip() == "READY"
    for p in processes:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()


def test_two_worker_processes_never_double_send(start: Starter, pg_sessions: sessionmaker[Session]) -> None:
    with pg_sessions.begin() as s:
        set_policy(
            s,
            [
                PolicyStep(0, ("assigned_manager", "controller"), ("webhook",)),
                PolicyStep(0, ("director",), ("webhook",)),
            ],
        )
        staff = add_staff(s)
        for _ in range(CALLS):
            add_missed_call(s, staff.manager, datetime.now(UTC))

    script = Script(statuses=[200])
    with http_recorder(script) as url:
        workers = [start(f"w{i}", "--webhook-url", url + "/hook", "--batch", "20") for i in (1, 2)]
        go(*workers)
        for w in workers:
            assert w.wait(timeout=15) == 0

    keys = collections.Counter(r.headers["Idempotency-Key"] for r in script.requests)
    assert len(keys) == CALLS * 3
    assert set(keys.values()) == {1}
    with pg_sessions() as s:
        assert (
            s.scalar(select(func.count()).where(NotificationDelivery.status == DeliveryStatus.SENT))
            == CALLS * 3
        )
        workers_seen = set(s.scalars(select(NotificationAttempt.worker).distinct()))
        assert workers_seen == {"w1", "w2"}  # both really competed
        assert set(s.scalars(select(MissedCall.status))) == {MissedStatus.ESCALATED}


def test_sigkill_between_claimed_and_sent_gives_exactly_one_delivery(
    start: Starter, pg_sessions: sessionmaker[Session]
) -> None:
    with pg_sessions.begin() as s:
        set_policy(s, [PolicyStep(0, ("assigned_manager",), ("webhook",))])
        add_missed_call(s, add_staff(s).manager, datetime.now(UTC))

    doomed = start("doomed", "--hang")
    go(doomed)
    assert doomed.stdout is not None
    claimed = doomed.stdout.readline().split()
    assert claimed[:1] == ["CLAIMED"]  # the claim is committed, the send has not happened
    os.kill(doomed.pid, signal.SIGKILL)
    assert doomed.wait(timeout=5) == -signal.SIGKILL
    with pg_sessions() as s:
        delivery = s.scalars(select(NotificationDelivery)).one()
        assert (delivery.status, delivery.claimed_by, delivery.attempts) == (
            DeliveryStatus.PENDING,
            "doomed",
            1,
        )

    script = Script(statuses=[200])
    with http_recorder(script) as url:
        restarted = start("restarted", "--webhook-url", url, "--lease", "1")
        go(restarted)
        assert restarted.wait(timeout=15) == 0

    assert [r.headers["Idempotency-Key"] for r in script.requests] == [claimed[1]]
    with pg_sessions() as s:
        delivery = s.scalars(select(NotificationDelivery)).one()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
        assert s.scalars(select(NotificationAttempt.worker)).all() == ["restarted"]
