"""The routing change feed: one row per change that can alter where a call goes.

Rows are written by database triggers (migration ``0007``) on the tables routing reads, so every writer is
covered: the API, ``callrouter import``, the CLI, another instance, a sync job, raw SQL. Each routing
service polls the feed and forgets exactly what changed (see ``crm_core.repositories.routing_changes``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime

CONFIG_CHANGE = None
"""``e164`` of a change to the routing configuration (settings, targets, holidays, managers, lists)."""
EVERYTHING = "*"
"""``e164`` of a change that may affect any number (a manager removed)."""


class RoutingChange(Base):
    """A changed number (``e164``), a configuration change (NULL) or a change to everything (``*``).

    ``txid`` is the writing transaction's id on PostgreSQL (``pg_current_xact_id``), so a reader can tell
    which rows may still appear (transactions in progress); SQLite commits one writer at a time, so its
    ``id`` order is commit order and ``txid`` stays NULL.
    """

    __tablename__ = "routing_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    e164: Mapped[str | None] = mapped_column(String(20))
    txid: Mapped[int | None] = mapped_column(BigInteger, index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now(), index=True)
