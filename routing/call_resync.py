"""Apply a live-channel snapshot (AMI ``CoreShowChannel``) to a call after a gap in the event stream.

Asterisk's snapshot tells which channels are alive, their state, whether they are bridged and how long they
have existed (``Duration``, whole seconds); it tells no answer time. What it implies is recorded as a guess.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.call_events import LiveChannel
from routing.call_legs import end_legs, open_leg_with
from routing.call_model import CallState, ChannelInfo, DialInfo, channel_target, mark_answered


def vanished(call: CallState, chan: ChannelInfo) -> None:
    """``chan`` is not in the snapshot: it hung up in the gap, at the call's last event at the earliest."""
    chan.hungup_at, chan.cause, chan.hungup_guess = call.last_event_at, 0, True
    call.complete = False
    end_legs(call.legs, chan.uniqueid, call.last_event_at, guess=True)


def seed_start(linkedid: str, chans: Sequence[LiveChannel], at: float) -> float:
    """When a call first seen in a snapshot started: its oldest channel's age, else the Linkedid's epoch."""
    ages = [c.duration_s for c in chans if c.duration_s is not None]
    if ages:
        return at - max(ages)
    head = linkedid.partition(".")[0]
    return float(head) if head.isdigit() else at


def seed(call: CallState, chans: Sequence[LiveChannel], at: float) -> None:
    """Add the snapshot's channels to ``call`` and flag what they show that no event told: a channel created,
    answered or bridged in the gap; an unseen answer opens a leg whose answer time is a guess."""
    origin_ctx: str | None = None
    for live in chans:
        if live.uniqueid not in call.channels:
            created = at - live.duration_s if live.duration_s is not None else call.started_at
            call.channels[live.uniqueid] = ChannelInfo(
                live.uniqueid, live.channel, live.context, live.exten, live.caller_num, created,
                created_guess=True,
            )  # fmt: skip
        known = call.channels[live.uniqueid]
        if live.up and known.up_at is None:
            known.up_at, known.up_guess = at, True  # answered in the gap, when we cannot tell
        if live.uniqueid == call.linkedid:
            origin_ctx = live.context
    origin = call.origin
    origin_ctx = origin.context if origin is not None else origin_ctx
    _answer_unseen(call, chans, at, origin_ctx)
    in_legs = {uid for leg in call.legs for uid in (leg.dest_uniqueid, leg.source_uniqueid)}
    for live in chans:
        if live.bridged and live.uniqueid not in in_legs:
            call.channels[live.uniqueid].bridge_guess = True


def _answer_unseen(call: CallState, chans: Sequence[LiveChannel], at: float, origin_ctx: str | None) -> None:
    """A bridged, answered callee nobody is known to talk to: an answer we did not see, at ``at`` at the
    latest (never before the call's last known event)."""
    at = max(at, call.last_event_at)
    if open_leg_with(call.legs, {c.uniqueid for c in chans}):
        return
    callers = {d.source_uniqueid for d in call.dials} | {leg.source_uniqueid for leg in call.legs}
    for live in chans:
        if not (live.up and live.bridged) or live.uniqueid == call.linkedid or live.uniqueid in callers:
            continue
        known = call.channels[live.uniqueid]
        if (known.context or live.context) == origin_ctx:
            continue
        if any(leg.dest_uniqueid == live.uniqueid for leg in call.legs):
            continue
        dial = next((d for d in call.dials if d.dest_uniqueid == live.uniqueid), None)
        if dial is None:
            dial = DialInfo(live.uniqueid, channel_target(live.channel), "", "", at)
            call.dials.append(dial)
        dial.status, dial.ended_at, dial.seeded = dial.status or "ANSWER", dial.ended_at or at, True
        mark_answered(call, dial, at, guess=True)
        call.complete = False
        return
