"""The verdict on a finished call: direction, who answered, and whether (and why) it was missed.

Decided per conversation, never per leg: a call that rang the manager in vain and was then answered by the
fallback is answered (the manager's no-answer stays in the rung list).

* **Direction**: inbound when the channel that started the call (Uniqueid == Linkedid) entered the dialplan
  in one of ``inbound_contexts``; otherwise outbound when it dialled an outside number (``min_outside_digits``
  or more digits), internal when it dialled an extension. A trunk leg created *by* an outbound call is in an
  inbound context too, but it never starts the call, so it is not mistaken for an inbound call.
* **Answered by a person**: a dial to a target (or a queue member) answered, unless every answered target
  matches one of ``machine_targets`` (shell patterns, case-insensitive, e.g. ``*voicemail*``). A call
  answered and then transferred is answered, whatever the transfer target did: never missed. A call whose
  inbound leg was answered by the dialplan itself (``Answer()`` then IVR / ``VoiceMail()``) with no person
  answering is ``not_answered_by_person``.
* **Missed reasons** (inbound, nobody answered): ``ROUTE_KIND=blacklist`` is *rejected* (recorded, not
  missed); ``ROUTE_AFTER_HOURS`` truthy is ``after_hours``; the caller hanging up while it rang (last dial
  CANCEL, queue abandon, or before any dial result) is ``abandoned``, or ``short_abandon`` under
  ``short_abandon_s`` of ringing; every attempt busy is ``busy``; every attempt unavailable/congested is
  ``unavailable``; otherwise ``manager_no_answer`` (one target rung) or ``chain_no_answer`` (several).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import UTC, datetime

from crm_core.models.enums import CallDirection, CallDisposition, MissedReason
from crm_core.services.call_records import AnsweredLeg, FinishedCall, RungTarget
from routing.call_legs import LegInfo
from routing.call_state import UNKNOWN_CALLER, CallState, DialInfo

DEFAULT_INBOUND_CONTEXTS = ("from-trunk", "from-trunk-queue", "callrouter-inbound")
DEFAULT_MACHINE_TARGETS = ("*voicemail*", "*ivr*")
_UNAVAILABLE = frozenset({"CHANUNAVAIL", "CONGESTION"})
_TRUE = frozenset({"1", "yes", "true", "on"})


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Site-specific knobs (from Settings)."""

    inbound_contexts: frozenset[str] = frozenset(DEFAULT_INBOUND_CONTEXTS)
    short_abandon_s: float = 3.0
    machine_targets: tuple[str, ...] = DEFAULT_MACHINE_TARGETS
    min_outside_digits: int = 7

    def is_machine(self, target: str | None) -> bool:
        """True when ``target`` is a voicemail / IVR destination rather than a person."""
        low = (target or "").lower()
        return any(fnmatch.fnmatchcase(low, p.lower()) for p in self.machine_targets)

    def is_outside(self, number: str | None) -> bool:
        """True for a number outside the PBX (enough digits), False for an extension.

        >>> PolicyConfig().is_outside("+79001234568"), PolicyConfig().is_outside("102")
        (True, False)
        """
        digits = (number or "").removeprefix("+")
        return digits.isdigit() and len(digits) >= self.min_outside_digits


@dataclass(frozen=True, slots=True)
class Verdict:
    """The classification of one finished call."""

    direction: CallDirection
    disposition: CallDisposition
    missed_reason: MissedReason | None
    answered_by_person: bool
    caller_number: str | None
    callee_number: str | None
    answered_at: float | None
    ring_seconds: float | None
    talk_seconds: float | None


def _direction(call: CallState, cfg: PolicyConfig) -> CallDirection:
    origin = call.origin
    if origin is not None and origin.context in cfg.inbound_contexts:
        return CallDirection.INBOUND
    caller = call.caller_channel
    unknown_origin = origin is None or not origin.context
    if unknown_origin and caller is not None and caller.context in cfg.inbound_contexts:
        return CallDirection.INBOUND
    return CallDirection.OUTBOUND if cfg.is_outside(call.dialled_exten) else CallDirection.INTERNAL


def _machine_up_at(call: CallState, cfg: PolicyConfig) -> float | None:
    inbound = (c for c in call.channels.values() if c.context in cfg.inbound_contexts)
    ups = [c.up_at for c in inbound if c.up_at is not None]
    if call.answered_at is not None and cfg.is_machine(call.answered_target):
        ups.append(call.answered_at)
    return min(ups, default=None)


def _missed_reason(call: CallState, cfg: PolicyConfig, ring: float | None) -> MissedReason:
    dials = [d for d in call.dials if not cfg.is_machine(d.target)]
    statuses = [d.status for d in dials if d.status is not None]
    last: DialInfo | None = max(
        (d for d in dials if d.ended_at is not None), key=lambda d: d.ended_at or 0.0, default=None
    )
    gave_up = call.queue_abandoned_at is not None or (last is not None and last.status == "CANCEL")
    if gave_up or (call.complete and all(s == "CANCEL" for s in statuses)):
        short = ring is not None and ring < cfg.short_abandon_s
        return MissedReason.SHORT_ABANDON if short else MissedReason.ABANDONED
    if statuses and all(s == "BUSY" for s in statuses):
        return MissedReason.BUSY
    if statuses and all(s in _UNAVAILABLE for s in statuses):
        return MissedReason.UNAVAILABLE
    if len({d.target for d in dials}) > 1:
        return MissedReason.CHAIN_NO_ANSWER
    return MissedReason.MANAGER_NO_ANSWER


