"""The Twilio front pops the caller's card on the phone each step rings, and its missed calls go live."""

from __future__ import annotations

import time

from callrouter.wiring import Container
from crm_core.events import DomainEvent

from .conftest import TwilioClient, World
from .test_twilio_webhooks import call_form, twiml


def _wait_for(container: Container, name: str, count: int = 1, timeout: float = 5.0) -> list[DomainEvent]:
    deadline = time.monotonic() + timeout
    while True:
        found = [d.event for d in container.events.hub.recent() if d.event.name == name]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_each_step_pops_the_card_on_the_rung_managers_page(
    twilio: TwilioClient, world: World, container: Container
) -> None:
    form = call_form(world.acme_phone)
    twiml(twilio.post("/twilio/voice", form))
    first = _wait_for(container, "ringing")
    assert len(first) == 1
    assert first[0].audience.manager_ids == {world.ann}
    data = first[0].data
    assert (data["linkedid"], data["caller"], data["manager_id"]) == (
        form["CallSid"],
        world.acme_phone,
        world.ann,
    )
    assert data["card"]["client"]["name"] == "Acme"
    step = {**form, "DialCallStatus": "no-answer", "DialCallDuration": "0"}
    twiml(twilio.post("/twilio/voice/step?i=0", step))
    both = _wait_for(container, "ringing", count=2)
    assert [e.data["manager_id"] for e in both] == [world.ann, world.bob]


def test_unknown_caller_pops_without_a_card(twilio: TwilioClient, world: World, container: Container) -> None:
    twiml(twilio.post("/twilio/voice", call_form(world.stranger)))
    twiml(twilio.post("/twilio/voice/step?i=0", {**call_form(world.stranger), "DialCallStatus": "no-answer"}))
    assert _wait_for(container, "ringing", timeout=1.0) == []  # reception is nobody's personal phone


def test_missed_call_from_the_status_callback_is_announced(
    twilio: TwilioClient, world: World, container: Container
) -> None:
    form = call_form(world.acme_phone)
    twiml(twilio.post("/twilio/voice", form))
    status = {**form, "CallStatus": "no-answer", "CallDuration": "0"}
    assert twilio.post("/twilio/voice/status", status).status_code == 200
    opened = _wait_for(container, "missed-call")
    assert [e.data["action"] for e in opened] == ["opened"]
    item = opened[0].data["missed_call"]
    assert (item["caller_number"], item["assigned_manager_id"], item["counterparty_name"]) == (
        world.acme_phone,
        world.ann,
        "Acme",
    )
    assert opened[0].audience.manager_ids >= {world.ann, world.bob}
