"""The one interface every notification channel implements, and its error."""

from __future__ import annotations

from typing import Protocol

from crm_core.services.escalation import Recipient
from crm_core.services.notification_outbox import OutgoingMessage


class DeliveryError(Exception):
    """A send failed; ``retryable`` says whether trying again later can help (a 5xx, a closed port)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class NotificationChannel(Protocol):
    """Sends one rendered message to one address; raises :class:`DeliveryError` on failure."""

    @property
    def name(self) -> str:
        """The channel name used in the policy (``email``, ``sms``, ``whatsapp``, ``webhook``, ``inapp``)."""
        ...

    def address_for(self, recipient: Recipient) -> str | None:
        """Where ``recipient`` is reached on this channel, or ``None`` when they cannot be."""
        ...

    async def send(self, message: OutgoingMessage) -> str | None:
        """Deliver ``message``; returns the provider's message id when there is one."""
        ...
