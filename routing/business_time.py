"""Business time: a delay that only counts while the company is open (nights, days off, holidays skipped).

It uses the routing calendar (:mod:`routing.calendar`): weekly hours in the ``Manager.working_hours`` JSON
form in the company timezone, ``None`` meaning always open, and whole-day holidays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from routing.calendar import WeeklyHours

_ALWAYS_OPEN = ((0, 24 * 60),)
_SEARCH_DAYS = 800


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Weekly hours (``None``: always open) and holidays in the company timezone ``tz``."""

    tz: ZoneInfo
    hours: WeeklyHours | None
    holidays: frozenset[date]

    @classmethod
    def build(
        cls, timezone: str, hours: Mapping[str, Any] | None = None, holidays: Iterable[date] = ()
    ) -> BusinessCalendar:
        """A calendar from the JSON form of ``hours``; a malformed value raises ``ValueError``.

        >>> BusinessCalendar.build("UTC", {"1": [["09:00", "13:00"]]}).open_intervals(date(2026, 11, 23))
        [(datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.timezone.utc), \
datetime.datetime(2026, 11, 23, 13, 0, tzinfo=datetime.timezone.utc))]
        """
        return cls(
            ZoneInfo(timezone), None if hours is None else WeeklyHours.parse(hours), frozenset(holidays)
        )

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open intervals as UTC datetimes (none on a holiday)."""
        if day in self.holidays:
            return []
        week = _ALWAYS_OPEN if self.hours is None else self.hours.days[day.isoweekday() - 1]
        return [(self._at(day, start), self._at(day, end)) for start, end in week]

    def _at(self, day: date, minutes: int) -> datetime:
        day += timedelta(days=minutes // (24 * 60))
        minutes %= 24 * 60
        return datetime.combine(day, time(minutes // 60, minutes % 60), self.tz).astimezone(UTC)


def add_business_time(start: datetime, delta: timedelta, calendar: BusinessCalendar) -> datetime:
    """The UTC moment when ``delta`` of open time has passed since ``start``.

    A zero delta outside business hours gives the next opening.

    >>> cal = BusinessCalendar.build("UTC", {str(d): [["09:00", "18:00"]] for d in range(1, 6)})
    >>> add_business_time(datetime(2026, 11, 27, 17, 0, tzinfo=UTC), timedelta(hours=2), cal)  # Friday 17:00
    datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone.utc)
    """
    if start.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    if delta < timedelta(0):
        raise ValueError(f"negative delay: {delta}")
    remaining = delta
    day = start.astimezone(calendar.tz).date()
    for _ in range(_SEARCH_DAYS):
        for opens, closes in calendar.open_intervals(day):
            begin = max(opens, start)
            if closes <= begin:
                continue
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        day += timedelta(days=1)
    raise ValueError(f"the calendar has no open hours within {_SEARCH_DAYS} days of {start.isoformat()}")
