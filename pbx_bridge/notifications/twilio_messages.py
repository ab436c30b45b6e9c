"""Twilio SMS and WhatsApp messages through the official ``twilio`` library."""

from __future__ import annotations

import asyncio

from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from crm_core.services.escalation import Recipient
from crm_core.services.notification_outbox import OutgoingMessage
from pbx_bridge.notifications.channel import DeliveryError


def make_twilio_client(
    account_sid: str, auth_token: str, api_base_url: str | None = None, timeout_s: float = 10.0
) -> Client:
    """A Twilio REST client; ``api_base_url`` points the Api domain elsewhere (a local server in tests)."""
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_s))
    if api_base_url:
        client.api.base_url = api_base_url.rstrip("/")
    return client


class TwilioMessagingChannel:
    """SMS (``whatsapp=False``) or WhatsApp (``whatsapp=True``, ``whatsapp:`` prefixed numbers) via Twilio.

    5xx and 429 answers and network errors are retryable; other 4xx (a bad number) are not.
    """

    def __init__(self, client: Client, from_number: str, *, whatsapp: bool = False) -> None:
        self._client = client
        self._whatsapp = whatsapp
        self._from = self._address(from_number)
        self.name = "whatsapp" if whatsapp else "sms"

    def _address(self, number: str) -> str:
        return f"whatsapp:{number}" if self._whatsapp else number

    def address_for(self, recipient: Recipient) -> str | None:
        return self._address(recipient.mobile) if recipient.mobile else None

    async def send(self, message: OutgoingMessage) -> str | None:
        if not message.address:
            raise DeliveryError("no mobile number", retryable=False)
        try:
            created = await asyncio.to_thread(
                self._client.messages.create, to=message.address, from_=self._from, body=message.body
            )
        except TwilioRestException as exc:
            retryable = exc.status >= 500 or exc.status == 429
            raise DeliveryError(f"Twilio {exc.status}: {exc.msg}", retryable=retryable) from exc
        except (TwilioException, RequestException) as exc:
            raise DeliveryError(f"Twilio unreachable: {exc}", retryable=True) from exc
        return str(created.sid) if created.sid else None
