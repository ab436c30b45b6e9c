"""Typed call events: what the call state machine needs from Asterisk, free of AMI frames.

Every event names the conversation (``linkedid``), the channel it concerns (``uniqueid``) and when Asterisk
formatted it (``at``, epoch seconds). Adapters build these from AMI frames; the state machine folds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """Common fields: the conversation, the channel and the event time.

    ``stamped`` is False when ``at`` is the time the event was *received* (the frame had no ``Timestamp``):
    right for a live event, wrong for one delivered late after a gap.
    """

    linkedid: str
    uniqueid: str
    at: float
    stamped: bool = field(default=True, kw_only=True)


@dataclass(frozen=True, slots=True)
class ChannelCreated(ChannelEvent):
    """``Newchannel`` (or a channel first seen in a ``CoreShowChannel`` snapshot)."""

    channel: str
    context: str
    exten: str
    caller_num: str


@dataclass(frozen=True, slots=True)
class CallerIdChanged(ChannelEvent):
    """``NewCallerid``: the channel's caller number changed."""

    caller_num: str


@dataclass(frozen=True, slots=True)
class ChannelAnswered(ChannelEvent):
    """``Newstate`` to ``Up``: the channel was answered (by a person, a phone or the dialplan)."""


@dataclass(frozen=True, slots=True)
class DialBegan(ChannelEvent):
    """``DialBegin`` with a calling channel (``uniqueid``); the Originate's own dial has none and is dropped.

    ``context``/``exten``/``caller_num`` are the calling channel's at that moment (the dialled number of an
    outbound call is its ``exten``); ``dest_caller_num`` is the callee's caller id (a SIP phone's extension).
    """

    dest_uniqueid: str
    dest_channel: str
    dial_string: str
    context: str
    exten: str
    caller_num: str
    dest_caller_num: str
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class DialEnded(ChannelEvent):
    """``DialEnd``: ``status`` is Asterisk's DialStatus (ANSWER, NOANSWER, BUSY, CANCEL, CHANUNAVAIL...)."""

    dest_uniqueid: str
    dest_channel: str
    status: str


@dataclass(frozen=True, slots=True)
class AgentConnected(ChannelEvent):
    """Queue ``AgentConnect``: the member ``member`` (its interface) took the caller."""

    dest_uniqueid: str
    dest_channel: str
    queue: str
    member: str


@dataclass(frozen=True, slots=True)
class QueueCallerJoined(ChannelEvent):
    """``QueueCallerJoin``: the caller entered ``queue``."""

    queue: str


@dataclass(frozen=True, slots=True)
class QueueCallerAbandoned(ChannelEvent):
    """``QueueCallerAbandon``: the caller hung up while waiting in ``queue``."""

    queue: str


@dataclass(frozen=True, slots=True)
class RouteVariableSet(ChannelEvent):
    """``VarSet`` of one of our ``ROUTE_*`` variables (set by the FastAGI answer)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class RecordingStarted(ChannelEvent):
    """``VarSet MIXMONITOR_FILENAME``: MixMonitor records the call into ``filename``."""

    filename: str


@dataclass(frozen=True, slots=True)
class HungUp(ChannelEvent):
    """``Hangup``: the channel is gone (``cause`` is the Q.850 cause, 0 when unknown)."""

    cause: int


@dataclass(frozen=True, slots=True)
class BlindTransferred(ChannelEvent):
    """``BlindTransfer`` (a DTMF transfer or a SIP REFER): the transferer (``uniqueid``) handed its peer
    ``transferee_uniqueid`` to ``context``/``exten`` and left the conversation."""

    transferee_uniqueid: str
    context: str
    exten: str


@dataclass(frozen=True, slots=True)
class AttendedTransferred(ChannelEvent):
    """``AttendedTransfer``: the transferer's first channel (``uniqueid``) left; the transferee now talks to
    the target of the consultation call (``target_*``; empty when the transfer went to an application)."""

    transferee_uniqueid: str
    target_uniqueid: str
    target_channel: str
    target_caller_num: str


@dataclass(frozen=True, slots=True)
class ChannelMovedAway(ChannelEvent):
    """The channel ``uniqueid`` left this conversation for ``to_linkedid`` (an attended transfer merged the
    consultation call into the transferee's); in this conversation it is gone from ``at`` on."""

    to_linkedid: str


@dataclass(frozen=True, slots=True)
class LiveChannel:
    """One channel of a live-channel snapshot (AMI ``CoreShowChannel``), taken after a (re)connect."""

    linkedid: str
    uniqueid: str
    channel: str
    context: str
    exten: str
    caller_num: str
    up: bool
    bridged: bool
    duration_s: float | None = None


CallEvent = (
    ChannelCreated
    | CallerIdChanged
    | ChannelAnswered
    | DialBegan
    | DialEnded
    | AgentConnected
    | QueueCallerJoined
    | QueueCallerAbandoned
    | RouteVariableSet
    | RecordingStarted
    | HungUp
    | BlindTransferred
    | AttendedTransferred
    | ChannelMovedAway
)