_DISPOSITION = {
    MissedReason.BUSY: CallDisposition.BUSY,
    MissedReason.UNAVAILABLE: CallDisposition.UNAVAILABLE,
    MissedReason.ABANDONED: CallDisposition.ABANDONED,
    MissedReason.SHORT_ABANDON: CallDisposition.ABANDONED,
}


def classify(call: CallState, cfg: PolicyConfig) -> Verdict:
    """Classify a finished call (``call.ended_at`` set by the tracker)."""
    ended = call.ended_at if call.ended_at is not None else call.last_event_at
    direction = _direction(call, cfg)
    origin = call.origin
    if direction is CallDirection.INBOUND:
        caller, callee = call.caller_num, (call.caller_channel or origin).exten if origin else None
        rings_from = call.started_at
    else:
        caller = origin.caller_num if origin and origin.caller_num not in UNKNOWN_CALLER else None
        callee = call.dialled_exten
        rings_from = min((d.began_at for d in call.dials), default=call.started_at)
    person = call.answered_at is not None and not (
        direction is CallDirection.INBOUND
        and cfg.is_machine(call.answered_target)
        and all(cfg.is_machine(leg.target) for leg in call.legs)
    )
    answered_at = call.answered_at if person else None
    reason: MissedReason | None = None
    if person:
        disposition = CallDisposition.ANSWERED
    elif direction is not CallDirection.INBOUND:
        statuses = {d.status for d in call.dials}
        disposition = (
            CallDisposition.BUSY
            if statuses == {"BUSY"}
            else CallDisposition.UNAVAILABLE
            if statuses and statuses <= _UNAVAILABLE
            else CallDisposition.NO_ANSWER
        )
    elif call.route_vars.get("ROUTE_KIND", "").lower() == "blacklist":
        disposition = CallDisposition.REJECTED
    else:
        answered_at = _machine_up_at(call, cfg)
        ring = (answered_at if answered_at is not None else ended) - rings_from
        if call.route_vars.get("ROUTE_AFTER_HOURS", "").lower() in _TRUE:
            reason = MissedReason.AFTER_HOURS
        elif answered_at is not None:
            reason = MissedReason.NOT_ANSWERED_BY_PERSON
        else:
            reason = _missed_reason(call, cfg, ring)
        disposition = (
            CallDisposition.ANSWERED
            if answered_at is not None
            else _DISPOSITION.get(reason, CallDisposition.NO_ANSWER)
        )
    ring_s = (answered_at if answered_at is not None else ended) - rings_from
    talk_s = ended - answered_at if answered_at is not None else None
    return Verdict(
        direction, disposition, reason, person, caller, callee, answered_at, max(ring_s, 0.0), talk_s
    )


def _ts(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


def finished_call(call: CallState, verdict: Verdict) -> FinishedCall:
    """The CRM's view of a classified call, ready for ``record_finished_call``."""
    manager_id = call.route_vars.get("ROUTE_MANAGER_ID", "")
    return FinishedCall(
        linkedid=call.linkedid,
        direction=verdict.direction,
        disposition=verdict.disposition,
        started_at=datetime.fromtimestamp(call.started_at, UTC),
        caller_number=verdict.caller_number,
        callee_number=verdict.callee_number,
        answered_at=_ts(verdict.answered_at),
        ended_at=_ts(call.ended_at),
        ring_seconds=verdict.ring_seconds,
        talk_seconds=verdict.talk_seconds,
        answered_by_target=call.answered_target,
        answered_by_person=verdict.answered_by_person,
        answered_dial_string=call.answered_dial_string,
        answered_dest_number=call.answered_dest_caller_num,
        missed_reason=verdict.missed_reason,
        rung=tuple(
            RungTarget(
                d.target,
                d.dial_string,
                d.dest_caller_num,
                d.status,
                _ts(d.began_at),
                _ts(d.ended_at),
                d.queue,
            )
            for d in call.dials
        ),
        route_kind=call.route_vars.get("ROUTE_KIND") or None,
        route_manager_id=int(manager_id) if manager_id.isdigit() else None,
        recording_file=call.recording_file,
        legs=tuple(_answered_leg(leg) for leg in call.legs),
        transferred_to=call.legs[-1].target if len(call.legs) > 1 else None,
        approximate=call.approximate,
    )


def _answered_leg(leg: LegInfo) -> AnsweredLeg:
    return AnsweredLeg(
        target=leg.target,
        answered_at=datetime.fromtimestamp(leg.answered_at, UTC),
        ended_at=_ts(leg.ended_at),
        talk_seconds=leg.talk_seconds,
        dial_string=leg.dial_string,
        dest_number=leg.dest_caller_num,
        approximate=leg.answered_guess or leg.ended_guess,
    )
