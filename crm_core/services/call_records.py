"""Write a finished call: one idempotent ``CallRecord``, its ``MissedCall``, and callback detection.

Rules (the caller commits):

* One record per (PBX, Linkedid); writing the same call again changes nothing.
* The client's number (the caller of an inbound call, the callee of an outbound one) is looked up in
  ``phone_numbers``; an inbound outside number nobody owns is marked ``unregistered_number`` (total number
  capture). Withheld numbers can be neither registered nor called back.
* A missed inbound call from an outside number opens a ``MissedCall`` assigned to the counterparty's
  personal manager, else the manager the router chose, else the first manager rung. Another missed call
  from the same number within ``repeat_window`` of the open one's last attempt is merged into it
  (``attempts`` += 1) instead of opening a second one.
* An answered call that connects that number with a person afterwards (outbound by any manager, or
  inbound answered by a person) closes its open missed calls as ``called_back``.
* Every answered leg is stored in order (``call_legs``) with the manager behind its target, so each
  manager is credited with their own talk time; ``transferred_to`` is the last leg's target when the call
  was handed on. ``approximate`` says a stored time is a guess (events lost in a gap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.models.calls import CallLeg, CallRecord, MissedCall
from crm_core.models.counterparties import ContactPerson, Counterparty
from crm_core.models.enums import CallDirection, CallDisposition, MissedReason, MissedStatus
from crm_core.models.people import Manager
from crm_core.models.phones import PhoneNumber
from crm_core.phone_numbers import normalize_number

REPEAT_WINDOW = timedelta(hours=1)
# A missed call still waits for a callback while open, and also once it was escalated to the controller.
AWAITING_CALLBACK = (MissedStatus.OPEN, MissedStatus.ESCALATED)


@dataclass(frozen=True, slots=True)
class RungTarget:
    """One dial attempt: the target (``PJSIP/m1``), its dial string, the callee's caller id and result."""

    target: str
    dial_string: str = ""
    dest_number: str = ""
    status: str | None = None
    began_at: datetime | None = None
    ended_at: datetime | None = None
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class AnsweredLeg:
    """One answered party: the target, how to find its manager, and when it talked to the caller."""

    target: str
    answered_at: datetime
    ended_at: datetime | None
    talk_seconds: float | None
    dial_string: str = ""
    dest_number: str = ""
    approximate: bool = False


@dataclass(frozen=True, slots=True)
class FinishedCall:
    """What call tracking knows about a finished conversation, already classified."""

    linkedid: str
    direction: CallDirection
    disposition: CallDisposition
    started_at: datetime
    caller_number: str | None
    callee_number: str | None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    ring_seconds: float | None = None
    talk_seconds: float | None = None
    answered_by_target: str | None = None
    answered_by_person: bool = False
    answered_dial_string: str | None = None
    answered_dest_number: str | None = None
    missed_reason: MissedReason | None = None
    rung: tuple[RungTarget, ...] = field(default=())
    route_kind: str | None = None
    route_manager_id: int | None = None
    recording_file: str | None = None
    legs: tuple[AnsweredLeg, ...] = field(default=())
    transferred_to: str | None = None
    approximate: bool = False


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What writing one finished call did."""

    record: CallRecord
    created: bool
    missed_call: MissedCall | None = None
    missed_merged: bool = False
    called_back: tuple[MissedCall, ...] = ()


class ManagerDirectory:
    """Find the manager behind a dial target or an extension (cached per session use)."""

    def __init__(self, session: Session) -> None:
        self._managers = list(session.scalars(select(Manager)))

    def by_target(self, target: str | None, dial_string: str = "", dest_number: str = "") -> Manager | None:
        """``PJSIP/m1`` / ``Local/answer-m1@agents`` -> dial_target; else a phone's extension caller id."""
        if not target:
            return None
        for m in self._managers:
            if m.dial_target and m.dial_target in (target, dial_string):
                return m
        tech = target.split("/", 1)[0]
        for m in self._managers:
            if m.dial_target and dial_string and m.dial_target == f"{tech}/{dial_string}":
                return m
        return self.by_extension(dest_number)

    def by_extension(self, number: str | None) -> Manager | None:
        if not number:
            return None
        return next((m for m in self._managers if m.extension and m.extension == number), None)


