"""Business hours, working hours and holidays: pure functions over local (company timezone) time.

Hours are written as in ``Manager.working_hours``: ISO weekday (``"1"`` = Monday) to a list of
``["HH:MM", "HH:MM"]`` intervals; ``"24:00"`` ends a day. A weekday that is absent is a day off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

Interval = tuple[int, int]
"""Start and end of an open interval, in minutes after local midnight (end exclusive)."""


def _minutes(text: Any) -> int:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise ValueError(f"expected HH:MM, got {text!r}")
    hours, minutes = text[:2], text[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"expected HH:MM, got {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        raise ValueError(f"not a time of day: {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Open intervals for each ISO weekday (index 0 = Monday)."""

    days: tuple[tuple[Interval, ...], ...]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> WeeklyHours:
        """Read the JSON form; a malformed value raises ``ValueError`` naming the bad part.

        >>> WeeklyHours.parse({"1": [["09:00", "18:00"]]}).days[0]
        ((540, 1080),)
        >>> WeeklyHours.parse({"8": []})
        Traceback (most recent call last):
        ...
        ValueError: weekday must be "1".."7", got '8'
        """
        if not isinstance(raw, Mapping):
            raise ValueError(f"working hours must be an object, got {type(raw).__name__}")
        days: list[tuple[Interval, ...]] = [() for _ in range(7)]
        for key, intervals in raw.items():
            if key not in {"1", "2", "3", "4", "5", "6", "7"}:
                raise ValueError(f'weekday must be "1".."7", got {key!r}')
            if not isinstance(intervals, list):
                raise ValueError(f"weekday {key}: expected a list of [start, end] pairs")
            parsed = []
            for pair in intervals:
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise ValueError(f"weekday {key}: expected [start, end], got {pair!r}")
                start, end = _minutes(pair[0]), _minutes(pair[1])
                if end <= start:
                    raise ValueError(f"weekday {key}: interval {pair!r} ends before it starts")
                parsed.append((start, end))
            days[int(key) - 1] = tuple(sorted(parsed))
        return cls(tuple(days))

    def is_open(self, local: datetime) -> bool:
        """True when ``local`` (a wall-clock time in the company timezone) is inside an interval."""
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.days[local.isoweekday() - 1])


def is_business_time(local: datetime, hours: WeeklyHours | None, holidays: frozenset[date]) -> bool:
    """True when the company is open at ``local``: not a holiday and inside business hours (if any)."""
    if local.date() in holidays:
        return False
    return hours is None or hours.is_open(local)


def local_time(at: datetime, tz: ZoneInfo) -> datetime:
    """``at`` as company wall-clock time: an aware time is converted, a naive one is taken as local.

    >>> local_time(datetime(2026, 3, 4, 6, 0, tzinfo=ZoneInfo("UTC")), ZoneInfo("Europe/Moscow")).hour
    9
    """
    return at.astimezone(tz) if at.tzinfo is not None else at.replace(tzinfo=tz)
