"""A dead SMTP server or a Twilio 5xx is retried and recorded by the worker; the notification is not lost."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models.escalation import DeliveryStatus, NotificationAttempt, NotificationDelivery
from crm_core.services.escalation import PolicyStep, set_policy
from crm_core.services.notification_outbox import RetryPolicy
from pbx_bridge.notifications.channel import NotificationChannel
from pbx_bridge.notifications.email import SmtpEmailChannel
from pbx_bridge.notifications.twilio_messages import TwilioMessagingChannel, make_twilio_client
from pbx_bridge.notifications.worker import EscalationWorker, WorkerConfig
from tests.escalation.conftest import T0, ManualClock, Staff, add_missed_call
from tests.escalation.http_recorder import Script, http_recorder
from tests.escalation.test_channels import Inbox

RETRY = RetryPolicy(max_attempts=5, base=timedelta(seconds=30))


def worker(
    sessions: sessionmaker[Session], clock: ManualClock, channel: NotificationChannel
) -> EscalationWorker:
    config = WorkerConfig(public_base_url="https://crm.example.com", worker_id="w1", retry=RETRY)
    return EscalationWorker(
        sessions,
        [channel],
        config,
        clock=clock,
    )


def only_manager(sessions: sessionmaker[Session], staff: Staff, channel: str) -> None:
    with sessions.begin() as s:
        set_policy(s, [PolicyStep(0, ("assigned_manager",), (channel,))])
        add_missed_call(s, staff.manager, T0)


def history(sessions: sessionmaker[Session]) -> tuple[DeliveryStatus, int, list[bool]]:
    with sessions() as s:
        delivery = s.scalars(select(NotificationDelivery)).one()
        attempts = s.scalars(
            select(NotificationAttempt.ok)
            .where(NotificationAttempt.delivery_id == delivery.id)
            .order_by(NotificationAttempt.id)
        ).all()
        return delivery.status, delivery.attempts, list(attempts)


async def test_dead_smtp_server_is_retried_until_it_comes_back(
    db_sessions: sessionmaker[Session], staff: Staff, clock: ManualClock, unused_tcp_port: int
) -> None:
    port = unused_tcp_port  # nothing listens here yet
    w = worker(db_sessions, clock, SmtpEmailChannel("127.0.0.1", port, "crm@example.com", timeout_s=2))
    only_manager(db_sessions, staff, "email")

    await w.run_once()
    status, attempts, oks = history(db_sessions)
    assert (status, attempts, oks) == (DeliveryStatus.PENDING, 1, [False])

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        clock.advance(timedelta(seconds=29))
        await w.run_once()
        assert inbox.envelopes == []  # still backing off
        clock.advance(timedelta(seconds=1))
        await w.run_once()
    finally:
        controller.stop()

    assert [e.rcpt_tos for e in inbox.envelopes] == [[staff.manager.email]]
    assert history(db_sessions) == (DeliveryStatus.SENT, 2, [False, True])


async def test_twilio_5xx_is_retried_and_recorded(
    db_sessions: sessionmaker[Session], staff: Staff, clock: ManualClock
) -> None:
    script = Script(statuses=[500, 503, 201])
    with http_recorder(script) as base_url:
        client = make_twilio_client("AC" + "1" * 32, "token", api_base_url=base_url)
        w = worker(db_sessions, clock, TwilioMessagingChannel(client, "+15005550006"))
        only_manager(db_sessions, staff, "sms")
        for _ in range(3):
            await w.run_once()
            clock.advance(timedelta(minutes=5))

    assert len(script.requests) == 3
    assert {parse_qs(r.body.decode())["To"][0] for r in script.requests} == {staff.manager.mobile}
    assert history(db_sessions) == (DeliveryStatus.SENT, 3, [False, False, True])
    with db_sessions() as s:
        delivery = s.scalars(select(NotificationDelivery)).one()
        assert delivery.provider_id == "SM" + "3".zfill(32)
        errors = s.scalars(select(NotificationAttempt.error).order_by(NotificationAttempt.id)).all()
        assert [e.split(":")[0] if e else e for e in errors] == ["Twilio 500", "Twilio 503", None]