@dataclass
class RecordLookups:
    """What writing several finished calls of one PBX in one transaction reads once, not per call: the
    managers, the records already written, the owners of the client numbers and the missed calls from
    those numbers still waiting for a callback (kept current as the calls are written)."""

    managers: ManagerDirectory
    existing: dict[str, CallRecord]
    owners: dict[str, PhoneNumber]
    awaiting: dict[str, list[MissedCall]]

    @classmethod
    def load(cls, session: Session, pbx: str, calls: Sequence[FinishedCall], region: str) -> RecordLookups:
        linkedids = {c.linkedid for c in calls}
        numbers = {n for c in calls if (n := _client_number(c, region))}
        existing = session.scalars(
            select(CallRecord).where(CallRecord.pbx_system == pbx, CallRecord.linkedid.in_(linkedids))
        )
        owners = session.scalars(select(PhoneNumber).where(PhoneNumber.e164.in_(numbers))) if numbers else ()
        awaiting: dict[str, list[MissedCall]] = {n: [] for n in numbers}
        if numbers:
            waiting = select(MissedCall).where(
                MissedCall.caller_number.in_(numbers), MissedCall.status.in_(AWAITING_CALLBACK)
            )
            for missed in session.scalars(waiting.order_by(MissedCall.id)):
                awaiting[missed.caller_number].append(missed)
        return cls(
            ManagerDirectory(session),
            {r.linkedid: r for r in existing},
            {p.e164: p for p in owners},
            awaiting,
        )

    def waiting(self, number: str) -> list[MissedCall]:
        """The missed calls from ``number`` that still wait for a callback."""
        return [m for m in self.awaiting.get(number, ()) if m.status in AWAITING_CALLBACK]


def _client_number(call: FinishedCall, region: str) -> str | None:
    raw = call.caller_number if call.direction is CallDirection.INBOUND else call.callee_number
    if call.direction is CallDirection.INTERNAL:
        return None
    return normalize_number(raw, region).e164


def _counterparty_id(session: Session, phone: PhoneNumber | None) -> int | None:
    if phone is None:
        return None
    if phone.counterparty_id is not None:
        return phone.counterparty_id
    if phone.contact_person_id is not None:
        contact = session.get(ContactPerson, phone.contact_person_id)
        return contact.counterparty_id if contact else None
    return None


def record_finished_call(
    session: Session,
    pbx: str,
    call: FinishedCall,
    *,
    region: str = "RU",
    repeat_window: timedelta = REPEAT_WINDOW,
) -> RecordOutcome:
    """Write ``call`` once; a second write of the same (pbx, linkedid) returns the existing record."""
    outcomes: list[RecordOutcome] = []
    record_finished_calls(session, pbx, [call], outcomes.append, region=region, repeat_window=repeat_window)
    return outcomes[0]


