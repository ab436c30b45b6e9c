"""Escalation timers in the database: the policy, scheduling, claiming due steps, cancelling.

Due checks use the database clock (:class:`DatabaseClock`), so timers survive restarts and application clock
changes. Claiming uses ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; every claim is also a conditional
``UPDATE`` (compare-and-set on the status), which is what keeps one SQLite process safe. Firing a step and
recording what it fired happen in the caller's transaction; services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crm_core.models.calls import MissedCall
from crm_core.models.counterparties import Counterparty
from crm_core.models.enums import ManagerRole, MissedStatus
from crm_core.models.escalation import (
    EscalationPolicyStep,
    EscalationStep,
    NotificationGroup,
    NotificationGroupMember,
    StepStatus,
)
from crm_core.models.people import Manager
from crm_core.models.routing_config import Holiday, RoutingSettings

ROLES = frozenset({"assigned_manager", "controller", "director"})
GROUP_PREFIX = "group:"
CHANNELS = frozenset({"email", "sms", "whatsapp", "webhook", "inapp"})
RESOLVED = (MissedStatus.CALLED_BACK, MissedStatus.CLOSED)


class Clock(Protocol):
    """Where "now" comes from for due checks and leases."""

    def now(self, session: Session) -> datetime: ...


class DatabaseClock:
    """The database server's clock: ``now()`` on PostgreSQL, ``CURRENT_TIMESTAMP`` (in ms) on SQLite."""

    def now(self, session: Session) -> datetime:
        if session.get_bind().dialect.name == "sqlite":
            text = session.scalar(select(func.strftime("%Y-%m-%d %H:%M:%f", "now")))
            return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)
        value = session.scalar(select(func.now()))
        if not isinstance(value, datetime):
            raise RuntimeError(f"database returned {value!r} for now()")
        return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class PolicyStep:
    """One step of the policy; invalid roles or channels raise ``ValueError`` naming them."""

    delay_seconds: int
    recipients: tuple[str, ...]
    channels: tuple[str, ...]
    business_hours_only: bool = False

    def __post_init__(self) -> None:
        if self.delay_seconds < 0:
            raise ValueError(f"delay must not be negative, got {self.delay_seconds}")
        bad_roles = [r for r in self.recipients if r not in ROLES and not _is_group(r)]
        if bad_roles or not self.recipients:
            raise ValueError(
                f"recipients must be non-empty and among {sorted(ROLES)} or 'group:<name>', got {bad_roles}"
            )
        bad_channels = [c for c in self.channels if c not in CHANNELS]
        if bad_channels or not self.channels:
            raise ValueError(f"channels must be non-empty and among {sorted(CHANNELS)}, got {bad_channels}")


def _is_group(role: str) -> bool:
    return role.startswith(GROUP_PREFIX) and len(role) > len(GROUP_PREFIX)


DEFAULT_POLICY: tuple[PolicyStep, ...] = (
    PolicyStep(0, ("assigned_manager", "controller"), ("inapp", "email")),
    PolicyStep(24 * 3600, ("controller", "director"), ("inapp", "email")),
)


