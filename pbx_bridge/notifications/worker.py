"""The escalation worker: schedule new missed calls, fire due steps, deliver the outbox with retries.

Each tick runs three short transactions (schedule, fire, claim) and then sends the claimed deliveries
concurrently, each bounded by a timeout, so a slow or failing channel never holds up another. Any number
of workers may run against one PostgreSQL database: steps and deliveries are claimed with
``FOR UPDATE SKIP LOCKED`` and a compare-and-set, and a delivery claimed by a worker that died is leased
again once ``lease`` has passed on the database clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.services import escalation as esc
from crm_core.services import missed_events
from crm_core.services import notification_outbox as outbox
from pbx_bridge.notifications.channel import DeliveryError, NotificationChannel
from pbx_bridge.notifications.templates import TemplateContext, render
from routing.business_time import BusinessCalendar
from routing.escalation_policy import group_names, plan_steps, resolve_recipients

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    """``host:pid``, unique per process."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Timing of the worker; the lease must exceed ``send_timeout`` so a live sender is never overtaken."""

    public_base_url: str
    timezone: str = "Europe/Moscow"
    language: str = "ru"  # for recipients who have not chosen one
    worker_id: str = field(default_factory=default_worker_id)
    poll_interval: timedelta = timedelta(seconds=1)
    lease: timedelta = timedelta(seconds=60)
    send_timeout: timedelta = timedelta(seconds=20)
    batch_size: int = 50
    retry: outbox.RetryPolicy = field(default_factory=outbox.RetryPolicy)

    def __post_init__(self) -> None:
        if self.lease <= self.send_timeout:
            raise ValueError(f"lease ({self.lease}) must be longer than send_timeout ({self.send_timeout})")


