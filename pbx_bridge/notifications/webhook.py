"""A generic webhook: the JSON body POSTed with an HMAC-SHA256 signature over timestamp and body."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from crm_core.services.escalation import Recipient
from crm_core.services.notification_outbox import OutgoingMessage
from pbx_bridge.notifications.channel import DeliveryError

SIGNATURE_HEADER = "X-Callrouter-Signature"
TIMESTAMP_HEADER = "X-Callrouter-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``timestamp + "." + body``).

    >>> sign("s", "1700000000", b"{}")
    'sha256=e9232c9945da8456c2dea6b39da7786c07b00bca7a64d5dd1283674713a7b72a'
    """
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance_s: int = 300
) -> bool:
    """True when ``signature`` is ours and ``timestamp`` is within ``tolerance_s`` of ``now`` (for receivers).

    >>> verify("s", "1700000000", b"{}", sign("s", "1700000000", b"{}"), now=1700000060)
    True
    >>> verify("s", "1700000000", b"{ }", sign("s", "1700000000", b"{}"), now=1700000060)
    False
    """
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True, slots=True)
class WebhookChannel:
    """POSTs every notification to one URL; 5xx, 429 and network errors are retryable."""

    url: str
    secret: str
    timeout_s: float = 10.0
    name: str = "webhook"

    def address_for(self, recipient: Recipient) -> str | None:
        return self.url

    async def send(self, message: OutgoingMessage) -> str | None:
        await asyncio.to_thread(self._post, message)
        return None

    def _post(self, message: OutgoingMessage) -> None:
        body = message.body.encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                IDEMPOTENCY_HEADER: message.dedupe_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s):
                return
        except urllib.error.HTTPError as exc:
            retryable = exc.code >= 500 or exc.code == 429
            raise DeliveryError(f"webhook answered {exc.code}", retryable=retryable) from exc
        except OSError as exc:
            raise DeliveryError(f"webhook unreachable: {exc}", retryable=True) from exc
