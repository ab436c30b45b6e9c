"""Client status from purchases: the pure rule and the daily bulk recompute.

A *purchase* is a sale document with a positive total (see :mod:`crm_core.repositories.analytics`); two
lines of one document are one purchase, a zero total or a return is none. ``today`` is the reference day:
nothing dated after it is read, so a recompute ``as_of`` a past day gives the status of that day.

======================  ===================  ==========================================================
status                  purchases up to day  last purchase (``age`` = today - its day)
======================  ===================  ==========================================================
``potential``           0                    -
``one_time_fresh``      exactly 1            ``age <= fresh_days`` (default 90)
``one_time_old``        exactly 1            ``age > fresh_days``
``regular``             2 or more            ``age <= departed_days`` (default 180)
``departed``            2 or more            ``age > departed_days``
======================  ===================  ==========================================================

The regular window and the departed window share one boundary (``departed_days``), so every client has
exactly one status. The thresholds are stored in the database (:mod:`crm_core.services.analytics_settings`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from crm_core.models import ClientStatus
from crm_core.repositories.analytics_status import StatusWindows, recompute_in_database

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` once the moves are written."""


@dataclass(frozen=True)
class StatusThresholds:
    """Day windows of the status rule (see the module table)."""

    fresh_days: int = 90
    departed_days: int = 180

    def __post_init__(self) -> None:
        if self.fresh_days < 0 or self.departed_days < 0:
            raise ValueError("status thresholds are day counts and cannot be negative")


def classify(
    shipment_count: int,
    last_shipped_on: date | None,
    today: date,
    thresholds: StatusThresholds = StatusThresholds(),
) -> ClientStatus:
    """The status of a client with ``shipment_count`` shipments, the latest on ``last_shipped_on``.

    >>> classify(0, None, date(2024, 6, 30))
    <ClientStatus.POTENTIAL: 'potential'>
    >>> classify(1, date(2024, 6, 1), date(2024, 6, 30))
    <ClientStatus.ONE_TIME_FRESH: 'one_time_fresh'>
    >>> classify(5, date(2023, 6, 1), date(2024, 6, 30))
    <ClientStatus.DEPARTED: 'departed'>
    """
    if shipment_count < 0:
        raise ValueError(f"shipment count cannot be negative, got {shipment_count}")
    if shipment_count == 0:
        return ClientStatus.POTENTIAL
    if last_shipped_on is None:
        raise ValueError(f"{shipment_count} shipments but no last shipment date")
    age = (today - last_shipped_on).days
    if shipment_count == 1:
        return ClientStatus.ONE_TIME_FRESH if age <= thresholds.fresh_days else ClientStatus.ONE_TIME_OLD
    return ClientStatus.REGULAR if age <= thresholds.departed_days else ClientStatus.DEPARTED


@dataclass(frozen=True)
class RecomputeResult:
    """What a recompute did: how many counterparties it saw and which status moves it made."""

    total: int
    transitions: Counter[tuple[ClientStatus, ClientStatus]] = field(default_factory=Counter)
    pinned: int = 0
    """Counterparties left alone because a person pinned their status (see ``status_pinned``)."""

    @property
    def changed(self) -> int:
        """Counterparties whose status changed."""
        return sum(self.transitions.values())


def recompute_statuses(
    session: Session,
    today: date,
    now: datetime,
    thresholds: StatusThresholds = StatusThresholds(),
    *,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> RecomputeResult:
    """Recompute every counterparty's status from its purchases up to ``today`` (the daily job); the caller
    commits.

    The rule of :func:`classify` runs inside the database as a few set-based statements
    (:mod:`crm_core.repositories.analytics_status`): only the counterparties whose status changes are
    written, stamped ``updated_at = now``, each move kept in the status history (cause ``recompute``, day
    ``today``). A status a person pinned is left alone while the pin holds (no end day, or the end day is
    ``today`` or later). ``dry_run`` counts the moves and writes nothing. ``progress(done, total)`` is
    called once, when the moves are written.
    """
    windows = StatusWindows(thresholds.fresh_days, thresholds.departed_days)
    outcome = recompute_in_database(session, today, now, windows, dry_run=dry_run)
    if progress is not None:
        changed = sum(outcome.transitions.values())
        progress(changed, changed)
    return RecomputeResult(total=outcome.total, transitions=outcome.transitions, pinned=outcome.pinned)
