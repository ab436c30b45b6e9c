"""What is known about one conversation (Linkedid): its channels, dials and answered legs, pure data.

:mod:`routing.call_state` folds events into it; :mod:`routing.call_resync` fills what a live-channel
snapshot tells after a gap. Fields ending in ``_guess`` say a time was guessed (see ``approximate``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from routing.call_legs import LegInfo

_CHANNEL_SUFFIX = re.compile(r"-[0-9a-fA-F]{8}(?:;[12])?$")
UNKNOWN_CALLER = frozenset({"", "<unknown>"})


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
    created_guess: bool = False
    up_guess: bool = False
    hungup_guess: bool = False
    bridge_guess: bool = False  # a snapshot showed it bridged to a party no event told us about

    @property
    def guessed(self) -> bool:
        """Something about this channel was only inferred from a snapshot (its events were not seen)."""
        return self.created_guess or self.up_guess or self.hungup_guess or self.bridge_guess


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
    seeded: bool = False


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
    legs: list[LegInfo] = field(default_factory=list)
    transferred: bool = False
    started_guess: bool = False
    answered_guess: bool = False
    end_guess: bool = False
    gap: bool = False
    spanned_gap: bool = False
    late_clock: bool = False

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

    @property
    def approximate(self) -> bool:
        """True when a stored time may be wrong: the call was in progress across a gap in the event stream
        (Asterisk does not replay what it sent meanwhile, and a party can even come and go unseen), a time
        was only inferred from a snapshot, or an event without Asterisk's ``Timestamp`` came after a gap."""
        legs = any(leg.answered_guess or leg.ended_guess for leg in self.legs)
        channels = any(c.guessed for c in self.channels.values())
        guesses = self.started_guess or self.answered_guess or self.end_guess or legs or channels
        return self.spanned_gap or self.late_clock or guesses

    # -- serialization -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` restores an equal state.

        What :func:`dataclasses.asdict` returns, built directly (every nested value is a flat dataclass of
        scalars): call tracking writes it for each changed call of every batch.

        >>> from dataclasses import asdict
        >>> call = CallState("1.1", 1.0, 2.0, route_vars={"k": "v"})
        >>> call.channels["1.1"] = ChannelInfo("1.1", "PJSIP/t-1", "in", "s", "+7900", 1.0)
        >>> call.dials.append(DialInfo("1.2", "PJSIP/m1", "m1", "1.1", 1.5))
        >>> call.to_dict() == asdict(call) and CallState.from_dict(call.to_dict()) == call
        True
        """
        data = dict(self.__dict__)
        data["channels"] = {uid: dict(chan.__dict__) for uid, chan in self.channels.items()}
        data["dials"] = [dict(dial.__dict__) for dial in self.dials]
        data["legs"] = [dict(leg.__dict__) for leg in self.legs]
        data["route_vars"] = dict(self.route_vars)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallState:
        raw = dict(data)
        raw["channels"] = {k: ChannelInfo(**v) for k, v in raw.get("channels", {}).items()}
        raw["dials"] = [DialInfo(**d) for d in raw.get("dials", [])]
        raw["legs"] = [LegInfo(**leg) for leg in raw.get("legs", [])]
        return cls(**raw)


def mark_answered(call: CallState, dial: DialInfo, at: float, *, guess: bool = False) -> bool:
    """Record ``dial``'s answer as a leg (and as the call's answer when it is the first); a real answer
    replaces a guessed one. Returns True when something changed."""
    leg = next((leg for leg in call.legs if leg.dest_uniqueid == dial.dest_uniqueid), None)
    changed = False
    if leg is None:
        leg = LegInfo(
            dial.dest_uniqueid, dial.target, dial.source_uniqueid, at,
            dial.dial_string, dial.dest_caller_num, dial.queue, answered_guess=guess,
        )  # fmt: skip
        call.legs.append(leg)
        changed = True
    elif leg.answered_guess and not guess:
        leg.answered_at, leg.answered_guess = at, False
        changed = True
    if not guess:  # a real answer explains the bridge a snapshot showed
        for uid in (leg.dest_uniqueid, leg.source_uniqueid):
            if uid in call.channels:
                call.channels[uid].bridge_guess = False
    # a real answer replaces a guessed one for the same target, or one it proves came later
    real_first = call.answered_guess and not guess
    if call.answered_at is None or (
        real_first and (dial.target == call.answered_target or at < call.answered_at)
    ):
        call.answered_at, call.answered_guess = at, guess
        call.answered_target = dial.target
        call.answered_dial_string = dial.dial_string
        call.answered_dest_caller_num = dial.dest_caller_num
        changed = True
    return changed