def record_finished_calls(
    session: Session,
    pbx: str,
    calls: Sequence[FinishedCall],
    each: Callable[[RecordOutcome], None],
    *,
    region: str = "RU",
    repeat_window: timedelta = REPEAT_WINDOW,
    guarded: bool = True,
) -> None:
    """:func:`record_finished_call` for calls that finished in this order, in one transaction: managers,
    existing records and number owners are read once, the new records and their legs inserted together;
    then each call's missed call and callback closure follow in order, and ``each`` gets its outcome
    right after its own.

    ``guarded``: each record is inserted in a savepoint, so one written meanwhile by another consumer of
    the same PBX wins quietly. Unguarded (cheaper), such a record fails the whole transaction with
    ``IntegrityError``: for a caller that then writes the calls again one by one, guarded."""
    lookups = RecordLookups.load(session, pbx, calls, region)
    outcomes: list[RecordOutcome | None] = []
    fresh: list[tuple[int, FinishedCall, CallRecord]] = []
    for index, call in enumerate(calls):
        existing = lookups.existing.get(call.linkedid)
        outcomes.append(None if existing is None else RecordOutcome(existing, created=False))
        if existing is None:
            lookups.existing[call.linkedid] = record = _new_record(session, pbx, call, lookups, region)
            fresh.append((index, call, record))
    if guarded:
        for index, call, record in fresh:
            winner = _insert_guarded(session, pbx, call, record, lookups.managers)
            if winner is not None:
                lookups.existing[call.linkedid] = winner
                outcomes[index] = RecordOutcome(winner, created=False)
    else:
        session.add_all([record for _, _, record in fresh])
        session.flush()
        legs = [leg for _, call, rec in fresh for leg in _leg_rows(rec.id, call.legs, lookups.managers)]
        session.add_all(legs)
        session.flush()
    for call, outcome in zip(calls, outcomes, strict=True):
        each(outcome or _follow_up(session, call, lookups, region, repeat_window))


def _new_record(
    session: Session, pbx: str, call: FinishedCall, lookups: RecordLookups, region: str
) -> CallRecord:
    managers = lookups.managers
    client = _client_number(call, region)
    phone = lookups.owners.get(client) if client else None
    answered_by = managers.by_target(
        call.answered_by_target, call.answered_dial_string or "", call.answered_dest_number or ""
    )
    return CallRecord(
        pbx_system=pbx,
        linkedid=call.linkedid,
        direction=call.direction,
        caller_number=_stored_number(call.caller_number, region),
        callee_number=_stored_number(call.callee_number, region),
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        ring_seconds=call.ring_seconds,
        talk_seconds=call.talk_seconds,
        disposition=call.disposition,
        answered_by_manager_id=answered_by.id if answered_by and call.answered_by_person else None,
        answered_by_target=call.answered_by_target,
        rung_targets=[_rung_json(r, managers) for r in call.rung],
        route_kind=call.route_kind,
        recording_file=call.recording_file,
        counterparty_id=_counterparty_id(session, phone),
        unregistered_number=bool(call.direction is CallDirection.INBOUND and client and phone is None),
        approximate=call.approximate,
        transferred_to=call.transferred_to,
    )


def _insert_guarded(
    session: Session, pbx: str, call: FinishedCall, record: CallRecord, managers: ManagerDirectory
) -> CallRecord | None:
    """Insert ``record`` and its legs in a savepoint; the concurrently written record when that won."""
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
            session.add_all(_leg_rows(record.id, call.legs, managers))
            session.flush()
    except IntegrityError:
        # written concurrently by another consumer of the same PBX: that record wins
        winner = _existing(session, pbx, call.linkedid)
        if winner is None:
            raise
        return winner
    return None


def _follow_up(
    session: Session, call: FinishedCall, lookups: RecordLookups, region: str, repeat_window: timedelta
) -> RecordOutcome:
    """The missed call a new record opens or grows, and the missed calls it closes as called back."""
    record = lookups.existing[call.linkedid]
    client = _client_number(call, region)
    phone = lookups.owners.get(client) if client else None
    missed, merged = _open_or_merge_missed(session, record, call, client, phone, lookups, repeat_window)
    called_back = _close_called_back(record, call, client, lookups)
    return RecordOutcome(record, True, missed, merged, called_back)


def _leg_rows(record_id: int, legs: tuple[AnsweredLeg, ...], managers: ManagerDirectory) -> list[CallLeg]:
    rows = []
    for position, leg in enumerate(legs):
        manager = managers.by_target(leg.target, leg.dial_string, leg.dest_number)
        rows.append(
            CallLeg(
                call_record_id=record_id,
                position=position,
                target=leg.target,
                manager_id=manager.id if manager else None,
                answered_at=leg.answered_at,
                ended_at=leg.ended_at,
                talk_seconds=leg.talk_seconds,
                approximate=leg.approximate,
            )
        )
    return rows


