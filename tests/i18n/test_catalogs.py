"""The catalogs cover every text the code and templates show, in Russian, with matching placeholders."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from crm_core.i18n import SUPPORTED_LANGUAGES, Localizer, catalog, negotiate

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2"), ("**/static/js/**.js", "javascript")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _extracted() -> dict[str | tuple[str, ...], str]:
    found: dict[str | tuple[str, ...], str] = {}
    for package in ("callrouter", "crm_core", "pbx_bridge"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, METHODS, keywords=KEYWORDS
        ):
            found[message] = f"{package}/{filename}:{lineno}"
    return found


EXTRACTED = _extracted()


def test_texts_are_found_in_code_templates_and_scripts() -> None:
    places = set(EXTRACTED.values())
    assert any("templates/workspace.html" in p for p in places)
    assert any("static/js/" in p for p in places)
    assert any("notifications/templates.py" in p for p in places)
    assert len(EXTRACTED) > 100


def test_every_text_has_a_russian_translation() -> None:
    ru = catalog("ru")
    missing = []
    for message, where in EXTRACTED.items():
        key = message[0] if isinstance(message, tuple) else message
        entry = ru.get(key)
        strings = () if entry is None else entry.string
        strings = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(f"{where}: {key!r}")
    assert missing == [], "run `make messages` and translate:\n" + "\n".join(missing)


def test_russian_plurals_have_three_forms_and_keep_placeholders() -> None:
    for message in catalog("ru"):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(message.id, tuple):
            assert len(strings) == 3, message.id
        wanted = set(PLACEHOLDER.findall(source[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, (message.id, text)


@pytest.mark.parametrize(
    ("n", "russian"),
    [(1, "1 звонок"), (2, "2 звонка"), (5, "5 звонков"), (11, "11 звонков"), (21, "21 звонок")],
)
def test_plural_forms_follow_the_russian_rule(n: int, russian: str) -> None:
    l10n = Localizer.of("ru", "Europe/Moscow")
    assert l10n.ngettext("%(num)d call", "%(num)d calls", n) == russian
    english = Localizer.of("en", "Europe/Moscow").ngettext("%(num)d call", "%(num)d calls", n)
    assert english == (f"{n} call" if n == 1 else f"{n} calls")


def test_dates_are_in_the_company_timezone_in_the_users_format() -> None:
    moment = datetime(2026, 11, 30, 13, 11, tzinfo=UTC)
    assert Localizer.of("ru", "Europe/Moscow").date_time(moment) == "30.11.2026, 16:11 MSK"
    assert Localizer.of("en", "Europe/Moscow").date_time(moment) == "11/30/26, 4:11\u202fPM MSK"
    assert Localizer.of("ru", "Asia/Yekaterinburg").time_of_day(moment) == "18:11"


def test_durations_and_unknown_languages() -> None:
    ru = Localizer.of("ru", "Europe/Moscow")
    assert ru.duration(timedelta(days=2, hours=3)) == "2 дня 3 часа"
    assert ru.duration(timedelta(seconds=30)) == "меньше минуты"
    assert Localizer.of("de", "Europe/Moscow").language == "ru"
    assert SUPPORTED_LANGUAGES == ("ru", "en")


def test_accept_language_picks_the_best_supported_language() -> None:
    assert negotiate("ru-RU,ru;q=0.9,en-US;q=0.8") == "ru"
    assert negotiate("en-GB,en;q=0.9") == "en"
    assert negotiate("de-DE,en;q=0.3,ru;q=0.2") == "en"
    assert negotiate("zh-CN", default="en") == "en"
    assert negotiate("en;q=0, ru") == "ru"
    assert negotiate("garbage;;q=x") == "ru"
