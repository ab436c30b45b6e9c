"""In-app notifications: stored rows the web workspace and the API list."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from crm_core.services.escalation import Recipient
from crm_core.services.notification_outbox import OutgoingMessage, store_inapp


class InAppChannel:
    """Stores the notification once per dedupe key (a repeated send is a no-op)."""

    name = "inapp"

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def address_for(self, recipient: Recipient) -> str | None:
        return f"manager:{recipient.id}"

    async def send(self, message: OutgoingMessage) -> str | None:
        await asyncio.to_thread(self._store, message)
        return None

    def _store(self, message: OutgoingMessage) -> None:
        with self._sessions.begin() as session:
            store_inapp(session, message)
