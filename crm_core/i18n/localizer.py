"""One user's language and the company timezone: translated texts, plurals, dates and durations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time

from crm_core.i18n.catalogs import DEFAULT_LANGUAGE, supported, translations


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class Localizer:
    """Texts in ``language``; times in ``timezone`` written the way that language writes them."""

    language: str
    timezone: ZoneInfo

    @classmethod
    def of(cls, language: str | None, timezone: ZoneInfo | str) -> Localizer:
        zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        return cls(supported(language) or DEFAULT_LANGUAGE, zone)

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.language).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """The plural form the language's rule picks for ``n``; ``%(num)d`` stands for ``n``."""
        text = translations(self.language).ngettext(singular, plural, n)
        return text % {"num": n, **values}

    def date_time(self, moment: datetime) -> str:
        """Date and time in the company timezone: "24.11.2026, 13:05 MSK" / "11/24/26, 1:05 PM MSK"."""
        local = moment.astimezone(self.timezone)
        return f"{format_datetime(local, 'short', locale=self.language)} {local.strftime('%Z')}"

    def time_of_day(self, moment: datetime) -> str:
        return format_time(moment.astimezone(self.timezone), "short", locale=self.language)

    def duration(self, delta: timedelta) -> str:
        """A short "how long": under a minute, minutes, hours and minutes, or days and hours."""
        minutes = max(0, int(delta.total_seconds() // 60))
        days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
        if days:
            return self.gettext(
                "%(days)s %(hours)s",
                days=self.ngettext("%(num)d day", "%(num)d days", days),
                hours=self.ngettext("%(num)d hour", "%(num)d hours", hours),
            )
        if hours:
            return self.gettext(
                "%(hours)s %(minutes)s",
                hours=self.ngettext("%(num)d hour", "%(num)d hours", hours),
                minutes=self.ngettext("%(num)d minute", "%(num)d minutes", mins),
            )
        if mins:
            return self.ngettext("%(num)d minute", "%(num)d minutes", mins)
        return self.gettext("under a minute")
