"""The notification outbox: deliveries keyed by missed call + step + recipient + channel, leased while sent.

A worker claims a delivery by stamping ``claimed_at``/``claimed_by`` (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, a conditional ``UPDATE`` everywhere) and commits before sending. If it dies before recording
the result, the lease runs out and another claim sends it once. Every attempt is stored; failures are
retried with exponential backoff until ``max_attempts``. Services never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from crm_core.events import NOTIFICATION, NOTIFICATIONS_READ, Audience, DomainEvent, publish_after_commit
from crm_core.models.calls import MissedCall
from crm_core.models.escalation import (
    DeliveryStatus,
    InAppNotification,
    NotificationAttempt,
    NotificationDelivery,
)
from crm_core.services.escalation import RESOLVED, insert_ignoring_duplicates


def dedupe_key(missed_call_id: int, step: int, recipient_id: int, channel: str) -> str:
    """The key that makes a notification unique.

    >>> dedupe_key(7, 1, 3, "email")
    'mc7:s1:r3:email'
    """
    return f"mc{missed_call_id}:s{step}:r{recipient_id}:{channel}"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: ``base * 2**(attempt-1)`` capped at ``cap``, at most ``max_attempts`` tries."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=30)

    def delay(self, attempt: int) -> timedelta:
        """The wait after failed attempt number ``attempt`` (1-based).

        >>> RetryPolicy(base=timedelta(seconds=5)).delay(3)
        datetime.timedelta(seconds=20)
        """
        return min(self.cap, self.base * (2 ** max(0, attempt - 1)))


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A notification to add to the outbox; ``skip_reason`` stores it as skipped (e.g. no address)."""

    missed_call_id: int
    step: int
    recipient_manager_id: int
    channel: str
    address: str | None
    subject: str
    body: str
    skip_reason: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A claimed delivery, as handed to a channel."""

    delivery_id: int
    dedupe_key: str
    missed_call_id: int
    recipient_manager_id: int | None
    channel: str
    address: str | None
    subject: str
    body: str
    attempt: int


def add_deliveries(session: Session, deliveries: list[NewDelivery], now: datetime) -> int:
    """Add deliveries to the outbox; ones whose dedupe key exists are ignored. Returns how many were added."""
    return insert_ignoring_duplicates(
        session,
        NotificationDelivery,
        [
            {
                "dedupe_key": dedupe_key(d.missed_call_id, d.step, d.recipient_manager_id, d.channel),
                "missed_call_id": d.missed_call_id,
                "step": d.step,
                "recipient_manager_id": d.recipient_manager_id,
                "channel": d.channel,
                "address": d.address,
                "subject": d.subject[:300],
                "body": d.body,
                "status": (DeliveryStatus.SKIPPED if d.skip_reason else DeliveryStatus.PENDING).value,
                "last_error": d.skip_reason,
                "attempts": 0,
                "created_at": now,
            }
            for d in deliveries
        ],
    )


def _claimable(now: datetime, lease: timedelta) -> list[object]:
    return [
        NotificationDelivery.status == DeliveryStatus.PENDING,
        or_(NotificationDelivery.next_retry_at.is_(None), NotificationDelivery.next_retry_at <= now),
        or_(NotificationDelivery.claimed_at.is_(None), NotificationDelivery.claimed_at <= now - lease),
    ]


def claim_deliveries(
    session: Session, now: datetime, worker: str, lease: timedelta, limit: int = 50
) -> list[OutgoingMessage]:
    """Lease the deliveries due at ``now`` to ``worker``; a called-back or closed call's are cancelled."""
    conditions = _claimable(now, lease)
    rows = session.execute(
        select(NotificationDelivery.id, MissedCall.status)
        .join(MissedCall, MissedCall.id == NotificationDelivery.missed_call_id)
        .where(and_(*conditions))  # type: ignore[arg-type]
        .order_by(NotificationDelivery.id)
        .limit(limit)
        .with_for_update(of=NotificationDelivery, skip_locked=True)
    ).all()
    claimed: list[OutgoingMessage] = []
    for delivery_id, call_status in rows:
        guard = update(NotificationDelivery).where(NotificationDelivery.id == delivery_id, *conditions)  # type: ignore[arg-type]
        if call_status in RESOLVED:
            session.execute(guard.values(status=DeliveryStatus.CANCELLED, last_error="missed call resolved"))
            continue
        d = session.execute(
            guard.values(
                claimed_at=now, claimed_by=worker, attempts=NotificationDelivery.attempts + 1
            ).returning(NotificationDelivery)
        ).scalar_one_or_none()
        if d is not None:
            claimed.append(
                OutgoingMessage(
                    d.id,
                    d.dedupe_key,
                    d.missed_call_id,
                    d.recipient_manager_id,
                    d.channel,
                    d.address,
                    d.subject,
                    d.body,
                    d.attempts,
                )
            )
    return claimed


