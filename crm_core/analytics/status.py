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
from crm_core.repositories import analytics as queries

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each batch of counterparties is written."""


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
    batch_size: int = 2000,
    progress: ProgressCallback | None = None,
) -> RecomputeResult:
    """Recompute every counterparty's status from its purchases up to ``today`` (the daily job); the caller
    commits.

    One aggregate query reads (purchase count, last date) for all counterparties; only the rows whose
    status changes are written, by bulk ``UPDATE ... WHERE id IN (...)`` of ``batch_size`` ids per status,
    stamping ``updated_at = now``, each move kept in the status history (cause ``recompute``, day
    ``today``). A status a person pinned is left alone while the pin holds (no end day, or the end day is
    ``today`` or later).
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be positive, got {batch_size}")
    summaries = queries.shipment_summaries(session, today)
    moves: dict[ClientStatus, list[int]] = {}
    transitions: Counter[tuple[ClientStatus, ClientStatus]] = Counter()
    history: list[tuple[int, ClientStatus, ClientStatus]] = []
    pinned = 0
    for row in summaries:
        if row.pinned and (row.pinned_until is None or row.pinned_until >= today):
            pinned += 1
            continue
        new = classify(row.shipment_count, row.last_shipped_on, today, thresholds)
        if new != row.status:
            moves.setdefault(new, []).append(row.counterparty_id)
            transitions[(row.status, new)] += 1
            history.append((row.counterparty_id, row.status, new))
    total_changes = sum(len(ids) for ids in moves.values())
    done = 0
    for status, ids in moves.items():
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            queries.set_statuses(session, chunk, status, now)
            done += len(chunk)
            if progress is not None:
                progress(done, total_changes)
    for start in range(0, len(history), batch_size):
        queries.add_recompute_changes(session, history[start : start + batch_size], today, now)
    return RecomputeResult(total=len(summaries), transitions=transitions, pinned=pinned)