class EscalationWorker:
    """Runs the escalation chain of every missed call until stopped.

    Business-hours-only delays use ``calendar`` when given, else the routing calendar stored in the
    database (business hours and holidays admins edit), read whenever new missed calls are scheduled.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Sequence[NotificationChannel],
        config: WorkerConfig,
        calendar: BusinessCalendar | None = None,
        metrics: Metrics | None = None,
        clock: esc.Clock | None = None,
    ) -> None:
        self._sessions = sessions
        self._channels = {c.name: c for c in channels}
        self._calendar = calendar
        self._config = config
        self._tz = ZoneInfo(config.timezone)
        self._metrics = metrics
        self._clock = clock or esc.DatabaseClock()

    @property
    def config(self) -> WorkerConfig:
        return self._config

    def schedule_new(self) -> int:
        """Give every open missed call without timers its schedule; how many calls were scheduled."""
        with self._sessions.begin() as session:
            now = self._clock.now(session)
            policy = esc.load_policy(session)
            pending = esc.unscheduled_missed_calls(session, self._config.batch_size)
            if not pending:
                return 0
            calendar = self._calendar or self._routing_calendar(session)
            for missed_call_id, created_at in pending:
                esc.schedule(session, missed_call_id, plan_steps(policy, created_at, now, calendar))
        return len(pending)

    def _routing_calendar(self, session: Session) -> BusinessCalendar:
        hours, holidays = esc.business_calendar_source(session)
        return BusinessCalendar.build(self._config.timezone, hours, holidays)

    def fire_due(self) -> int:
        """Fire the due steps: each becomes one delivery per recipient and channel; how many steps fired."""
        with self._sessions.begin() as session:
            now = self._clock.now(session)
            claimed = esc.claim_due_steps(session, now, self._config.worker_id, self._config.batch_size)
            for step in claimed:
                groups = group_names(step.recipients)
                facts = esc.recipient_facts(session, step.missed_call, groups)
                people = esc.recipients_by_id(session, resolve_recipients(step.recipients, facts))
                deliveries = [
                    self._delivery(step, person, channel, now)
                    for person in people
                    for channel in step.channels
                ]
                outbox.add_deliveries(session, deliveries, now)
                if step.step >= 1:
                    missed_events.announce_by_id(session, step.missed_call.id, "updated")
                log.info(
                    "escalation step fired",
                    extra={
                        "missed_call_id": step.missed_call.id,
                        "step": step.step,
                        "recipients": len(people),
                    },
                )
        return len(claimed)

    def _delivery(
        self, step: esc.ClaimedStep, person: esc.Recipient, channel_name: str, now: datetime
    ) -> outbox.NewDelivery:
        ctx = TemplateContext(
            step.missed_call,
            person,
            step.step,
            now,
            self._config.public_base_url,
            self._tz,
            self._config.language,
        )
        content = render(channel_name, ctx)
        channel = self._channels.get(channel_name)
        address = channel.address_for(person) if channel else None
        skip = None
        if channel is None:
            skip = f"channel {channel_name} is not configured"
        elif address is None:
            skip = f"{person.name} has no address for {channel_name}"
        return outbox.NewDelivery(
            step.missed_call.id,
            step.step,
            person.id,
            channel_name,
            address,
            content.subject,
            content.body,
            skip,
        )

    def claim(self) -> list[outbox.OutgoingMessage]:
        """Lease the deliveries that are due to this worker."""
        with self._sessions.begin() as session:
            now = self._clock.now(session)
            return outbox.claim_deliveries(
                session, now, self._config.worker_id, self._config.lease, self._config.batch_size
            )

    async def deliver(self, message: outbox.OutgoingMessage) -> None:
        """Send one claimed delivery and record the attempt, whatever happens."""
        error: str | None = None
        retryable = True
        provider_id: str | None = None
        channel = self._channels.get(message.channel)
        try:
            if channel is None:
                raise DeliveryError(f"channel {message.channel} is not configured", retryable=False)
            async with asyncio.timeout(self._config.send_timeout.total_seconds()):
                provider_id = await channel.send(message)
        except DeliveryError as exc:
            error, retryable = str(exc), exc.retryable
        except TimeoutError:
            error = f"timed out after {self._config.send_timeout.total_seconds():g} s"
        except Exception as exc:  # an adapter bug must not lose the notification: record it and retry
            log.exception("notification channel crashed", extra={"channel": message.channel})
            error = f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(self._record, message, error, retryable, provider_id)

    def _record(
        self, message: outbox.OutgoingMessage, error: str | None, retryable: bool, provider_id: str | None
    ) -> None:
        with self._sessions.begin() as session:
            now = self._clock.now(session)
            status = outbox.record_attempt(
                session,
                message,
                self._config.worker_id,
                now,
                error,
                retryable,
                self._config.retry,
                provider_id,
            )
        result = status.value if status is not None else "lease_lost"
        if self._metrics is not None:
            self._metrics.notifications.labels(message.channel, result).inc()
        log.log(
            logging.INFO if error is None else logging.WARNING,
            "notification %s",
            result,
            extra={"delivery": message.dedupe_key, "attempt": message.attempt, "error": error},
        )

    async def run_once(self) -> int:
        """One tick; the amount of work done (0 means idle)."""
        work = await asyncio.to_thread(self.schedule_new)
        work += await asyncio.to_thread(self.fire_due)
        messages = await asyncio.to_thread(self.claim)
        await asyncio.gather(*(self.deliver(m) for m in messages))
        return work + len(messages)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Tick until ``stop`` is set (or the task is cancelled); idle ticks wait ``poll_interval``."""
        stop = stop or asyncio.Event()
        database_away = False
        while not stop.is_set():
            try:
                work = await self.run_once()
                if database_away:
                    log.info("escalation worker: the database is back")
                database_away = False
            except (
                OperationalError,
                InterfaceError,
            ) as exc:  # away or locked: one line, the next tick retries
                if not database_away:
                    log.warning(
                        "escalation worker: database unavailable", extra={"error": str(exc.orig)[:300]}
                    )
                database_away = True
                work = 0
            except Exception:
                log.exception("escalation tick failed")
                work = 0
            if work == 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._config.poll_interval.total_seconds()):
                        await stop.wait()
