"""Forgotten clients: nobody called, met or wrote to them for more than ``days`` days.

``days_silent`` is the number of calendar days (company timezone) from the last contact to the reference
day. A client is *forgotten* when ``days_silent > days`` (default 90): a contact 90 days ago keeps it, 91
days ago it is forgotten, like the fresh window of the client status. Contact is an answered call either
way, a logged call, a meeting or a message (:mod:`crm_core.repositories.contacts`); a note or a shipment
is not. Without any contact the card counts from the imported last contact day, else it is *never
contacted* and counts from its creation day. Archived cards are left out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crm_core.analytics.period import Period
from crm_core.repositories.contacts import ContactTrail, silent_counterparties
from crm_core.repositories.scoped import Viewer

DEFAULT_DAYS = 90


class ContactKind(enum.StrEnum):
    """How a client was last contacted."""

    CALL = "call"
    MEETING = "meeting"
    MESSAGE = "message"
    IMPORTED = "imported"


@dataclass(frozen=True)
class ForgottenClient:
    """A forgotten counterparty; ``last_contact_at`` ``None`` means never contacted."""

    counterparty_id: int
    name: str
    manager_id: int | None
    manager_name: str | None
    last_contact_at: datetime | None
    last_contact_kind: ContactKind | None
    days_silent: int

    @property
    def never_contacted(self) -> bool:
        return self.last_contact_at is None


def last_contact(trail: ContactTrail, tz: ZoneInfo) -> tuple[datetime, ContactKind] | None:
    """The latest contact of the trail; an imported day counts from its midnight in ``tz`` and loses to a
    real contact on the same day.

    >>> from datetime import UTC
    >>> t = ContactTrail(1, "A", None, None, datetime(2024, 1, 1, tzinfo=UTC), date(2024, 3, 5),
    ...                  datetime(2024, 3, 5, 7, tzinfo=UTC), None, None, datetime(2024, 2, 1, tzinfo=UTC))
    >>> at, kind = last_contact(t, ZoneInfo("Europe/Moscow"))
    >>> at.isoformat(), kind.value
    ('2024-03-05T07:00:00+00:00', 'call')
    """
    found: list[tuple[datetime, int, ContactKind]] = [
        (moment, 1, kind)
        for moment, kind in (
            (trail.last_call_at, ContactKind.CALL),
            (trail.last_logged_call_at, ContactKind.CALL),
            (trail.last_meeting_at, ContactKind.MEETING),
            (trail.last_message_at, ContactKind.MESSAGE),
        )
        if moment is not None
    ]
    if trail.imported_on is not None:
        found.append((datetime.combine(trail.imported_on, time(), tz), 0, ContactKind.IMPORTED))
    if not found:
        return None
    moment, _, kind = max(found, key=lambda item: (item[0].astimezone(tz).date(), item[1], item[0]))
    return moment, kind


def forgotten_client(trail: ContactTrail, today: date, tz: ZoneInfo) -> ForgottenClient:
    """The trail as a forgotten-list line on ``today`` (days counted in ``tz``)."""
    contact = last_contact(trail, tz)
    since = contact[0] if contact else trail.created_at
    return ForgottenClient(
        counterparty_id=trail.counterparty_id,
        name=trail.name,
        manager_id=trail.manager_id,
        manager_name=trail.manager_name,
        last_contact_at=contact[0] if contact else None,
        last_contact_kind=contact[1] if contact else None,
        days_silent=(today - since.astimezone(tz).date()).days,
    )


def forgotten_clients(
    session: Session,
    viewer: Viewer,
    today: date,
    timezone: str,
    days: int = DEFAULT_DAYS,
    manager_id: int | None = None,
) -> list[ForgottenClient]:
    """The viewer's forgotten clients on ``today``: the never contacted first, then the longest silent."""
    tz = ZoneInfo(timezone)
    window = Period(today - timedelta(days=days), today)
    since, until = window.bounds(timezone)
    trails = silent_counterparties(session, viewer, since, until, (window.start, today))
    clients = [
        forgotten_client(t, today, tz) for t in trails if manager_id is None or t.manager_id == manager_id
    ]
    clients.sort(key=lambda c: (not c.never_contacted, -c.days_silent, c.name, c.counterparty_id))
    return clients


def group_by_manager(clients: list[ForgottenClient]) -> dict[int | None, list[ForgottenClient]]:
    """Clients per manager id (``None``: no manager), each list in the order given."""
    groups: dict[int | None, list[ForgottenClient]] = {}
    for client in clients:
        groups.setdefault(client.manager_id, []).append(client)
    return groups
