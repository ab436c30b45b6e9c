"""Forgotten clients: nobody talked to them, called them back or shipped to them for a quarter.

A counterparty is *forgotten* on ``today`` when, within the last ``days`` calendar days (default 90,
including today, in the company timezone), it had no interaction, no answered call and no shipment. A card
created within that window is not forgotten yet. Results are grouped per personal manager (``None``:
no manager assigned), the longest-silent first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crm_core.analytics.period import Period
from crm_core.models import ClientStatus
from crm_core.repositories import analytics as queries
from crm_core.repositories.analytics import UntouchedCounterparty

DEFAULT_DAYS = 90


@dataclass(frozen=True)
class ForgottenClient:
    """A forgotten counterparty with its last touch of any kind (``None``: never touched)."""

    counterparty_id: int
    name: str
    status: ClientStatus
    manager_id: int | None
    manager_name: str | None
    last_touch: date | None


def last_touch(row: UntouchedCounterparty, timezone: str) -> date | None:
    """The most recent of the row's interaction, answered call and shipment, as a local calendar day."""
    tz = ZoneInfo(timezone)
    days = [
        moment.astimezone(tz).date()
        for moment in (row.last_interaction_at, row.last_answered_call_at)
        if moment
    ]
    if row.last_shipped_on is not None:
        days.append(row.last_shipped_on)
    return max(days, default=None)


def group_by_manager(clients: list[ForgottenClient]) -> dict[int | None, list[ForgottenClient]]:
    """Clients per manager id, each list the longest-silent (never touched) first, then by name."""
    groups: dict[int | None, list[ForgottenClient]] = {}
    for client in clients:
        groups.setdefault(client.manager_id, []).append(client)
    for members in groups.values():
        members.sort(key=lambda c: (c.last_touch is not None, c.last_touch or date.min, c.name))
    return groups


def forgotten_clients(
    session: Session, today: date, timezone: str, days: int = DEFAULT_DAYS
) -> dict[int | None, list[ForgottenClient]]:
    """The forgotten clients on ``today`` per manager id (see the module docstring)."""
    window = Period.last_days(days, today)
    since, until = window.bounds(timezone)
    rows = queries.untouched_counterparties(session, since, window.start, until, today)
    clients = [
        ForgottenClient(
            r.counterparty_id, r.name, r.status, r.manager_id, r.manager_name, last_touch(r, timezone)
        )
        for r in rows
    ]
    return group_by_manager(clients)
