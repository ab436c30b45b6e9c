"""Timers and the outbox on the database clock, leases, cancellation and idempotency (SQLite + PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models import MissedCall, MissedStatus
from crm_core.models.escalation import DeliveryStatus, EscalationStep, NotificationDelivery, StepStatus
from crm_core.services import notification_outbox as outbox
from crm_core.services.escalation import DEFAULT_POLICY, DatabaseClock, cancel_remaining, schedule
from crm_core.services.notification_outbox import NewDelivery, OutgoingMessage
from pbx_bridge.notifications.inapp import InAppChannel
from pbx_bridge.notifications.worker import EscalationWorker, WorkerConfig
from routing.business_time import BusinessCalendar
from routing.escalation_policy import plan_steps
from tests.escalation.conftest import T0, ManualClock, RecordingChannel, Staff, add_missed_call

LEASE = timedelta(seconds=60)


def test_database_clock_is_the_servers_now(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions.begin() as s:
        db_now = DatabaseClock().now(s)
    assert db_now.tzinfo is not None
    assert abs(db_now - datetime.now(UTC)) < timedelta(seconds=5)


async def test_step_zero_fires_within_a_tick_of_the_commit_on_the_database_clock(
    db_sessions: sessionmaker[Session], staff: Staff
) -> None:
    email = RecordingChannel("email")
    config = WorkerConfig(public_base_url="https://crm.example.com", timezone="UTC", worker_id="w")
    worker = EscalationWorker(db_sessions, [email], config)  # the real database clock
    with db_sessions.begin() as s:
        mc = add_missed_call(s, staff.manager, datetime.now(UTC)).id

    await worker.run_once()

    assert email.recipients() == sorted([(staff.manager.id, mc), (staff.controller.id, mc)])


def _one_delivery(s: Session, staff: Staff) -> int:
    mc = add_missed_call(s, staff.manager, T0)
    outbox.add_deliveries(
        s, [NewDelivery(mc.id, 0, staff.manager.id, "email", "m@example.com", "S", "B")], T0
    )
    return mc.id


def test_a_claim_is_leased_and_taken_over_only_after_the_lease(
    db_sessions: sessionmaker[Session], staff: Staff
) -> None:
    with db_sessions.begin() as s:
        _one_delivery(s, staff)
    with db_sessions.begin() as s:
        [first] = outbox.claim_deliveries(s, T0, "dead-worker", LEASE)
    with db_sessions.begin() as s:
        assert outbox.claim_deliveries(s, T0 + LEASE - timedelta(seconds=1), "other", LEASE) == []
    with db_sessions.begin() as s:
        [second] = outbox.claim_deliveries(s, T0 + LEASE, "other", LEASE)
    assert (first.delivery_id, first.attempt, second.attempt) == (second.delivery_id, 1, 2)

    with db_sessions.begin() as s:  # the dead worker's late result no longer owns the row
        assert (
            outbox.record_attempt(s, first, "dead-worker", T0 + LEASE, None, False, outbox.RetryPolicy())
            is None
        )
        assert s.get(NotificationDelivery, first.delivery_id).status == DeliveryStatus.PENDING  # type: ignore[union-attr]
        outbox.record_attempt(s, second, "other", T0 + LEASE, None, False, outbox.RetryPolicy())
        assert s.get(NotificationDelivery, first.delivery_id).status == DeliveryStatus.SENT  # type: ignore[union-attr]


def test_retries_stop_after_max_attempts(db_sessions: sessionmaker[Session], staff: Staff) -> None:
    retry = outbox.RetryPolicy(max_attempts=2, base=timedelta(seconds=1))
    with db_sessions.begin() as s:
        _one_delivery(s, staff)
    now = T0
    statuses = []
    for _ in range(2):
        with db_sessions.begin() as s:
            [message] = outbox.claim_deliveries(s, now, "w", LEASE)
            statuses.append(outbox.record_attempt(s, message, "w", now, "boom", True, retry))
        now += timedelta(seconds=10)
    assert statuses == [DeliveryStatus.PENDING, DeliveryStatus.FAILED]


def test_deliveries_of_a_called_back_call_are_cancelled_not_sent(
    db_sessions: sessionmaker[Session], staff: Staff
) -> None:
    with db_sessions.begin() as s:
        mc = _one_delivery(s, staff)
        s.get(MissedCall, mc).status = MissedStatus.CLOSED  # type: ignore[union-attr]
    with db_sessions.begin() as s:
        assert outbox.claim_deliveries(s, T0, "w", LEASE) == []
        assert s.scalars(select(NotificationDelivery.status)).all() == [DeliveryStatus.CANCELLED]


def test_scheduling_twice_and_cancelling_are_idempotent(
    db_sessions: sessionmaker[Session], staff: Staff
) -> None:
    with db_sessions.begin() as s:
        mc = add_missed_call(s, staff.manager, T0).id
        plans = plan_steps(DEFAULT_POLICY, T0, T0, BusinessCalendar.build("UTC"))
        assert schedule(s, mc, plans) == 2
        assert schedule(s, mc, plans) == 0  # a second worker racing on the same call
        assert s.scalar(select(func.count()).where(EscalationStep.missed_call_id == mc)) == 2
        assert cancel_remaining(s, mc) == 2
        assert cancel_remaining(s, mc) == 0
        assert set(s.scalars(select(EscalationStep.status))) == {StepStatus.CANCELLED}


async def test_inapp_notifications_are_stored_once_and_marked_read(
    db_sessions: sessionmaker[Session], staff: Staff
) -> None:
    with db_sessions.begin() as s:
        mc = add_missed_call(s, staff.manager, T0).id
    channel = InAppChannel(db_sessions)
    message = OutgoingMessage(
        1,
        f"mc{mc}:s0:r{staff.manager.id}:inapp",
        mc,
        staff.manager.id,
        "inapp",
        None,
        "Missed call",
        "body",
        1,
    )
    await channel.send(message)
    await channel.send(message)  # a redelivery after a crash is a no-op
    with db_sessions.begin() as s:
        [note] = outbox.list_inapp(s, staff.manager.id, unread_only=True)
        assert (note.title, note.missed_call_id) == ("Missed call", mc)
        assert not outbox.mark_inapp_read(s, staff.controller.id, note.id)  # not theirs
        assert outbox.mark_inapp_read(s, staff.manager.id, note.id)
        assert outbox.list_inapp(s, staff.manager.id, unread_only=True) == []


async def test_a_crashing_adapter_is_recorded_and_retried(
    db_sessions: sessionmaker[Session], staff: Staff, clock: ManualClock
) -> None:
    class Crashing(RecordingChannel):
        async def send(self, message: OutgoingMessage) -> str | None:
            raise RuntimeError("adapter bug")

    config = WorkerConfig(public_base_url="https://crm.example.com", worker_id="w")
    worker = EscalationWorker(db_sessions, [Crashing("email")], config, clock=clock)
    with db_sessions.begin() as s:
        add_missed_call(s, staff.manager, T0)
    await worker.run_once()
    with db_sessions() as s:
        rows = s.scalars(select(NotificationDelivery).where(NotificationDelivery.channel == "email")).all()
        assert {(r.status, r.last_error) for r in rows} == {
            (DeliveryStatus.PENDING, "RuntimeError: adapter bug")
        }
