"""The call state machine: one :class:`CallState` per conversation (Linkedid), folded from call events.

Pure code. Folding is idempotent (a duplicated event changes nothing) and tolerant of events for channels
it has not seen (after a gap, or when the stream starts mid-call). A call finishes when every channel it
knows has hung up; :meth:`CallTracker.apply` then hands back the final state. :meth:`CallTracker.reconcile`
applies a live-channel snapshot taken after a reconnect: calls whose channels are all gone are finished
with what is known (``complete=False``), calls first seen in the snapshot are seeded.

States serialize to plain dicts (:meth:`CallState.to_dict`) so in-flight calls survive a restart.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from routing.call_events import (
    AgentConnected,
    CallerIdChanged,
    CallEvent,
    ChannelAnswered,
    ChannelCreated,
    DialBegan,
    DialEnded,
    HungUp,
    LiveChannel,
    QueueCallerAbandoned,
    QueueCallerJoined,
    RecordingStarted,
    RouteVariableSet,
)

_CHANNEL_SUFFIX = re.compile(r"-[0-9a-fA-F]{8}(?:;[12])?$")
UNKNOWN_CALLER = frozenset({"", "<unknown>"})
_RECENT_FINISHED = 4096


def channel_target(channel: str) -> str:
    """The dial target a channel was created for: its name without the instance suffix.

    >>> channel_target("PJSIP/m1-00000017")
    'PJSIP/m1'
    >>> channel_target("Local/answer-m1@agents-000000dc;1")
    'Local/answer-m1@agents'
    >>> channel_target("odd")
    'odd'
    """
    return _CHANNEL_SUFFIX.sub("", channel)


@dataclass
class ChannelInfo:
    """One channel of a call as far as it is known."""

    uniqueid: str
    channel: str
    context: str
    exten: str
    caller_num: str
    created_at: float
    up_at: float | None = None
    hungup_at: float | None = None
    cause: int | None = None


@dataclass
class DialInfo:
    """One dial attempt from a calling channel to a destination channel (a Dial or a queue member ring)."""

    dest_uniqueid: str
    target: str
    dial_string: str
    source_uniqueid: str
    began_at: float
    context: str = ""
    exten: str = ""
    dest_caller_num: str = ""
    queue: str | None = None
    ended_at: float | None = None
    status: str | None = None


@dataclass
class CallState:
    """Everything known about one conversation."""

    linkedid: str
    started_at: float
    last_event_at: float
    channels: dict[str, ChannelInfo] = field(default_factory=dict)
    dials: list[DialInfo] = field(default_factory=list)
    route_vars: dict[str, str] = field(default_factory=dict)
    queue: str | None = None
    queue_abandoned_at: float | None = None
    answered_at: float | None = None
    answered_target: str | None = None
    answered_dial_string: str | None = None
    answered_dest_caller_num: str | None = None
    recording_file: str | None = None
    ended_at: float | None = None
    complete: bool = True

    # -- derived facts ------------------------------------------------------------------------------
    @property
    def origin(self) -> ChannelInfo | None:
        """The channel that started the conversation (Uniqueid == Linkedid), else the earliest known."""
        if self.linkedid in self.channels:
            return self.channels[self.linkedid]
        return min(self.channels.values(), key=lambda c: c.created_at, default=None)

    @property
    def caller_channel(self) -> ChannelInfo | None:
        """The channel that placed the first dial (the trunk leg of an inbound call), else the origin."""
        for dial in self.dials:
            if dial.source_uniqueid in self.channels:
                return self.channels[dial.source_uniqueid]
        return self.origin

    @property
    def caller_num(self) -> str | None:
        """The best-known caller number (``None`` when no channel carries one)."""
        for chan in (self.caller_channel, self.origin):
            if chan is not None and chan.caller_num not in UNKNOWN_CALLER:
                return chan.caller_num
        return None

    @property
    def dialled_exten(self) -> str | None:
        """What the calling channel dialled: its extension at its first dial (outbound / internal calls)."""
        for dial in self.dials:
            if dial.exten and dial.exten != "s":
                return dial.exten
        origin = self.origin
        return origin.exten if origin is not None else None

    @property
    def live(self) -> bool:
        return any(c.hungup_at is None for c in self.channels.values())

    # -- serialization -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` restores an equal state."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallState:
        raw = dict(data)
        raw["channels"] = {k: ChannelInfo(**v) for k, v in raw.get("channels", {}).items()}
        raw["dials"] = [DialInfo(**d) for d in raw.get("dials", [])]
        return cls(**raw)


@dataclass(frozen=True, slots=True)
class Applied:
    """The effect of one event: whether the state changed, and the call if it just finished."""

    linkedid: str
    changed: bool
    finished: CallState | None = None


class CallTracker:
    """In-flight calls of one PBX keyed by Linkedid, fed events in the order Asterisk sent them."""

    def __init__(self, states: Iterable[CallState] = ()) -> None:
        self.calls: dict[str, CallState] = {s.linkedid: s for s in states}
        self._finished: OrderedDict[str, None] = OrderedDict()

    def apply(self, event: CallEvent) -> Applied:
        """Fold one event; a duplicate or a straggler of a finished call changes nothing."""
        lid = event.linkedid
        if lid in self._finished:
            return Applied(lid, False)
        call = self.calls.get(lid)
        if call is None:
            call = CallState(linkedid=lid, started_at=event.at, last_event_at=event.at)
        changed = _fold(call, event)
        if not changed:
            return Applied(lid, False)
        call.last_event_at = max(call.last_event_at, event.at)
        call.started_at = min(call.started_at, event.at)
        if not call.channels:
            return Applied(lid, False)
        self.calls[lid] = call
        if call.live:
            return Applied(lid, True)
        return Applied(lid, True, self._finish(call, complete=call.complete))

    def reconcile(self, live: Sequence[LiveChannel], at: float) -> tuple[list[CallState], list[CallState]]:
        """Apply a live-channel snapshot taken at ``at``; return (finished calls, calls seeded or updated)."""
        by_call: dict[str, list[LiveChannel]] = {}
        for snap in live:
            by_call.setdefault(snap.linkedid, []).append(snap)
        finished: list[CallState] = []
        touched: list[CallState] = []
        for lid in list(self.calls):
            call = self.calls[lid]
            alive = {c.uniqueid for c in by_call.get(lid, ())}
            for chan in call.channels.values():
                if chan.hungup_at is None and chan.uniqueid not in alive:
                    chan.hungup_at, chan.cause, call.complete = call.last_event_at, 0, False
            if lid not in by_call:
                finished.append(self._finish(call, complete=False))
        for lid, chans in by_call.items():
            if lid in self._finished:
                continue
            seeded = self.calls.get(lid)
            if seeded is None:
                seeded = self.calls[lid] = CallState(lid, _seed_start(lid, chans, at), at, complete=False)
            _seed(seeded, chans, at)
            touched.append(seeded)
        return finished, touched

    def _finish(self, call: CallState, complete: bool) -> CallState:
        del self.calls[call.linkedid]
        self._finished[call.linkedid] = None
        if len(self._finished) > _RECENT_FINISHED:
            self._finished.popitem(last=False)
        call.complete = complete
        call.ended_at = max(
            (c.hungup_at for c in call.channels.values() if c.hungup_at is not None),
            default=call.last_event_at,
        )
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
            known = call.channels.get(event.uniqueid)
            if known is not None and known.context:
                return False
            chan = _channel(call, event, event.channel)
            chan.channel, chan.context, chan.exten = event.channel, event.context, event.exten
            chan.caller_num = chan.caller_num or event.caller_num
            chan.created_at = min(chan.created_at, event.at)
            return True
        case CallerIdChanged():
            chan = _channel(call, event)
            if chan.caller_num == event.caller_num:
                return False
            chan.caller_num = event.caller_num
            return True
        case ChannelAnswered():
            chan = _channel(call, event)
            if chan.up_at is not None:
                return False
            chan.up_at = event.at
            return True
        case DialBegan():
            if any(d.dest_uniqueid == event.dest_uniqueid for d in call.dials):
                return False
            src = _channel(call, event)
            if src.caller_num in UNKNOWN_CALLER:
                src.caller_num = event.caller_num
            call.dials.append(
                DialInfo(
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
            )
            return True
        case DialEnded():
            dial = next((d for d in call.dials if d.dest_uniqueid == event.dest_uniqueid), None)
            if dial is None:
                _channel(call, event)
                dial = DialInfo(
                    event.dest_uniqueid, channel_target(event.dest_channel), "", event.uniqueid, event.at
                )
                call.dials.append(dial)
            if dial.status is not None:
                return False
            dial.status, dial.ended_at = event.status, event.at
            if event.status == "ANSWER":
                _mark_answered(call, dial, event.at)
            return True
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
            if call.answered_at is None:
                _mark_answered(call, dial, event.at)
                changed = True
            return changed
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
            if chan.hungup_at is not None:
                return False
            chan.hungup_at, chan.cause = event.at, event.cause
            return True
    return False  # pragma: no cover - every event type is matched above


def _mark_answered(call: CallState, dial: DialInfo, at: float) -> None:
    if call.answered_at is None:
        call.answered_at = at
        call.answered_target = dial.target
        call.answered_dial_string = dial.dial_string
        call.answered_dest_caller_num = dial.dest_caller_num


def _seed_start(linkedid: str, chans: Sequence[LiveChannel], at: float) -> float:
    """When a call first seen in a snapshot started: its oldest channel's age, else the Linkedid's epoch."""
    ages = [c.duration_s for c in chans if c.duration_s is not None]
    if ages:
        return at - max(ages)
    head = linkedid.partition(".")[0]
    return float(head) if head.isdigit() else at


def _seed(call: CallState, chans: Sequence[LiveChannel], at: float) -> None:
    """Add the snapshot's channels to ``call``; a bridged, answered callee marks an unseen answer."""
    origin_ctx = None
    for live in chans:
        if live.uniqueid not in call.channels:
            call.channels[live.uniqueid] = ChannelInfo(
                live.uniqueid, live.channel, live.context, live.exten, live.caller_num, call.started_at
            )
        if live.uniqueid == call.linkedid:
            origin_ctx = live.context
    origin = call.origin
    origin_ctx = origin.context if origin is not None else origin_ctx
    if call.answered_at is not None:
        return
    callers = {d.source_uniqueid for d in call.dials}
    for live in chans:
        if not (live.up and live.bridged) or live.uniqueid == call.linkedid or live.uniqueid in callers:
            continue
        known = call.channels[live.uniqueid]
        if (known.context or live.context) == origin_ctx:
            continue
        dial = next((d for d in call.dials if d.dest_uniqueid == live.uniqueid), None)
        if dial is None:
            dial = DialInfo(live.uniqueid, channel_target(live.channel), "", "", at)
            call.dials.append(dial)
        dial.status, dial.ended_at = dial.status or "ANSWER", dial.ended_at or at
        _mark_answered(call, dial, at)
        call.complete = False
        return
