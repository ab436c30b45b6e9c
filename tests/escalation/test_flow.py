"""The escalation chain end to end on SQLite and PostgreSQL, with a hand-driven clock."""

# ruff: noqa: RUF001  (Russian texts are intended)

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models import MissedCall, MissedStatus
from crm_core.models.escalation import (
    DeliveryStatus,
    EscalationStep,
    NotificationAttempt,
    NotificationDelivery,
    StepStatus,
)
from crm_core.services.escalation import PolicyStep, set_policy
from crm_core.services.notification_outbox import RetryPolicy, list_inapp
from pbx_bridge.notifications.inapp import InAppChannel
from pbx_bridge.notifications.worker import EscalationWorker, WorkerConfig
from routing.business_time import BusinessCalendar
from tests.escalation.conftest import T0, ManualClock, RecordingChannel, Staff, add_missed_call

MON_FRI = {str(day): [["09:00", "18:00"]] for day in range(1, 6)}


def make_worker(
    sessions: sessionmaker[Session], clock: ManualClock, *channels: object, retry: RetryPolicy | None = None
) -> EscalationWorker:
    config = WorkerConfig(
        public_base_url="https://crm.example.com", worker_id="test-worker", retry=retry or RetryPolicy()
    )
    return EscalationWorker(sessions, list(channels), config, clock=clock)  # type: ignore[arg-type]


def missed(sessions: sessionmaker[Session], staff: Staff, at: datetime = T0) -> int:
    with sessions.begin() as s:
        return add_missed_call(s, staff.manager, at).id


async def test_step_zero_goes_out_at_once_to_manager_and_controller(
    db_sessions: sessionmaker[Session], staff: Staff, clock: ManualClock
) -> None:
    email = RecordingChannel("email")
    worker = make_worker(db_sessions, clock, email, InAppChannel(db_sessions))
    mc = missed(db_sessions, staff)

    await worker.run_once()

    assert email.recipients() == sorted([(staff.manager.id, mc), (staff.controller.id, mc)])
    with db_sessions() as s:
        titles = [n.title for n in list_inapp(s, staff.manager.id)]
        assert len(titles) == 1 and titles[0].startswith("Пропущенный звонок: OOO Romashka")
        assert titles[0].endswith("+79161234567")
        assert list_inapp(s, staff.director.id) == []
        assert s.get(MissedCall, mc).status == MissedStatus.OPEN  # type: ignore[union-attr]


async def test_callback_within_window_cancels_step_one(
    db_sessions: sessionmaker[Session], staff: Staff, clock: ManualClock
) -> None:
    email = RecordingChannel("email")
    worker = make_worker(db_sessions, clock, email, InAppChannel(db_sessions))
    mc = missed(db_sessions, staff)
    await worker.run_once()
    with db_sessions.begin() as s:
        s.get(MissedCall, mc).status = MissedStatus.CALLED_BACK  # type: ignore[union-attr]

    clock.advance(timedelta(hours=25))
    await worker.run_once()

    assert len(email.sent) == 2  # step 0 only
    with db_sessions() as s:
        step1 = s.scalars(
            select(EscalationStep).where(EscalationStep.missed_call_id == mc, EscalationStep.step == 1)
        ).one()
        assert step1.status == StepStatus.CANCELLED
        assert s.get(MissedCall, mc).status == MissedStatus.CALLED_BACK  # type: ignore[union-attr]


async def test_no_callback_escalates_to_controller_and_director_after_the_delay(
    db_sessions: sessionmaker[Session], staff: Staff, clock: ManualClock
) -> None:
    email = RecordingChannel("email")
    worker = make_worker(db_sessions, clock, email)
    mc = missed(db_sessions, staff)
    await worker.run_once()
    email.sent.clear()

    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    await worker.run_once()
    assert email.sent == []

    clock.advance(timedelta(seconds=1))
    await worker.run_once()
    assert [m.recipient_manager_id for m in email.sent] == [staff.controller.id, staff.director.id]
    assert all(m.subject.startswith("Не перезвонили 1 день 0 часов") for m in email.sent)
    with db_sessions() as s:
        assert s.get(MissedCall, mc).status == MissedStatus.ESCALATED  # type: ignore[union-attr]


