"""The reporting period shared by every analytic: whole calendar days in the company timezone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    """Calendar days ``start`` .. ``end``, both included.

    >>> p = Period(date(2024, 1, 15), date(2024, 3, 1))
    >>> p.months()
    [(2024, 1), (2024, 2), (2024, 3)]
    >>> p.days
    47
    >>> Period(date(2024, 2, 1), date(2024, 1, 1))
    Traceback (most recent call last):
    ...
    ValueError: period start 2024-02-01 is after its end 2024-01-01
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"period start {self.start} is after its end {self.end}")

    @property
    def days(self) -> int:
        """Number of calendar days in the period."""
        return (self.end - self.start).days + 1

    def months(self) -> list[tuple[int, int]]:
        """Every ``(year, month)`` the period touches, in order."""
        months = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """The half-open instant range ``[start 00:00, day after end 00:00)`` in ``timezone``.

        >>> Period(date(2024, 1, 1), date(2024, 1, 31)).bounds("Europe/Moscow")[0].isoformat()
        '2024-01-01T00:00:00+03:00'
        """
        tz = ZoneInfo(timezone)
        return (
            datetime.combine(self.start, time(), tz),
            datetime.combine(self.end + timedelta(days=1), time(), tz),
        )

    @classmethod
    def last_days(cls, days: int, today: date) -> Period:
        """The ``days`` calendar days ending with ``today``.

        >>> Period.last_days(90, date(2024, 3, 31))
        Period(start=datetime.date(2024, 1, 2), end=datetime.date(2024, 3, 31))
        """
        if days < 1:
            raise ValueError(f"a period needs at least one day, got {days}")
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """The calendar month ``year``-``month``.

        >>> Period.month(2024, 2)
        Period(start=datetime.date(2024, 2, 1), end=datetime.date(2024, 2, 29))
        """
        start = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(start, following - timedelta(days=1))

    @classmethod
    def whole_months_before(cls, today: date, months: int) -> Period:
        """The ``months`` whole calendar months before ``today``'s month.

        >>> Period.whole_months_before(date(2024, 3, 15), 12)
        Period(start=datetime.date(2023, 3, 1), end=datetime.date(2024, 2, 29))
        """
        if months < 1:
            raise ValueError(f"a period needs at least one month, got {months}")
        end = today.replace(day=1) - timedelta(days=1)
        start = end.replace(day=1)
        for _ in range(months - 1):
            start = (start - timedelta(days=1)).replace(day=1)
        return cls(start, end)


def day_in(instant: datetime, timezone: str) -> date:
    """The calendar day ``instant`` (timezone-aware) falls on in ``timezone``.

    >>> from datetime import UTC
    >>> day_in(datetime(2024, 6, 29, 21, 0, tzinfo=UTC), "Europe/Moscow")
    datetime.date(2024, 6, 30)
    """
    if instant.tzinfo is None:
        raise ValueError("a naive datetime has no day in a timezone")
    return instant.astimezone(ZoneInfo(timezone)).date()