def record_attempt(
    session: Session,
    message: OutgoingMessage,
    worker: str,
    now: datetime,
    error: str | None,
    retryable: bool,
    retry: RetryPolicy,
    provider_id: str | None = None,
) -> DeliveryStatus | None:
    """Store one attempt and move the delivery on: sent, pending again after a backoff, or failed.

    ``None`` when the lease was lost (another worker claimed the delivery since): only the attempt is stored.
    """
    session.add(
        NotificationAttempt(
            delivery_id=message.delivery_id, worker=worker, attempted_at=now, ok=error is None, error=error
        )
    )
    if error is None:
        status, values = DeliveryStatus.SENT, {"sent_at": now, "provider_id": provider_id, "last_error": None}
    elif retryable and message.attempt < retry.max_attempts:
        status, values = DeliveryStatus.PENDING, {"next_retry_at": now + retry.delay(message.attempt)}
    else:
        status, values = DeliveryStatus.FAILED, {}
    if error is not None:
        values["last_error"] = error[:2000]
    result = session.execute(
        update(NotificationDelivery)
        .where(NotificationDelivery.id == message.delivery_id, NotificationDelivery.claimed_by == worker)
        .values(status=status, claimed_at=None, claimed_by=None, **values)
    )
    return status if getattr(result, "rowcount", 0) == 1 else None


def store_inapp(session: Session, message: OutgoingMessage) -> bool:
    """Store an in-app notification once per dedupe key; True when it was new (then it is announced)."""
    if message.recipient_manager_id is None:
        raise ValueError(f"in-app notification {message.dedupe_key} has no recipient")
    new = bool(
        insert_ignoring_duplicates(
            session,
            InAppNotification,
            [
                {
                    "dedupe_key": message.dedupe_key,
                    "recipient_manager_id": message.recipient_manager_id,
                    "missed_call_id": message.missed_call_id,
                    "title": message.subject[:300],
                    "body": message.body,
                    "read": False,
                    "created_at": datetime.now(UTC),
                }
            ],
        )
    )
    if new:
        row = session.scalars(
            select(InAppNotification).where(InAppNotification.dedupe_key == message.dedupe_key)
        ).one()
        _announce_new(session, row)
    return new


def notification_json(row: InAppNotification) -> dict[str, Any]:
    """An in-app notification as the API and the live stream show it."""
    return {
        "id": row.id,
        "missed_call_id": row.missed_call_id,
        "title": row.title,
        "body": row.body,
        "read": row.read,
        "created_at": row.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


def unread_count(session: Session, manager_id: int) -> int:
    """How many of the manager's in-app notifications are unread."""
    stmt = select(func.count()).where(
        InAppNotification.recipient_manager_id == manager_id, InAppNotification.read.is_(False)
    )
    return int(session.scalar(stmt) or 0)


def _announce_new(session: Session, row: InAppNotification) -> None:
    unread = unread_count(session, row.recipient_manager_id)
    publish_after_commit(
        session,
        DomainEvent(
            NOTIFICATION,
            {"notification": notification_json(row), "unread": unread},
            Audience.of([row.recipient_manager_id]),
        ),
    )


def _announce_read(session: Session, manager_ids: Iterable[int], ids: Sequence[int]) -> None:
    for manager_id in sorted(set(manager_ids)):
        publish_after_commit(
            session,
            DomainEvent(
                NOTIFICATIONS_READ,
                {"ids": list(ids), "unread": unread_count(session, manager_id)},
                Audience.of([manager_id]),
            ),
        )


def list_inapp(
    session: Session, manager_id: int, unread_only: bool = False, limit: int = 100
) -> list[InAppNotification]:
    """A manager's in-app notifications, newest first (for the web workspace and the API)."""
    query = select(InAppNotification).where(InAppNotification.recipient_manager_id == manager_id)
    if unread_only:
        query = query.where(InAppNotification.read.is_(False))
    return list(session.scalars(query.order_by(InAppNotification.id.desc()).limit(limit)))


def mark_inapp_read(session: Session, manager_id: int, notification_id: int) -> bool:
    """Mark one of the manager's notifications read; False when it is not theirs or does not exist."""
    result = session.execute(
        update(InAppNotification)
        .where(InAppNotification.id == notification_id, InAppNotification.recipient_manager_id == manager_id)
        .values(read=True)
    )
    found = bool(getattr(result, "rowcount", 0))
    if found:
        _announce_read(session, [manager_id], [notification_id])
    return found


def _mark_read_where(session: Session, *conditions: ColumnElement[bool]) -> list[tuple[int, int]]:
    """Mark unread notifications matching ``conditions`` read; their ``(id, recipient)`` pairs."""
    rows = session.execute(
        select(InAppNotification.id, InAppNotification.recipient_manager_id).where(
            InAppNotification.read.is_(False), *conditions
        )
    ).all()
    if rows:
        session.execute(
            update(InAppNotification)
            .where(InAppNotification.id.in_([r[0] for r in rows]))
            .values(read=True)
            .execution_options(synchronize_session=False)
        )
    return [(r[0], r[1]) for r in rows]


def mark_all_read(session: Session, manager_id: int) -> int:
    """Mark every notification of the manager read; how many were unread."""
    marked = _mark_read_where(session, InAppNotification.recipient_manager_id == manager_id)
    if marked:
        _announce_read(session, [manager_id], [i for i, _ in marked])
    return len(marked)


def mark_read_for_missed_call(session: Session, missed_call_id: int) -> int:
    """Mark every recipient's notifications of a resolved missed call read; how many were unread."""
    marked = _mark_read_where(session, InAppNotification.missed_call_id == missed_call_id)
    for recipient in sorted({r for _, r in marked}):
        _announce_read(session, [recipient], [i for i, r in marked if r == recipient])
    return len(marked)