async def test_business_hours_delay_skips_night_and_holiday(
    db_sessions: sessionmaker[Session], staff: Staff, clock: ManualClock
) -> None:
    # Missed Tuesday 2026-11-24 17:00 Moscow (14:00 UTC); Wednesday is a holiday; 2 business hours remain
    # Tuesday 17:00-18:00 = 1 h, then Thursday 09:00-10:00 Moscow -> due Thursday 07:00 UTC.
    from datetime import date

    calendar = BusinessCalendar.build("Europe/Moscow", MON_FRI, holidays=[date(2026, 11, 25)])
    with db_sessions.begin() as s:
        set_policy(
            s,
            [
                PolicyStep(0, ("assigned_manager",), ("email",)),
                PolicyStep(2 * 3600, ("director",), ("email",), business_hours_only=True),
            ],
        )
    email = RecordingChannel("email")
    config = WorkerConfig(public_base_url="https://crm.example.com", worker_id="w")
    worker = EscalationWorker(db_sessions, [email], config, calendar, clock=clock)
    missed_at = T0.replace(hour=14)
    clock.value = missed_at
    missed(db_sessions, staff, at=missed_at)
    await worker.run_once()
    assert [m.recipient_manager_id for m in email.sent] == [staff.manager.id]

    clock.value = missed_at.replace(day=26, hour=6, minute=59)  # Thursday 09:59 Moscow
    await worker.run_once()
    assert len(email.sent) == 1
    clock.value = missed_at.replace(day=26, hour=7)
    await worker.run_once()
    assert [m.recipient_manager_id for m in email.sent[1:]] == [staff.director.id]


async def test_failing_channel_is_retried_with_backoff_and_never_blocks_the_others(
    db_sessions: sessionmaker[Session], staff: Staff, clock: ManualClock
) -> None:
    broken = RecordingChannel("email", failures=2)
    inapp = InAppChannel(db_sessions)
    retry = RetryPolicy(max_attempts=5, base=timedelta(seconds=10))
    worker = make_worker(db_sessions, clock, broken, inapp, retry=retry)
    missed(db_sessions, staff)

    await worker.run_once()
    with db_sessions() as s:
        assert len(list_inapp(s, staff.manager.id)) == 1  # the other channel went out
        rows = s.scalars(select(NotificationDelivery).where(NotificationDelivery.channel == "email")).all()
        assert {r.status for r in rows} == {DeliveryStatus.PENDING}
        assert {r.next_retry_at for r in rows} == {T0 + timedelta(seconds=10)}
        assert {r.last_error for r in rows} == {"email down"}

    clock.advance(timedelta(seconds=9))
    await worker.run_once()
    assert broken.calls == 2  # both recipients failed once and wait for their backoff
    clock.advance(timedelta(seconds=1))
    await worker.run_once()
    assert broken.calls == 4 and len(broken.sent) == 2  # second attempts go through

    with db_sessions() as s:
        rows = s.scalars(select(NotificationDelivery).where(NotificationDelivery.channel == "email")).all()
        assert {r.status for r in rows} == {DeliveryStatus.SENT}
        attempts = s.scalars(select(NotificationAttempt)).all()
        assert sorted(a.ok for a in attempts if a.delivery_id in {r.id for r in rows}) == [
            False,
            False,
            True,
            True,
        ]
    assert len(broken.sent) == 2


async def test_permanent_failure_is_recorded_as_failed_without_retry(
    db_sessions: sessionmaker[Session], staff: Staff, clock: ManualClock
) -> None:
    broken = RecordingChannel("email", failures=10, retryable=False)
    worker = make_worker(db_sessions, clock, broken)
    missed(db_sessions, staff)
    await worker.run_once()
    clock.advance(timedelta(hours=1))
    await worker.run_once()
    assert broken.calls == 2
    with db_sessions() as s:
        rows = s.scalars(select(NotificationDelivery).where(NotificationDelivery.channel == "email")).all()
        assert {(r.status, r.attempts, r.last_error) for r in rows} == {
            (DeliveryStatus.FAILED, 1, "email down")
        }


async def test_recipient_without_address_is_recorded_as_skipped(
    db_sessions: sessionmaker[Session], staff: Staff, clock: ManualClock
) -> None:
    from pbx_bridge.notifications.email import SmtpEmailChannel

    email = SmtpEmailChannel("127.0.0.1", 1, "crm@example.com")
    worker = make_worker(db_sessions, clock, email)
    missed(db_sessions, staff)
    await worker.run_once()
    with db_sessions() as s:
        ctl = s.scalars(
            select(NotificationDelivery).where(
                NotificationDelivery.recipient_manager_id == staff.controller.id,
                NotificationDelivery.channel == "email",
            )
        ).one()
        assert (ctl.status, ctl.last_error) == (DeliveryStatus.SKIPPED, "Controller has no address for email")
