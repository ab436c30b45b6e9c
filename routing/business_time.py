"""Business time: a delay that only counts while the company is open (nights, days off, holidays skipped).

Hours use the ``Manager.working_hours`` JSON form: ISO weekday (``"1"`` = Monday) to
``[["HH:MM", "HH:MM"], ...]`` in the company timezone, ``"24:00"`` ending a day; an absent weekday is a
day off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_HOURS: dict[str, list[list[str]]] = {str(d): [["09:00", "18:00"]] for d in range(1, 6)}
_SEARCH_DAYS = 800


def _minutes(text: Any) -> int:
    if not (isinstance(text, str) and len(text) == 5 and text[2] == ":" and text.replace(":", "").isdigit()):
        raise ValueError(f"expected HH:MM, got {text!r}")
    hours, minutes = int(text[:2]), int(text[3:])
    if minutes > 59 or hours * 60 + minutes > 24 * 60:
        raise ValueError(f"not a time of day: {text!r}")
    return hours * 60 + minutes


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Weekly open intervals (minutes after local midnight, index 0 = Monday) and holidays, in ``tz``."""

    tz: ZoneInfo
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date]

    @classmethod
    def build(
        cls,
        timezone: str,
        hours: Mapping[str, Any] | None = None,
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """A calendar from the JSON form of ``hours`` (Mon-Fri 09:00-18:00 when omitted).

        >>> BusinessCalendar.build("UTC", {"1": [["09:00", "13:00"]]}).week[0]
        ((540, 780),)
        >>> BusinessCalendar.build("UTC", {"9": []})
        Traceback (most recent call last):
        ...
        ValueError: weekday must be "1".."7", got '9'
        """
        raw = DEFAULT_HOURS if hours is None else hours
        week: list[tuple[tuple[int, int], ...]] = [() for _ in range(7)]
        for key, pairs in raw.items():
            if key not in {"1", "2", "3", "4", "5", "6", "7"}:
                raise ValueError(f'weekday must be "1".."7", got {key!r}')
            intervals = []
            for pair in pairs:
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise ValueError(f"weekday {key}: expected [start, end], got {pair!r}")
                start, end = _minutes(pair[0]), _minutes(pair[1])
                if end <= start:
                    raise ValueError(f"weekday {key}: interval {pair!r} ends before it starts")
                intervals.append((start, end))
            week[int(key) - 1] = tuple(sorted(intervals))
        return cls(ZoneInfo(timezone), tuple(week), frozenset(holidays))

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open intervals as UTC datetimes (none on a holiday)."""
        if day in self.holidays:
            return []
        midnight = datetime.combine(day, time(0), self.tz)
        out = []
        for start, end in self.week[day.isoweekday() - 1]:
            out.append((self._at(midnight, start), self._at(midnight, end)))
        return out

    def _at(self, midnight: datetime, minutes: int) -> datetime:
        day = midnight.date() + timedelta(days=minutes // (24 * 60))
        minutes %= 24 * 60
        local = datetime.combine(day, time(minutes // 60, minutes % 60), self.tz)
        return local.astimezone(UTC)


def add_business_time(start: datetime, delta: timedelta, calendar: BusinessCalendar) -> datetime:
    """The UTC moment when ``delta`` of open time has passed since ``start``.

    A zero delta outside business hours gives the next opening.

    >>> cal = BusinessCalendar.build("UTC")
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
