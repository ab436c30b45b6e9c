"""Each channel against a real local server: SMTP (aiosmtpd), Twilio's REST API, a signed webhook."""

from __future__ import annotations

import json
import time
from base64 import b64decode
from collections.abc import Iterator
from email import message_from_bytes
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from crm_core.services.escalation import Recipient
from crm_core.services.notification_outbox import OutgoingMessage
from pbx_bridge.notifications.channel import DeliveryError
from pbx_bridge.notifications.email import SmtpEmailChannel
from pbx_bridge.notifications.twilio_messages import TwilioMessagingChannel, make_twilio_client
from pbx_bridge.notifications.webhook import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    verify,
)
from tests.escalation.http_recorder import Script, http_recorder

SID = "AC" + "0" * 32


def message(
    channel: str, address: str | None, body: str = "Missed call from OOO Romashka"
) -> OutgoingMessage:
    return OutgoingMessage(
        1, "mc1:s0:r2:" + channel, 1, 2, channel, address, "Missed call: OOO Romashka", body, 1
    )


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(unused_tcp_port: int) -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = unused_tcp_port
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


async def test_real_smtp_server_receives_the_exact_email(smtp_server: tuple[int, Inbox]) -> None:
    port, inbox = smtp_server
    channel = SmtpEmailChannel("127.0.0.1", port, "crm@example.com")

    message_id = await channel.send(message("email", "manager@example.com", "line 1\nline 2\n"))

    [envelope] = inbox.envelopes
    assert envelope.mail_from == "crm@example.com"
    assert envelope.rcpt_tos == ["manager@example.com"]
    email = message_from_bytes(envelope.original_content or b"")
    assert email["Subject"] == "Missed call: OOO Romashka"
    assert email["To"] == "manager@example.com"
    assert email["X-Callrouter-Dedupe-Key"] == "mc1:s0:r2:email"
    assert email["Message-ID"] == message_id == "<mc1.s0.r2.email@example.com>"  # stable across redeliveries
    assert email.get_payload(decode=True) == b"line 1\r\nline 2\r\n"  # SMTP line endings


async def test_dead_smtp_server_is_a_retryable_error(unused_tcp_port: int) -> None:
    channel = SmtpEmailChannel("127.0.0.1", unused_tcp_port, "crm@example.com", timeout_s=2)
    with pytest.raises(DeliveryError, match="unreachable") as info:
        await channel.send(message("email", "manager@example.com"))
    assert info.value.retryable


@pytest.mark.parametrize(
    ("whatsapp", "to", "sender"),
    [
        (False, "+79161234567", "+15005550006"),
        (True, "whatsapp:+79161234567", "whatsapp:+15005550006"),
    ],
)
async def test_twilio_receives_the_exact_form_fields(whatsapp: bool, to: str, sender: str) -> None:
    script = Script()
    with http_recorder(script) as base_url:
        client = make_twilio_client(SID, "secret-token", api_base_url=base_url)
        channel = TwilioMessagingChannel(client, "+15005550006", whatsapp=whatsapp)
        address = channel.address_for(Recipient(2, "Manager", None, "+79161234567"))
        sid = await channel.send(message(channel.name, address, "Missed call. Call back: tel:+79161234567"))

    [request] = script.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert parse_qs(request.body.decode()) == {
        "To": [to],
        "From": [sender],
        "Body": ["Missed call. Call back: tel:+79161234567"],
    }
    assert b64decode(request.headers["Authorization"].split()[1]) == f"{SID}:secret-token".encode()
    assert sid == "SM" + "1".zfill(32)


async def test_twilio_5xx_is_retryable_and_4xx_is_not() -> None:
    script = Script(statuses=[500, 400])
    with http_recorder(script) as base_url:
        channel = TwilioMessagingChannel(make_twilio_client(SID, "t", api_base_url=base_url), "+15005550006")
        with pytest.raises(DeliveryError, match="Twilio 500") as server_error:
            await channel.send(message("sms", "+79161234567"))
        with pytest.raises(DeliveryError, match="Twilio 400") as bad_request:
            await channel.send(message("sms", "+79161234567"))
    assert server_error.value.retryable
    assert not bad_request.value.retryable


async def test_webhook_signature_verifies() -> None:
    script = Script(statuses=[200])
    body = json.dumps({"event": "missed_call.notification", "missed_call_id": 1})
    with http_recorder(script) as base_url:
        channel = WebhookChannel(base_url + "/hooks/crm", "webhook-secret")
        await channel.send(message("webhook", channel.url, body))

    [request] = script.requests
    assert request.path == "/hooks/crm"
    assert request.body == body.encode()
    assert request.headers[IDEMPOTENCY_HEADER] == "mc1:s0:r2:webhook"
    timestamp, signature = request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER]
    assert verify("webhook-secret", timestamp, request.body, signature, now=time.time())
    assert not verify("other-secret", timestamp, request.body, signature, now=time.time())
    assert not verify("webhook-secret", timestamp, request.body + b" ", signature, now=time.time())
    assert not verify("webhook-secret", timestamp, request.body, signature, now=time.time() + 3600)


async def test_webhook_5xx_is_retryable() -> None:
    with http_recorder(Script(statuses=[503])) as base_url:
        channel = WebhookChannel(base_url, "s")
        with pytest.raises(DeliveryError, match="503") as info:
            await channel.send(message("webhook", base_url))
    assert info.value.retryable
