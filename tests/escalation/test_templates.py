"""Templates per channel carry the client's name, number, time, how long ago and the three links."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_core.services.escalation import MissedCallFacts, Recipient
from pbx_bridge.notifications.templates import TemplateContext, render

MISSED_AT = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)
FACTS = MissedCallFacts(41, "+79161234567", MISSED_AT, 7, "OOO Romashka", 3, attempts=3)
MANAGER = Recipient(3, "Ivan Petrov", "ivan@example.com", "+79000000003")


def ctx(step: int, later: timedelta, facts: MissedCallFacts = FACTS) -> TemplateContext:
    return TemplateContext(
        facts, MANAGER, step, MISSED_AT + later, "https://crm.example.com/", ZoneInfo("Europe/Moscow")
    )


def test_email_step_zero_says_who_when_how_long_ago_and_links() -> None:
    email = render("email", ctx(0, timedelta(minutes=2)))
    assert email.subject == "Missed call: OOO Romashka +79161234567"
    assert email.body == (
        "Missed call from OOO Romashka +79161234567 (3 calls) at 2026-11-24 13:05 MSK (2 min ago).\n\n"
        "CRM card: https://crm.example.com/counterparties/7\n"
        "Call back: tel:+79161234567\n"
        "Write in WhatsApp: https://wa.me/79161234567\n"
    )


def test_escalation_says_nobody_called_back() -> None:
    whatsapp = render("whatsapp", ctx(1, timedelta(hours=24, minutes=3)))
    assert whatsapp.subject == "Not called back for 1 d 0 h: OOO Romashka +79161234567"
    assert whatsapp.body.startswith(
        "OOO Romashka +79161234567 called (3 calls) at 2026-11-24 13:05 MSK (1 d 0 h ago): "
        "nobody answered and nobody has called back."
    )
    assert "https://wa.me/79161234567" in whatsapp.body


def test_sms_is_short_and_webhook_is_json() -> None:
    sms = render("sms", ctx(0, timedelta(minutes=1)))
    assert sms.body.endswith("Call back: tel:+79161234567") and len(sms.body) < 160
    payload = json.loads(render("webhook", ctx(1, timedelta(hours=25))).body)
    assert payload["client"] == {"name": "OOO Romashka", "number": "+79161234567", "counterparty_id": 7}
    assert payload["age_seconds"] == 25 * 3600
    assert payload["links"]["whatsapp"] == "https://wa.me/79161234567"
    assert payload["recipient"] == {"manager_id": 3, "name": "Ivan Petrov"}


def test_unknown_caller_links_to_the_missed_call() -> None:
    unknown = MissedCallFacts(42, "+74951112233", MISSED_AT, None, None, None, attempts=1)
    inapp = render("inapp", ctx(0, timedelta(seconds=10), unknown))
    assert inapp.subject == "Missed call: Unknown caller +74951112233"
    assert inapp.body.endswith("(under 1 min ago).\nhttps://crm.example.com/missed-calls/42")
