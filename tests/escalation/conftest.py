"""Escalation fixtures: a hand-driven clock, recording channels and small factories for missed calls."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import make_session_factory
from crm_core.models import (
    CallDirection,
    CallDisposition,
    CallRecord,
    Counterparty,
    Manager,
    ManagerRole,
    MissedCall,
    MissedReason,
)
from crm_core.services.escalation import Recipient
from crm_core.services.notification_outbox import OutgoingMessage
from pbx_bridge.notifications.channel import DeliveryError

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, 13:00 in Moscow
_seq = itertools.count(1)


class ManualClock:
    """A clock the test moves by hand (stands in for the database clock)."""

    def __init__(self, start: datetime) -> None:
        self.value = start

    def now(self, session: Session) -> datetime:
        return self.value

    def advance(self, delta: timedelta) -> None:
        self.value += delta


@dataclass
class RecordingChannel:
    """A channel that records what it sends; the first ``failures`` sends fail."""

    name: str
    failures: int = 0
    retryable: bool = True
    sent: list[OutgoingMessage] = field(default_factory=list)
    calls: int = 0

    def address_for(self, recipient: Recipient) -> str | None:
        return f"{self.name}:{recipient.id}"

    async def send(self, message: OutgoingMessage) -> str | None:
        self.calls += 1
        if self.calls <= self.failures:
            raise DeliveryError(f"{self.name} down", retryable=self.retryable)
        self.sent.append(message)
        return f"id-{message.delivery_id}"

    def recipients(self) -> list[tuple[int | None, int]]:
        return sorted((m.recipient_manager_id, m.missed_call_id) for m in self.sent)


@dataclass
class Staff:
    director: Manager
    controller: Manager
    manager: Manager


def add_staff(session: Session) -> Staff:
    n = next(_seq)
    director = Manager(
        name="Director", login=f"esc-dir{n}", role=ManagerRole.DIRECTOR, email=f"dir{n}@example.com"
    )
    controller = Manager(
        name="Controller", login=f"esc-ctl{n}", role=ManagerRole.CONTROLLER, mobile="+79000000002"
    )
    session.add_all([director, controller])
    session.flush()
    manager = Manager(
        name="Manager",
        login=f"esc-mgr{n}",
        controller_id=controller.id,
        email=f"mgr{n}@example.com",
        mobile="+79000000003",
    )
    session.add(manager)
    session.flush()
    return Staff(director, controller, manager)


def add_missed_call(
    session: Session, manager: Manager | None, created_at: datetime, number: str = "+79161234567"
) -> MissedCall:
    n = next(_seq)
    client = Counterparty(name=f"OOO Romashka {n}", manager_id=manager.id if manager else None)
    session.add(client)
    session.flush()
    record = CallRecord(
        pbx_system="main",
        linkedid=f"esc.{n}",
        direction=CallDirection.INBOUND,
        caller_number=number,
        started_at=created_at,
        disposition=CallDisposition.NO_ANSWER,
        counterparty_id=client.id,
    )
    session.add(record)
    session.flush()
    missed = MissedCall(
        call_record_id=record.id,
        caller_number=number,
        reason=MissedReason.MANAGER_NO_ANSWER,
        assigned_manager_id=manager.id if manager else None,
        counterparty_id=client.id,
        created_at=created_at,
        last_attempt_at=created_at,
    )
    session.add(missed)
    session.flush()
    return missed


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def db_sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit (the worker runs channels in parallel threads, each on its own
    connection); the rows the escalation factories made are deleted afterwards."""
    yield make_session_factory(engine)
    with engine.begin() as conn:
        for table in ("escalation_policy_steps", "notification_groups"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM missed_calls WHERE caller_number LIKE '+7916%'"))
        conn.execute(text("DELETE FROM call_records WHERE linkedid LIKE 'esc.%'"))
        conn.execute(text("DELETE FROM counterparties WHERE name LIKE 'OOO Romashka %'"))
        conn.execute(text("DELETE FROM managers WHERE login LIKE 'esc-%'"))


@pytest.fixture
def staff(db_sessions: sessionmaker[Session]) -> Staff:
    with db_sessions.begin() as s:
        return add_staff(s)
