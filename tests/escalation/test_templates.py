"""Templates per channel carry the client's name, number, time, how long ago and the three links,
in the recipient's language (Russian by default) with the language's plural forms."""

# ruff: noqa: RUF001  (Russian texts are intended)

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_core.services.escalation import MissedCallFacts, Recipient
from pbx_bridge.notifications.templates import TemplateContext, render

MISSED_AT = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)
FACTS = MissedCallFacts(41, "+79161234567", MISSED_AT, 7, "OOO Romashka", 3, attempts=3)
MANAGER = Recipient(3, "Ivan Petrov", "ivan@example.com", "+79000000003")
ENGLISH = dataclasses.replace(MANAGER, language="en")


def ctx(
    step: int, later: timedelta, facts: MissedCallFacts = FACTS, who: Recipient = ENGLISH
) -> TemplateContext:
    return TemplateContext(
        facts, who, step, MISSED_AT + later, "https://crm.example.com/", ZoneInfo("Europe/Moscow")
    )


def test_email_step_zero_says_who_when_how_long_ago_and_links() -> None:
    email = render("email", ctx(0, timedelta(minutes=2)))
    assert email.subject == "Missed call: OOO Romashka +79161234567"
    assert email.body == (
        "Missed call from OOO Romashka +79161234567 (3 calls) at 11/24/26, 1:05\u202fPM MSK "
        "(2 minutes ago).\n\n"
        "Open in the workspace: https://crm.example.com/workspace#/client/7\n"
        "Call back: tel:+79161234567\n"
        "Write in WhatsApp: https://wa.me/79161234567\n"
    )


def test_russian_is_the_default_with_russian_plurals_and_dates() -> None:
    email = render("email", ctx(0, timedelta(minutes=2), who=MANAGER))
    assert email.subject == "Пропущенный звонок: OOO Romashka +79161234567"
    assert email.body.startswith(
        "Пропущенный звонок: OOO Romashka +79161234567 (3 звонка) в 24.11.2026, 13:05 MSK (2 минуты назад)."
    )
    assert "Открыть в рабочем месте: https://crm.example.com/workspace#/client/7" in email.body
    five_calls = dataclasses.replace(FACTS, attempts=5)
    five = render("sms", ctx(1, timedelta(hours=5, minutes=21), five_calls, MANAGER))
    assert "(5 звонков)" in five.body and "5 часов 21 минуту назад" not in five.body
    assert five.subject == "Не перезвонили 5 часов 21 минута: OOO Romashka +79161234567"
    one_day = render("inapp", ctx(1, timedelta(days=1, hours=1), who=MANAGER))
    assert "1 день 1 час назад" in one_day.body


def test_escalation_says_nobody_called_back() -> None:
    whatsapp = render("whatsapp", ctx(1, timedelta(hours=24, minutes=3)))
    assert whatsapp.subject == "Not called back for 1 day 0 hours: OOO Romashka +79161234567"
    assert whatsapp.body.startswith(
        "OOO Romashka +79161234567 called (3 calls) at 11/24/26, 1:05\u202fPM MSK (1 day 0 hours ago): "
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
    assert payload["language"] == "en"


def test_unknown_caller_links_to_the_missed_call_in_the_workspace() -> None:
    unknown = MissedCallFacts(42, "+74951112233", MISSED_AT, None, None, None, attempts=1)
    inapp = render("inapp", ctx(0, timedelta(seconds=10), unknown))
    assert inapp.subject == "Missed call: Unknown caller +74951112233"
    assert inapp.body.endswith("(under a minute ago).\nhttps://crm.example.com/workspace#/missed/42")
    russian = render("inapp", ctx(0, timedelta(seconds=10), unknown, MANAGER))
    assert russian.subject == "Пропущенный звонок: Неизвестный абонент +74951112233"
