"""Callback discipline over time: per week or month, the same figures the supervisor view shows per manager
(callback rate, median and p90 time to callback, escalations), from the same missed-call facts."""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crm_core.analytics.funnel import cohort_period
from crm_core.analytics.period import Period
from crm_core.services.missed_reports import MissedCallFact, discipline, missed_call_facts


class TrendStep(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class TrendPoint:
    """Missed calls created ``start`` .. ``end`` (company days, both included) and how they were handled."""

    start: date
    end: date
    missed: int
    called_back: int
    callback_rate: float | None
    median_callback_seconds: float | None
    p90_callback_seconds: float | None
    escalated: int


def trend_periods(as_of: date, step: TrendStep, count: int) -> list[Period]:
    """``count`` weeks (Monday first) or calendar months, the last one holding ``as_of`` and cut there.

    >>> [(p.start.isoformat(), p.end.isoformat()) for p in trend_periods(date(2024, 3, 6), TrendStep.WEEK, 2)]
    [('2024-02-26', '2024-03-03'), ('2024-03-04', '2024-03-06')]
    """
    if count < 1:
        raise ValueError(f"a trend needs at least one period, got {count}")
    if step is TrendStep.WEEK:
        monday = as_of - timedelta(days=as_of.weekday())
        starts = [monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]
    else:
        first = cohort_period(as_of, count).start
        starts = [first]
        while len(starts) < count:
            starts.append((starts[-1] + timedelta(days=32)).replace(day=1))
    ends = [s - timedelta(days=1) for s in starts[1:]] + [as_of]
    return [Period(s, e) for s, e in zip(starts, ends, strict=True)]


def callback_trend(
    session: Session,
    as_of: date,
    timezone: str,
    step: TrendStep,
    count: int,
    managers: Collection[int | None] | None = None,
) -> list[TrendPoint]:
    """One point per period (empty ones included); ``managers`` keeps the calls assigned to these
    managers (``None`` in it: the unassigned ones), ``None`` keeps all."""
    periods = trend_periods(as_of, step, count)
    start, _ = periods[0].bounds(timezone)
    _, end = periods[-1].bounds(timezone)
    tz = ZoneInfo(timezone)
    buckets: list[list[MissedCallFact]] = [[] for _ in periods]
    starts = [p.start for p in periods]
    for fact in missed_call_facts(session, start, end):
        if managers is not None and fact.manager_id not in managers:
            continue
        day = fact.created_at.astimezone(tz).date()
        index = max(i for i, s in enumerate(starts) if s <= day)
        buckets[index].append(fact)
    points = []
    for period, calls in zip(periods, buckets, strict=True):
        d = discipline(calls)
        points.append(
            TrendPoint(
                period.start,
                period.end,
                d.missed,
                d.called_back,
                d.callback_rate if calls else None,
                d.median_callback_seconds,
                d.p90_callback_seconds,
                d.escalated,
            )
        )
    return points