@dataclass(frozen=True, slots=True)
class StepPlan:
    """Step ``step`` of one missed call, due at ``due_at``, for these roles on these channels."""

    step: int
    due_at: datetime
    recipients: tuple[str, ...]
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecipientFacts:
    """Who stands where around one missed call, for resolving policy roles to manager ids."""

    assigned_manager_id: int | None
    controller_id: int | None
    director_ids: tuple[int, ...]
    groups: dict[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MissedCallFacts:
    """What a notification says about the missed call."""

    id: int
    caller_number: str
    created_at: datetime
    counterparty_id: int | None
    counterparty_name: str | None
    assigned_manager_id: int | None
    attempts: int


@dataclass(frozen=True, slots=True)
class Recipient:
    """A manager a notification goes to, with the addresses channels need."""

    id: int
    name: str
    email: str | None
    mobile: str | None
    language: str | None = None  # None: the company's default language


@dataclass(frozen=True, slots=True)
class ClaimedStep:
    """A step this worker fired (its deliveries are to be added in the same transaction)."""

    step: int
    recipients: tuple[str, ...]
    channels: tuple[str, ...]
    missed_call: MissedCallFacts


def load_policy(session: Session) -> tuple[PolicyStep, ...]:
    """The configured policy, or :data:`DEFAULT_POLICY` when none was stored."""
    rows = session.scalars(select(EscalationPolicyStep).order_by(EscalationPolicyStep.position)).all()
    if not rows:
        return DEFAULT_POLICY
    return tuple(
        PolicyStep(r.delay_seconds, tuple(r.recipients), tuple(r.channels), r.business_hours_only)
        for r in rows
    )


def set_policy(session: Session, steps: Sequence[PolicyStep]) -> None:
    """Replace the policy (takes effect for missed calls scheduled from now on)."""
    if not steps:
        raise ValueError("a policy needs at least one step")
    session.query(EscalationPolicyStep).delete()
    session.flush()
    session.add_all(
        EscalationPolicyStep(
            position=i,
            delay_seconds=s.delay_seconds,
            business_hours_only=s.business_hours_only,
            recipients=list(s.recipients),
            channels=list(s.channels),
        )
        for i, s in enumerate(steps)
    )
    session.flush()


def business_calendar_source(session: Session) -> tuple[dict[str, Any] | None, list[date]]:
    """The routing calendar: business hours (``None``: always open, also when unset) and holidays."""
    hours = session.scalar(select(RoutingSettings.business_hours).where(RoutingSettings.id == 1))
    return hours, list(session.scalars(select(Holiday.day).order_by(Holiday.day)))


def unscheduled_missed_calls(session: Session, limit: int = 100) -> list[tuple[int, datetime]]:
    """Open missed calls with no escalation step yet: ``(id, created_at)``, oldest first."""
    has_steps = exists().where(EscalationStep.missed_call_id == MissedCall.id)
    rows = session.execute(
        select(MissedCall.id, MissedCall.created_at)
        .where(MissedCall.status == MissedStatus.OPEN, ~has_steps)
        .order_by(MissedCall.id)
        .limit(limit)
    ).all()
    return [(r.id, r.created_at) for r in rows]


def insert_ignoring_duplicates(session: Session, model: type[Any], values: list[dict[str, Any]]) -> int:
    """``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite; the number of rows inserted."""
    if not values:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = session.execute(insert(model).values(values).on_conflict_do_nothing())
    return int(getattr(result, "rowcount", 0) or 0)


def schedule(session: Session, missed_call_id: int, plans: Sequence[StepPlan]) -> int:
    """Store the timers of one missed call; steps already stored (by another worker) are left alone."""
    return insert_ignoring_duplicates(
        session,
        EscalationStep,
        [
            {
                "missed_call_id": missed_call_id,
                "step": p.step,
                "due_at": p.due_at,
                "status": StepStatus.PENDING.value,
                "recipients": list(p.recipients),
                "channels": list(p.channels),
                "created_at": datetime.now(UTC),
            }
            for p in plans
        ],
    )


def claim_due_steps(session: Session, now: datetime, worker: str, limit: int = 50) -> list[ClaimedStep]:
    """Fire the pending steps due at ``now``: cancel those whose missed call was called back or closed.

    The missed call's status is read under the same lock, so a callback committed before the claim always
    cancels. Step >= 1 marks an open missed call ``escalated``.
    """
    rows = session.execute(
        select(EscalationStep.id, EscalationStep.step, MissedCall.status)
        .join(MissedCall, MissedCall.id == EscalationStep.missed_call_id)
        .where(EscalationStep.status == StepStatus.PENDING, EscalationStep.due_at <= now)
        .order_by(EscalationStep.due_at, EscalationStep.id)
        .limit(limit)
        .with_for_update(of=(EscalationStep, MissedCall), skip_locked=True)
    ).all()
    claimed: list[ClaimedStep] = []
    for step_id, _step, status in rows:
        resolved = status in RESOLVED
        new_status = StepStatus.CANCELLED if resolved else StepStatus.FIRED
        result = session.execute(
            update(EscalationStep)
            .where(EscalationStep.id == step_id, EscalationStep.status == StepStatus.PENDING)
            .values(status=new_status, fired_at=now, fired_by=worker)
            .returning(
                EscalationStep.step,
                EscalationStep.recipients,
                EscalationStep.channels,
                EscalationStep.missed_call_id,
            )
        ).one_or_none()
        if result is None or resolved:
            continue
        if result.step >= 1:
            session.execute(
                update(MissedCall)
                .where(MissedCall.id == result.missed_call_id, MissedCall.status == MissedStatus.OPEN)
                .values(status=MissedStatus.ESCALATED)
            )
        claimed.append(
            ClaimedStep(
                result.step,
                tuple(result.recipients),
                tuple(result.channels),
                missed_call_facts(session, result.missed_call_id),
            )
        )
    return claimed


def missed_call_facts(session: Session, missed_call_id: int) -> MissedCallFacts:
    """The notification-relevant facts of one missed call."""
    row = session.execute(
        select(MissedCall, Counterparty.name)
        .outerjoin(Counterparty, Counterparty.id == MissedCall.counterparty_id)
        .where(MissedCall.id == missed_call_id)
    ).one()
    mc: MissedCall = row[0]
    return MissedCallFacts(
        mc.id,
        mc.caller_number,
        mc.created_at,
        mc.counterparty_id,
        row[1],
        mc.assigned_manager_id,
        mc.attempts,
    )


def recipient_facts(session: Session, missed_call: MissedCallFacts, groups: Sequence[str]) -> RecipientFacts:
    """The assigned manager, their controller, the active directors and the members of ``groups``."""
    controller_id = None
    if missed_call.assigned_manager_id is not None:
        controller_id = session.scalar(
            select(Manager.controller_id).where(Manager.id == missed_call.assigned_manager_id)
        )
    directors = session.scalars(
        select(Manager.id)
        .where(Manager.role == ManagerRole.DIRECTOR, Manager.active.is_(True))
        .order_by(Manager.id)
    ).all()
    members: dict[str, tuple[int, ...]] = {}
    if groups:
        pairs = session.execute(
            select(NotificationGroup.name, NotificationGroupMember.manager_id)
            .join(NotificationGroupMember, NotificationGroupMember.group_id == NotificationGroup.id)
            .where(NotificationGroup.name.in_(groups))
            .order_by(NotificationGroupMember.manager_id)
        ).all()
        for name, manager_id in pairs:
            members[name] = (*members.get(name, ()), manager_id)
    return RecipientFacts(missed_call.assigned_manager_id, controller_id, tuple(directors), members)


def recipients_by_id(session: Session, ids: Sequence[int]) -> list[Recipient]:
    """The active managers among ``ids``, in the order given."""
    rows = session.scalars(select(Manager).where(Manager.id.in_(ids), Manager.active.is_(True))).all()
    by_id = {m.id: Recipient(m.id, m.name, m.email, m.mobile, getattr(m, "language", None)) for m in rows}
    return [by_id[i] for i in ids if i in by_id]


def cancel_remaining(session: Session, missed_call_id: int) -> int:
    """Cancel the pending steps of a missed call (on callback or manual close); how many were cancelled."""
    result = session.execute(
        update(EscalationStep)
        .where(EscalationStep.missed_call_id == missed_call_id, EscalationStep.status == StepStatus.PENDING)
        .values(status=StepStatus.CANCELLED)
    )
    return int(getattr(result, "rowcount", 0) or 0)
