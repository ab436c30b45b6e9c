"""Message catalogs: gettext ``.po`` files read by Babel when first asked for, no compile step.

The ``.po`` files live beside this module (``locale/<lang>/LC_MESSAGES/messages.po``); ``make messages``
re-extracts the texts from the code and templates and updates them. Fuzzy entries are not used.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
SUPPORTED_LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(language: str) -> Catalog:
    """The parsed ``.po`` catalog of a supported language."""
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {SUPPORTED_LANGUAGES}")
    with po_path(language).open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


@cache
def translations(language: str) -> Translations:
    """gettext translations for ``language``, compiled in memory from its ``.po`` file."""
    buffer = BytesIO()
    write_mo(buffer, catalog(language))
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def supported(language: str | None) -> str | None:
    """``language`` reduced to a supported one ("ru-RU" -> "ru"), or None.

    >>> supported("ru-RU"), supported("EN"), supported("de"), supported(None)
    ('ru', 'en', None, None)
    """
    if not language:
        return None
    try:
        code = Locale.parse(language.replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    return code if code in SUPPORTED_LANGUAGES else None


def negotiate(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The best supported language for an ``Accept-Language`` header, else ``default``.

    >>> negotiate("en-US,en;q=0.9,ru;q=0.8"), negotiate("de-DE, ru;q=0.5"), negotiate("fr", "en")
    ('en', 'ru', 'en')
    """
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = supported(tag.strip())
        if language and quality > 0:
            weighted.append((-quality, index, language))
    return min(weighted)[2] if weighted else default