def _existing(session: Session, pbx: str, linkedid: str) -> CallRecord | None:
    stmt = select(CallRecord).where(CallRecord.pbx_system == pbx, CallRecord.linkedid == linkedid)
    return session.scalars(stmt).first()


def _stored_number(raw: str | None, region: str) -> str | None:
    """E.164 when valid, an internal extension as written, nothing for withheld or garbage."""
    if not raw:
        return None
    norm = normalize_number(raw, region)
    if norm.e164:
        return norm.e164
    return raw if raw.isdigit() and len(raw) <= 8 else None


def _rung_json(r: RungTarget, managers: ManagerDirectory) -> dict[str, object]:
    manager = managers.by_target(r.target, r.dial_string, r.dest_number)
    return {
        "target": r.target,
        "status": r.status,
        "manager_id": manager.id if manager else None,
        "queue": r.queue,
        "began_at": r.began_at.isoformat() if r.began_at else None,
        "ended_at": r.ended_at.isoformat() if r.ended_at else None,
    }


def _open_or_merge_missed(
    session: Session,
    record: CallRecord,
    call: FinishedCall,
    client: str | None,
    phone: PhoneNumber | None,
    lookups: RecordLookups,
    repeat_window: timedelta,
) -> tuple[MissedCall | None, bool]:
    if call.missed_reason is None or call.direction is not CallDirection.INBOUND or client is None:
        return None, False
    if phone is not None and phone.manager_id is not None:
        return None, False  # a colleague's own phone: not a client call to call back
    earliest, latest = call.started_at - repeat_window, call.started_at + repeat_window
    recent = [m for m in lookups.waiting(client) if earliest <= m.last_attempt_at <= latest]
    if recent:
        open_missed = max(recent, key=lambda m: m.last_attempt_at)
        open_missed.attempts += 1
        open_missed.last_attempt_at = max(open_missed.last_attempt_at, call.started_at)
        return open_missed, True
    missed = MissedCall(
        call_record_id=record.id,
        caller_number=client,
        reason=call.missed_reason,
        ring_seconds=call.ring_seconds,
        assigned_manager_id=_assignee(session, record.counterparty_id, call, lookups.managers),
        counterparty_id=record.counterparty_id,
        status=MissedStatus.OPEN,
        attempts=1,
        last_attempt_at=call.started_at,
        created_at=call.started_at,
    )
    session.add(missed)
    session.flush()
    lookups.awaiting.setdefault(client, []).append(missed)
    return missed, False


def _assignee(
    session: Session, counterparty_id: int | None, call: FinishedCall, managers: ManagerDirectory
) -> int | None:
    if counterparty_id is not None:
        cp = session.get(Counterparty, counterparty_id)
        if cp is not None and cp.manager_id is not None:
            return cp.manager_id
    if call.route_manager_id is not None and session.get(Manager, call.route_manager_id) is not None:
        return call.route_manager_id
    for r in call.rung:
        manager = managers.by_target(r.target, r.dial_string, r.dest_number)
        if manager is not None:
            return manager.id
    return None


def _close_called_back(
    record: CallRecord, call: FinishedCall, client: str | None, lookups: RecordLookups
) -> tuple[MissedCall, ...]:
    if client is None or call.answered_at is None or not call.answered_by_person:
        return ()
    managers = lookups.managers
    if call.direction is CallDirection.OUTBOUND:
        by = managers.by_extension(call.caller_number)
    elif call.direction is CallDirection.INBOUND:
        by = managers.by_target(
            call.answered_by_target, call.answered_dial_string or "", call.answered_dest_number or ""
        )
    else:
        return ()
    answered_at: datetime = call.answered_at
    opened = [
        m for m in lookups.waiting(client) if m.call_record_id != record.id and m.created_at <= answered_at
    ]
    for missed in opened:
        missed.status = MissedStatus.CALLED_BACK
        missed.callback_call_record_id = record.id
        missed.called_back_at = answered_at
        missed.called_back_by_manager_id = by.id if by else None
        missed.closed_at = answered_at
    return tuple(opened)
