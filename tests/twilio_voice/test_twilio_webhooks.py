"""Twilio voice webhooks end to end: signed requests -> TwiML -> call records, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callrouter.wiring import Container
from crm_core.models.calls import CallRecord, MissedCall
from crm_core.models.enums import CallDisposition, MissedReason, MissedStatus
from pbx_bridge.twilio_voice.voice import TwilioVoice

from .conftest import DID, SIP_DOMAIN, TwilioClient, World


def call_form(caller: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "CallSid": sid or f"CA{uuid.uuid4().hex}",
        "AccountSid": "AC00000000000000000000000000000000",
        "From": caller,
        "To": DID,
        "Direction": "inbound",
        "CallStatus": "ringing",
        **extra,
    }


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.text)


def dialed(doc: ET.Element) -> tuple[list[str], str | None, str | None]:
    """(SIP URIs / numbers, timeout, action) of the document's <Dial>."""
    dial = doc.find("Dial")
    assert dial is not None, ET.tostring(doc)
    return [n.text or "" for n in dial], dial.get("timeout"), dial.get("action")


def sip(user: str) -> str:
    return f"sip:{user}@{SIP_DOMAIN}"


def records(sessions: sessionmaker[Session], sid: str) -> list[CallRecord]:
    with sessions() as s:
        stmt = select(CallRecord).where(CallRecord.pbx_system == "twilio", CallRecord.linkedid == sid)
        return list(s.scalars(stmt))


def missed_of(sessions: sessionmaker[Session], record_id: int) -> list[MissedCall]:
    with sessions() as s:
        return list(s.scalars(select(MissedCall).where(MissedCall.call_record_id == record_id)))


def metric(container: Container, endpoint: str, result: str) -> float:
    labels = {"endpoint": endpoint, "result": result}
    return container.metrics.registry.get_sample_value("callrouter_twilio_webhooks_total", labels) or 0.0


def test_valid_signature_dials_the_manager_chain(twilio: TwilioClient, world: World) -> None:
    doc = twiml(twilio.post("/twilio/voice", call_form(world.acme_phone)))
    targets, timeout, action = dialed(doc)
    assert targets == [sip("101")]
    assert timeout == "20"
    assert action == "https://callrouter.example.com/twilio/voice/step?i=0"


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl"])
def test_missing_or_bad_signature_is_refused(
    twilio: TwilioClient, world: World, container: Container, signature: str | None
) -> None:
    for path in ("/twilio/voice", "/twilio/voice/step?i=0", "/twilio/voice/status"):
        response = twilio.post(path, call_form(world.acme_phone), signature=signature)
        assert response.status_code == 403
        assert response.json()["error"] == "invalid-twilio-signature"
    assert metric(container, "voice", "bad_signature") == 1
    assert metric(container, "status", "bad_signature") == 1


def test_signature_over_another_url_or_changed_form_is_refused(twilio: TwilioClient, world: World) -> None:
    form = call_form(world.acme_phone)
    signed_for_step = twilio.validator.compute_signature(
        "https://callrouter.example.com/twilio/voice/step?i=0", form
    )
    assert twilio.post("/twilio/voice/step?i=1", form, signature=signed_for_step).status_code == 403
    good = twilio.validator.compute_signature("https://callrouter.example.com/twilio/voice", form)
    tampered = {**form, "From": world.stranger}
    assert twilio.post("/twilio/voice", tampered, signature=good).status_code == 403


def test_blacklisted_caller_is_rejected_and_recorded_not_missed(
    twilio: TwilioClient, world: World, sessions: sessionmaker[Session]
) -> None:
    form = call_form(world.blacklisted)
    doc = twiml(twilio.post("/twilio/voice", form))
    assert [(child.tag, child.get("reason")) for child in doc] == [("Reject", "busy")]
    twiml(twilio.post("/twilio/voice/status", {**form, "CallStatus": "busy", "CallDuration": "0"}))
    [record] = records(sessions, form["CallSid"])
    assert record.disposition is CallDisposition.REJECTED
    assert record.route_kind == "blacklist"
    assert missed_of(sessions, record.id) == []


def test_step_no_answer_rings_the_next_step(twilio: TwilioClient, world: World) -> None:
    form = call_form(world.acme_phone)
    first, _, _ = dialed(twiml(twilio.post("/twilio/voice", form)))
    step = {**form, "CallStatus": "in-progress", "DialCallStatus": "no-answer", "DialCallDuration": "0"}
    second, timeout, action = dialed(twiml(twilio.post("/twilio/voice/step?i=0", step)))
    assert first == [sip("101")]
    assert (second, timeout) == ([sip("102")], "25")  # Ann's controller Bob, his own ring timeout
    assert action == "https://callrouter.example.com/twilio/voice/step?i=1"


