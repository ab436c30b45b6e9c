"""When a sync run is the full one: the first, then the first after the nightly time of day."""

from __future__ import annotations

from datetime import datetime, time, timedelta


def full_due(now: datetime, at: time | None, last_full: datetime | None) -> bool:
    """Whether the run starting ``now`` (aware, in the company timezone) must be a full run.

    It must when no full run completed yet, or none started since the latest ``at`` before ``now``;
    ``at`` None means no nightly full run (only the first one and those asked for).

    >>> from zoneinfo import ZoneInfo
    >>> msk = ZoneInfo("Europe/Moscow")
    >>> def at(day: int, hour: int, minute: int = 0) -> datetime:
    ...     return datetime(2026, 11, day, hour, minute, tzinfo=msk)
    >>> full_due(at(30, 9), time(2, 0), None)
    True
    >>> full_due(at(30, 9), time(2, 0), at(30, 2, 5))
    False
    >>> full_due(at(30, 1), time(2, 0), at(29, 2, 5))
    False
    >>> full_due(at(30, 2, 1), time(2, 0), at(29, 2, 5))
    True
    >>> full_due(at(30, 2, 1), None, at(1, 0))
    False
    """
    if last_full is None:
        return True
    if at is None:
        return False
    slot = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if slot > now:
        slot -= timedelta(days=1)
    return last_full < slot
