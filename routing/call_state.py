"""The call state machine: one :class:`CallState` per conversation (Linkedid), folded from call events.

Pure code. Folding is idempotent (a duplicated event changes nothing) and tolerant of events for channels
it has not seen (after a gap, or when the stream starts mid-call). A call finishes when every channel it
knows has hung up; :meth:`CallTracker.apply` then hands back the final state. :meth:`CallTracker.reconcile`
applies a live-channel snapshot taken after a reconnect: calls whose channels are all gone are finished
with what is known (``complete=False``), calls first seen in the snapshot are seeded.

Times are Asterisk's own (event ``Timestamp``). What a gap hides is guessed and flagged (``*_guess``): a
channel that vanished ended at the call's last known event at the earliest, a call first seen in a snapshot
started ``Duration`` before it, a bridged callee seen only there answered at the snapshot at the latest. A
real event delivered later replaces the guess; what is still guessed at the end makes the call
:attr:`CallState.approximate`. Every answered party is a leg (:mod:`routing.call_legs`); blind and attended
transfers close the transferer's leg, and an attended transfer moves the target's channel into the
transferee's call.

States serialize to plain dicts (:meth:`CallState.to_dict`) so in-flight calls survive a restart.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from routing.call_events import (
    AgentConnected,
    AttendedTransferred,
    BlindTransferred,
    CallerIdChanged,
    CallEvent,
    ChannelAnswered,
    ChannelCreated,
    ChannelMovedAway,
    DialBegan,
    DialEnded,
    HungUp,
    LiveChannel,
    QueueCallerAbandoned,
    QueueCallerJoined,
    RecordingStarted,
    RouteVariableSet,
)
from routing.call_legs import LegInfo, end_legs
from routing.call_model import (
    UNKNOWN_CALLER,
    CallState,
    ChannelInfo,
    DialInfo,
    channel_target,
    mark_answered,
)
from routing.call_resync import seed, seed_start, vanished

__all__ = [
    "UNKNOWN_CALLER",
    "Applied",
    "CallState",
    "CallTracker",
    "ChannelInfo",
    "DialInfo",
    "channel_target",
]
_RECENT_FINISHED = 4096


@dataclass(frozen=True, slots=True)
class Applied:
    """The effect of one event: whether the state changed, and the call if it just finished."""

    linkedid: str
    changed: bool
    finished: CallState | None = None


class CallTracker:
    """In-flight calls of one PBX keyed by Linkedid, fed events in the order Asterisk sent them.

    A channel belongs to one call at a time (``_owner``): an event about it goes to that call even if it
    names another Linkedid (after an attended transfer Asterisk renames the moved channels' Linkedid).
    """

    def __init__(self, states: Iterable[CallState] = ()) -> None:
        self.calls: dict[str, CallState] = {s.linkedid: s for s in states}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._owner: dict[str, str] = {}
        for call in self.calls.values():
            call.gap = True  # restored after a restart: events may have been missed meanwhile
            self._own(call)

    def apply(self, event: CallEvent) -> Applied:
        """Fold one event; a duplicate or a straggler of a finished call changes nothing."""
        lid = event.linkedid
        owner = self._owner.get(event.uniqueid)
        if owner is not None and owner in self.calls and not isinstance(event, ChannelMovedAway):
            lid = owner
        if lid in self._finished:
            return Applied(lid, False)
        call = self.calls.get(lid)
        if call is None:
            started_guess = not (isinstance(event, ChannelCreated) and event.uniqueid == lid)
            call = CallState(linkedid=lid, started_at=event.at, last_event_at=event.at)
            call.started_guess = started_guess
        known = len(call.channels)
        changed = _fold(call, event)
        if not changed:
            return Applied(lid, False)
        if not event.stamped and call.gap:
            call.late_clock = True
        call.last_event_at = max(call.last_event_at, event.at)
        call.started_at = min(call.started_at, event.at)
        if not call.channels:
            return Applied(lid, False)
        self.calls[lid] = call
        if len(call.channels) != known:
            self._own(call)
        if isinstance(event, AttendedTransferred) and event.target_uniqueid:
            self._owner[event.target_uniqueid] = lid
        if call.live:
            return Applied(lid, True)
        return Applied(lid, True, self._finish(call, complete=call.complete))

    def reconcile(
        self, live: Sequence[LiveChannel], at: float, gap: bool = True
    ) -> tuple[list[CallState], list[CallState]]:
        """Apply a live-channel snapshot taken at ``at``; return (finished calls, calls seeded or updated).

        ``gap``: events may have been lost since the previous snapshot (a reconnect, an overflow), so every
        call in progress spanned it; a routine re-check of an unbroken stream (``gap=False``) only closes
        calls whose channels vanished and seeds calls never seen."""
        by_call: dict[str, list[LiveChannel]] = {}
        for snap in live:
            owner = self._owner.get(snap.uniqueid)
            lid = owner if owner is not None and owner in self.calls else snap.linkedid
            by_call.setdefault(lid, []).append(snap)
        finished: list[CallState] = []
        touched: list[CallState] = []
        for lid in list(self.calls):
            call = self.calls[lid]
            call.gap = call.gap or gap
            alive = {c.uniqueid for c in by_call.get(lid, ())}
            for chan in call.channels.values():
                if chan.hungup_at is None and chan.uniqueid not in alive:
                    vanished(call, chan)
            if lid not in by_call:
                finished.append(self._finish(call, complete=False))
        for lid, chans in by_call.items():
            if lid in self._finished:
                continue
            seeded = self.calls.get(lid)
            if seeded is not None:
                seeded.spanned_gap = seeded.spanned_gap or gap
            else:
                seeded = CallState(lid, seed_start(lid, chans, at), at, complete=False)
                seeded.started_guess = seeded.gap = seeded.spanned_gap = True
                self.calls[lid] = seeded
            seed(seeded, chans, at)
            self._own(seeded)
            touched.append(seeded)
        return finished, touched

    def _own(self, call: CallState) -> None:
        for uid, chan in call.channels.items():
            if chan.hungup_at is None or uid not in self._owner:
                self._owner[uid] = call.linkedid

    def _finish(self, call: CallState, complete: bool) -> CallState:
        del self.calls[call.linkedid]
        self._finished[call.linkedid] = None
        if len(self._finished) > _RECENT_FINISHED:
            self._finished.popitem(last=False)
        for uid in call.channels:
            if self._owner.get(uid) == call.linkedid:
                del self._owner[uid]
        call.complete = complete
        ends = [(c.hungup_at, c.hungup_guess) for c in call.channels.values() if c.hungup_at is not None]
        if ends:
            call.ended_at, call.end_guess = max(ends)
        else:
            call.ended_at, call.end_guess = call.last_event_at, not complete
        for leg in call.legs:
            if leg.ended_at is None:
                leg.ended_at, leg.ended_guess = max(call.ended_at, leg.answered_at), call.end_guess
        call.legs.sort(key=lambda leg: leg.answered_at)
        return call


def _channel(call: CallState, event: CallEvent, channel: str = "") -> ChannelInfo:
    chan = call.channels.get(event.uniqueid)
    if chan is None:
        chan = ChannelInfo(event.uniqueid, channel, "", "", "", event.at)
        call.channels[event.uniqueid] = chan
    return chan


def _fold(call: CallState, event: CallEvent) -> bool:
    """Apply ``event`` to ``call`` in place; return True when something changed."""
    match event:
        case ChannelCreated():
            return _created(call, event)
        case CallerIdChanged():
            chan = _channel(call, event)
            if chan.caller_num == event.caller_num:
                return False
            chan.caller_num = event.caller_num
            return True
        case ChannelAnswered():
            chan = _channel(call, event)
            if chan.up_at is not None and not chan.up_guess:
                return False
            chan.up_at, chan.up_guess = event.at, False
            return True
        case DialBegan():
            return _dial_began(call, event)
        case DialEnded():
            return _dial_ended(call, event)
        case AgentConnected():
            changed = call.queue != event.queue
            call.queue = event.queue
            dial = next((d for d in call.dials if d.dest_uniqueid == event.dest_uniqueid), None)
            if dial is None:
                dial = DialInfo(
                    event.dest_uniqueid, channel_target(event.dest_channel), event.member, event.uniqueid,
                    event.at, queue=event.queue, ended_at=event.at, status="ANSWER",
                )  # fmt: skip
                call.dials.append(dial)
            return mark_answered(call, dial, event.at) or changed
        case QueueCallerJoined():
            if call.queue == event.queue:
                return False
            _channel(call, event)
            call.queue = event.queue
            return True
        case QueueCallerAbandoned():
            if call.queue_abandoned_at is not None:
                return False
            call.queue, call.queue_abandoned_at = event.queue, event.at
            return True
        case RouteVariableSet():
            if call.route_vars.get(event.name) == event.value:
                return False
            call.route_vars[event.name] = event.value
            return True
        case RecordingStarted():
            if call.recording_file == event.filename:
                return False
            call.recording_file = event.filename
            return True
        case HungUp():
            chan = _channel(call, event)
            if chan.hungup_at is not None and not chan.hungup_guess:
                return False
            correcting = chan.hungup_guess
            chan.hungup_at, chan.cause, chan.hungup_guess = event.at, event.cause, False
            end_legs(call.legs, event.uniqueid, event.at, correcting=correcting)
            return True
        case BlindTransferred():
            changed = not call.transferred
            call.transferred = True
            # the transfer is when the transferer's leg really ended, whatever a gap made us guess
            return end_legs(call.legs, event.uniqueid, event.at, correcting=True) or changed
        case AttendedTransferred():
            return _attended_transfer(call, event)
        case ChannelMovedAway():
            moved = call.channels.get(event.uniqueid)
            if moved is None or (moved.hungup_at is not None and not moved.hungup_guess):
                return False
            correcting = moved.hungup_guess
            moved.hungup_at, moved.cause, moved.hungup_guess = event.at, 0, False
            end_legs(call.legs, event.uniqueid, event.at, correcting=correcting)
            return True
    return False  # pragma: no cover - every event type is matched above


def _created(call: CallState, event: ChannelCreated) -> bool:
    """``Newchannel``; one delivered after a snapshot guessed the channel replaces the guess."""
    known = call.channels.get(event.uniqueid)
    if known is not None and known.context and not known.created_guess:
        return False
    chan = _channel(call, event, event.channel)
    chan.channel, chan.context, chan.exten = event.channel, event.context, event.exten
    chan.caller_num = chan.caller_num or event.caller_num
    chan.created_at = event.at if chan.created_guess else min(chan.created_at, event.at)
    chan.created_guess = False
    if event.uniqueid == call.linkedid and call.started_guess:
        call.started_at, call.started_guess = event.at, False
    return True


def _dial_began(call: CallState, event: DialBegan) -> bool:
    src = _channel(call, event)
    dial = next((d for d in call.dials if d.dest_uniqueid == event.dest_uniqueid), None)
    if dial is not None and not (dial.seeded and not dial.source_uniqueid):
        return False
    if src.caller_num in UNKNOWN_CALLER:
        src.caller_num = event.caller_num
    began = DialInfo(
        event.dest_uniqueid,
        channel_target(event.dest_channel),
        event.dial_string,
        event.uniqueid,
        event.at,
        event.context,
        event.exten,
        event.dest_caller_num,
        event.queue,
    )
    if dial is None:
        call.dials.append(began)
        return True
    # the snapshot guessed this answered dial: the real DialBegin (delivered late) tells who dialled whom
    began.status, began.ended_at, began.seeded = dial.status, dial.ended_at, True
    call.dials[call.dials.index(dial)] = began
    for leg in call.legs:
        if leg.dest_uniqueid == began.dest_uniqueid:
            leg.source_uniqueid, leg.dial_string = began.source_uniqueid, began.dial_string
            leg.dest_caller_num, leg.queue = began.dest_caller_num, began.queue
    if call.answered_target == began.target and not call.answered_dial_string:
        call.answered_dial_string, call.answered_dest_caller_num = began.dial_string, began.dest_caller_num
    return True


def _dial_ended(call: CallState, event: DialEnded) -> bool:
    dial = next((d for d in call.dials if d.dest_uniqueid == event.dest_uniqueid), None)
    if dial is None:
        _channel(call, event)
        dial = DialInfo(event.dest_uniqueid, channel_target(event.dest_channel), "", event.uniqueid, event.at)
        call.dials.append(dial)
    if dial.status is not None and not dial.seeded:
        return False
    dial.status, dial.ended_at, dial.seeded = event.status, event.at, False
    if event.status == "ANSWER":
        mark_answered(call, dial, event.at)
    return True


def _attended_transfer(call: CallState, event: AttendedTransferred) -> bool:
    """The transferer's first channel leaves; the consultation's target now talks to the transferee."""
    changed = not call.transferred
    call.transferred = True
    changed = end_legs(call.legs, event.uniqueid, event.at, correcting=True) or changed
    target = event.target_uniqueid
    if not target or any(leg.dest_uniqueid == target for leg in call.legs):
        return changed
    if target not in call.channels:
        call.channels[target] = ChannelInfo(
            target, event.target_channel, "", "", event.target_caller_num, event.at
        )
    call.legs.append(
        LegInfo(
            target,
            channel_target(event.target_channel),
            event.transferee_uniqueid,
            event.at,
            dest_caller_num=event.target_caller_num,
        )
    )
    return True