def test_chain_exhausted_then_status_opens_one_missed_call(
    twilio: TwilioClient, world: World, sessions: sessionmaker[Session]
) -> None:
    form = call_form(world.acme_phone)
    twiml(twilio.post("/twilio/voice", form))
    rung = [sip("101")]
    index = 0
    while True:
        step = {**form, "DialCallStatus": "no-answer", "DialCallDuration": "0"}
        doc = twiml(twilio.post(f"/twilio/voice/step?i={index}", step))
        if doc.find("Dial") is None:
            assert [child.tag for child in doc] == ["Hangup"]
            break
        targets, _, action = dialed(doc)
        rung += targets
        index = int((action or "").rsplit("=", 1)[1])
    assert rung == [sip("101"), sip("102"), sip("100")]  # manager, controller, reception
    twiml(twilio.post("/twilio/voice/status", {**form, "CallStatus": "completed", "CallDuration": "75"}))
    [record] = records(sessions, form["CallSid"])
    assert record.disposition is CallDisposition.NO_ANSWER
    assert record.route_kind == "manager"
    assert [r["status"] for r in record.rung_targets or []] == ["NOANSWER"] * len(rung)
    assert [r["manager_id"] for r in record.rung_targets or []] == [world.ann, world.bob, None]
    [missed] = missed_of(sessions, record.id)
    assert missed.reason is MissedReason.CHAIN_NO_ANSWER
    assert missed.assigned_manager_id == world.ann
    assert missed.status is MissedStatus.OPEN


def test_status_no_answer_without_progress_still_opens_a_missed_call(
    twilio: TwilioClient, world: World, sessions: sessionmaker[Session]
) -> None:
    form = call_form(world.acme_phone, CallStatus="no-answer", CallDuration="12")
    twiml(twilio.post("/twilio/voice/status", form))
    [record] = records(sessions, form["CallSid"])
    assert record.disposition is CallDisposition.ABANDONED
    [missed] = missed_of(sessions, record.id)
    assert missed.reason is MissedReason.ABANDONED
    assert missed.assigned_manager_id == world.ann  # the client's personal manager


def test_answered_call_is_recorded_answered_and_closes_earlier_missed_call(
    twilio: TwilioClient, world: World, sessions: sessionmaker[Session]
) -> None:
    earlier = call_form(world.acme_phone, CallStatus="no-answer", CallDuration="20")
    twiml(twilio.post("/twilio/voice/status", earlier))
    form = call_form(world.acme_phone)
    twiml(twilio.post("/twilio/voice", form))
    step = {**form, "CallStatus": "in-progress", "DialCallStatus": "completed", "DialCallDuration": "30"}
    doc = twiml(twilio.post("/twilio/voice/step?i=0", step))
    assert [child.tag for child in doc] == ["Hangup"]
    twiml(twilio.post("/twilio/voice/status", {**form, "CallStatus": "completed", "CallDuration": "41"}))
    [record] = records(sessions, form["CallSid"])
    assert record.disposition is CallDisposition.ANSWERED
    assert record.answered_by_manager_id == world.ann
    assert record.answered_by_target == "PJSIP/101"
    assert missed_of(sessions, record.id) == []
    [first] = records(sessions, earlier["CallSid"])
    [closed] = missed_of(sessions, first.id)
    assert closed.status is MissedStatus.CALLED_BACK
    assert closed.callback_call_record_id == record.id


def test_repeated_missed_call_is_merged(
    twilio: TwilioClient, world: World, sessions: sessionmaker[Session]
) -> None:
    first = call_form(world.stranger, CallStatus="no-answer", CallDuration="15")
    second = call_form(world.stranger, CallStatus="no-answer", CallDuration="15")
    for form in (first, second):
        twiml(twilio.post("/twilio/voice/status", form))
    [record] = records(sessions, first["CallSid"])
    [missed] = missed_of(sessions, record.id)
    assert missed.attempts == 2
    assert record.unregistered_number


def test_replayed_status_callback_keeps_one_record(
    twilio: TwilioClient, world: World, sessions: sessionmaker[Session], container: Container
) -> None:
    form = call_form(world.acme_phone)
    twiml(twilio.post("/twilio/voice", form))
    status = {**form, "CallStatus": "completed", "CallDuration": "9"}
    for _ in range(3):
        twiml(twilio.post("/twilio/voice/status", status))
    [record] = records(sessions, form["CallSid"])
    assert len(missed_of(sessions, record.id)) == 1
    recorded = container.metrics.registry.get_sample_value(
        "callrouter_calls_recorded_total", {"disposition": record.disposition.value}
    )
    assert recorded == 1


def test_internal_error_answers_the_default_route(
    twilio: TwilioClient, world: World, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: TwilioVoice, form: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(TwilioVoice, "incoming", broken)
    targets, _, action = dialed(twiml(twilio.post("/twilio/voice", call_form(world.acme_phone))))
    assert targets == [sip("reception")]  # CALLROUTER_DEFAULT_ROUTE=PJSIP/reception
    assert action is None
    assert metric(container, "voice", "error") == 1
    step = call_form(world.acme_phone, DialCallStatus="no-answer")
    targets, _, _ = dialed(twiml(twilio.post("/twilio/voice/step?i=zz", step)))
    assert targets == [sip("reception")]
