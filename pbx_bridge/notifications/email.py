"""Email over SMTP (stdlib ``smtplib`` in a worker thread)."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from crm_core.services.escalation import Recipient
from crm_core.services.notification_outbox import OutgoingMessage
from pbx_bridge.notifications.channel import DeliveryError


@dataclass(frozen=True, slots=True)
class SmtpEmailChannel:
    """Sends plain-text email through one SMTP server; 4xx replies and network errors are retryable."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0
    name: str = "email"

    def address_for(self, recipient: Recipient) -> str | None:
        return recipient.email or None

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """The exact email sent for ``message``."""
        if not message.address:
            raise DeliveryError("no email address", retryable=False)
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.address
        email["Subject"] = message.subject
        # the same notification always has the same Message-ID, so mail clients fold a redelivery
        domain = self.sender.rpartition("@")[2].strip(">") or "callrouter"
        email["Message-ID"] = f"<{message.dedupe_key.replace(':', '.')}@{domain}>"
        email["X-Callrouter-Dedupe-Key"] = message.dedupe_key
        email.set_content(message.body)
        return email

    async def send(self, message: OutgoingMessage) -> str | None:
        email = self.build(message)
        await asyncio.to_thread(self._send_sync, email)
        return str(email["Message-ID"])

    def _send_sync(self, email: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc.recipients}", retryable=False) from exc
        except smtplib.SMTPResponseException as exc:
            retryable = 400 <= exc.smtp_code < 500
            raise DeliveryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable=retryable) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port} unreachable: {exc}", retryable=True) from exc
