"""Fold Twilio's webhook parameters into a :class:`~routing.call_state.CallState`, pure.

The Twilio call is one inbound channel (``CallSid`` is its Uniqueid and the Linkedid) in the
``twilio-inbound`` context; each chain step rung is a dial from it with Asterisk's ``DIALSTATUS`` words, so
:func:`routing.missed_policy.classify` and :func:`~routing.missed_policy.finished_call` turn it into the same
:class:`~crm_core.services.call_records.FinishedCall` an AMI call becomes.
"""

from __future__ import annotations

from routing.call_legs import end_legs
from routing.call_model import mark_answered
from routing.call_state import CallState, ChannelInfo, DialInfo
from routing.decision import RouteDecision

TWILIO_CONTEXT = "twilio-inbound"
# Twilio's DialCallStatus -> Asterisk's DIALSTATUS
DIAL_STATUS = {
    "completed": "ANSWER",
    "answered": "ANSWER",
    "busy": "BUSY",
    "no-answer": "NOANSWER",
    "failed": "CHANUNAVAIL",
    "canceled": "CANCEL",
}


def start_call(call_sid: str, caller: str | None, dialed: str | None, at: float) -> CallState:
    """A call Twilio just delivered to the voice webhook.

    >>> call = start_call("CA1", "+79001112233", "+74950001122", 100.0)
    >>> call.origin.context, call.caller_num, call.origin.exten
    ('twilio-inbound', '+79001112233', '+74950001122')
    """
    origin = ChannelInfo(
        uniqueid=call_sid,
        channel=f"Twilio/{call_sid}",
        context=TWILIO_CONTEXT,
        exten=dialed or "",
        caller_num=caller or "",
        created_at=at,
    )
    return CallState(linkedid=call_sid, started_at=at, last_event_at=at, channels={call_sid: origin})


def set_route(call: CallState, decision: RouteDecision) -> None:
    """Keep the routing answer as the dialplan's ``ROUTE_*`` variables (read by the missed-call verdict)."""
    call.route_vars.update(
        ROUTE_KIND=decision.kind.value,
        ROUTE_MANAGER_ID="" if decision.manager_id is None else str(decision.manager_id),
        ROUTE_COUNTERPARTY_ID="" if decision.counterparty_id is None else str(decision.counterparty_id),
        ROUTE_AFTER_HOURS="1" if decision.after_hours else "0",
    )


def _dial_id(call: CallState, index: int) -> str:
    return f"{call.linkedid}:{index}"


def dial_began(call: CallState, index: int, target: str, at: float) -> None:
    """Step ``index`` (dial string ``target``) starts ringing; a repeated call changes nothing."""
    dest = _dial_id(call, index)
    if any(d.dest_uniqueid == dest for d in call.dials):
        return
    origin = call.channels[call.linkedid]
    tech, _, rest = target.partition("/")
    call.dials.append(
        DialInfo(
            dest_uniqueid=dest,
            target=target,
            dial_string=rest or tech,
            source_uniqueid=call.linkedid,
            began_at=at,
            context=TWILIO_CONTEXT,
            exten=origin.exten,
        )
    )
    call.last_event_at = max(call.last_event_at, at)


def dial_ended(call: CallState, index: int, dial_call_status: str, talk_s: float, at: float) -> str | None:
    """Step ``index`` ended with Twilio's ``DialCallStatus``; returns its ``DIALSTATUS`` (None: not a step
    that rang). A replayed callback changes nothing and gets the status already recorded.

    >>> call = start_call("CA1", "+79001112233", "+74950001122", 100.0)
    >>> dial_began(call, 0, "PJSIP/101", 100.5)
    >>> dial_ended(call, 0, "completed", 30, 140.0), call.answered_at, call.answered_target
    ('ANSWER', 110.0, 'PJSIP/101')
    >>> [(leg.target, leg.answered_at, leg.ended_at) for leg in call.legs]
    [('PJSIP/101', 110.0, 140.0)]
    >>> dial_ended(call, 0, "no-answer", 0, 150.0), call.dials[0].ended_at
    ('ANSWER', 140.0)
    """
    dial = next((d for d in call.dials if d.dest_uniqueid == _dial_id(call, index)), None)
    if dial is None or dial.status is not None:
        return None if dial is None else dial.status
    dial.status = DIAL_STATUS.get(dial_call_status.strip().lower(), "NOANSWER")
    dial.ended_at = at
    if dial.status == "ANSWER":
        mark_answered(call, dial, max(at - max(talk_s, 0.0), dial.began_at))
        end_legs(call.legs, dial.dest_uniqueid, at)
    call.last_event_at = max(call.last_event_at, at)
    return dial.status


def hung_up(call: CallState, at: float) -> None:
    """The call is over (the status callback): a step still ringing was abandoned by the caller.

    >>> call = start_call("CA1", "+79001112233", "+74950001122", 100.0)
    >>> dial_began(call, 0, "PJSIP/101", 100.5)
    >>> hung_up(call, 104.0)
    >>> call.dials[0].status, call.ended_at, call.live
    ('CANCEL', 104.0, False)
    """
    end = max(at, call.started_at)
    for dial in call.dials:
        if dial.status is None:
            dial.status, dial.ended_at = "CANCEL", end
    for channel in call.channels.values():
        if channel.hungup_at is None:
            channel.hungup_at = end
    call.ended_at = end
    call.last_event_at = max(call.last_event_at, end)
