"""TwiML documents for the voice webhooks, rendered with the official ``VoiceResponse``.

A routing chain becomes one ``<Dial>`` per step: each ``<Dial>`` rings one step for its timeout and names
the step callback as its ``action``, which answers with the next step's ``<Dial>`` (or ends the call), the
way the dialplan loops over ``ROUTE_CHAIN``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial, VoiceResponse

from pbx_bridge.twilio_voice.dial_targets import Noun, map_target
from routing.decision import RouteStep

# Twilio rings a <Dial> for 5..600 seconds; a step outside is clamped into that range.
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 5, 600
# <Reject reason>: Twilio knows "busy" and "rejected" (the dialplan's congestion / hangup treatments).
_REJECT_REASONS = {"busy": "busy"}


@dataclass(frozen=True, slots=True)
class PlannedDial:
    """The next dialable step of a chain: its index, the step and its Twilio nouns."""

    index: int
    step: RouteStep
    nouns: tuple[Noun, ...]


def next_dial(
    steps: Sequence[RouteStep], start: int, sip_domain: str | None
) -> tuple[PlannedDial | None, list[str]]:
    """The first step at or after ``start`` Twilio can ring, and the dial strings skipped on the way.

    >>> plan, skipped = next_dial([RouteStep("Local/x@y", 10), RouteStep("PJSIP/7", 20)], 0, "d")
    >>> plan.index, plan.nouns[0].address, skipped
    (1, 'sip:7@d', ['Local/x@y'])
    """
    skipped: list[str] = []
    for index in range(max(start, 0), len(steps)):
        nouns, unmapped = map_target(steps[index].target, sip_domain)
        skipped.extend(unmapped)
        if nouns:
            return PlannedDial(index, steps[index], nouns), skipped
    return None, skipped


def dial(plan: PlannedDial, action_url: str | None) -> str:
    """A document ringing ``plan``'s nouns; ``action_url`` (the step callback) gets the result.

    >>> plan = PlannedDial(0, RouteStep("PJSIP/7", 20), (Noun("sip", "sip:7@d"),))
    >>> dial(plan, "https://h/twilio/voice/step?i=0")  # doctest: +NORMALIZE_WHITESPACE
    '<?xml version="1.0" encoding="UTF-8"?><Response><Dial action="https://h/twilio/voice/step?i=0"
    method="POST" timeout="20"><Sip>sip:7@d</Sip></Dial></Response>'
    """
    timeout = min(max(plan.step.timeout_s, MIN_TIMEOUT_S), MAX_TIMEOUT_S)
    verb = Dial(action=action_url, method="POST", timeout=timeout) if action_url else Dial(timeout=timeout)
    for noun in plan.nouns:
        if noun.kind == "sip":
            verb.sip(noun.address)
        else:
            verb.number(noun.address)
    response = VoiceResponse()
    response.append(verb)
    return str(response.to_xml())


def reject(treatment: str | None) -> str:
    """A blacklisted caller: ``<Reject>`` (not answered, not billed); busy unless configured otherwise.

    >>> reject("busy")
    '<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy" /></Response>'
    """
    response = VoiceResponse()
    response.reject(reason=_REJECT_REASONS.get(treatment or "busy", "rejected"))
    return str(response.to_xml())


def hang_up() -> str:
    """End the call (the chain is done, or the call was answered and is over)."""
    response = VoiceResponse()
    response.hangup()
    return str(response.to_xml())


def empty() -> str:
    """The answer to a status callback: nothing more to do."""
    return str(VoiceResponse().to_xml())
