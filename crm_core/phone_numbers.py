"""Phone number normalization to E.164, shared by the importer, the API and the call path.

It lives in the innermost package because every layer needs the same answer for the same written number.
The function never raises: anything that is not a plausible number becomes a :class:`NormalizedNumber`
whose ``e164`` is ``None`` and whose ``status`` says why. An extension written after the number
(``доб. 12``, ``ext. 12``, ``x12``, ``#12``) is kept apart from the E.164 form: callers are looked up by
E.164 only, the extension is what a person dials after the number answers.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import ValidationResult

WITHHELD_WORDS = frozenset({"", "anonymous", "unknown", "restricted", "private", "withheld", "unavailable"})
MAX_EXTENSION_LENGTH = 20
EXTENSION_MARK = (
    r"(?<![^\W\d_])(?:ext(?:ension)?|x|\#|доб(?:авочный)?|доп|вн(?:утр(?:енний)?)?)\.?\s*:?\s*(?=\d)"
)
"""Where a written extension starts; phonenumbers reads the latin marks and ``доб``, the others are
rewritten to ``доб.`` before it parses."""

_MARK_AT_END = re.compile(rf"{EXTENSION_MARK}(?=\d+\s*\)?\s*$)", re.IGNORECASE)
_URI_PREFIX = re.compile(r"^(?:tel|sips?):", re.IGNORECASE)
_MAX_INPUT = 64


class NumberStatus(enum.StrEnum):
    VALID = "valid"
    POSSIBLE = "possible"
    """The right length and form, but in no range phonenumbers' metadata knows to be allocated."""
    WITHHELD = "withheld"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class NormalizedNumber:
    """The outcome of normalizing one written number."""

    raw: str
    status: NumberStatus
    e164: str | None = None
    extension: str | None = None


def _strip_uri(raw: str) -> str:
    text = _URI_PREFIX.sub("", raw.strip().strip("<>").strip())
    return text.split("@", 1)[0].split(";", 1)[0]


def _international_prefix(text: str) -> str:
    """``00`` / ``810`` / ``+`` prefixes become ``+`` so the country code is read."""
    if text.startswith("00"):
        return "+" + text[2:]
    if text.startswith("810") and len(text) > 11:
        return "+" + text[3:]
    return text


def split_extension_mark(text: str) -> tuple[str, str]:
    """(the number part, the text phonenumbers parses): an extension mark it lacks becomes ``доб.``.

    >>> split_extension_mark("8 843 123-45-67, вн. 12")
    ('8 843 123-45-67', '8 843 123-45-67 доб. 12')
    >>> split_extension_mark("+7 843 1234567 ext 12")
    ('+7 843 1234567', '+7 843 1234567 доб. 12')
    >>> split_extension_mark("+7 843 1234567")
    ('+7 843 1234567', '+7 843 1234567')
    """
    mark = _MARK_AT_END.search(text)
    if mark is None:
        return text, text
    number = text[: mark.start()].rstrip(" ,;(")
    return number, f"{number} доб. {text[mark.end() :].rstrip(' )')}"


def _is_placeholder(parsed: phonenumbers.PhoneNumber) -> bool:
    """``+7 000 000-00-00`` and the like: the right length, but one repeated digit."""
    return len(set(str(parsed.national_number))) == 1


@lru_cache(maxsize=65536)
def normalize_number(raw: str | None, region: str = "RU") -> NormalizedNumber:
    """Normalize a written number or caller id to E.164 (and an extension); never raises.

    >>> normalize_number("8 (843) 123-45-67").e164
    '+78431234567'
    >>> normalize_number("+7 843 1234567").e164
    '+78431234567'
    >>> normalize_number("88431234567").e164
    '+78431234567'
    >>> normalize_number("9001234567").e164
    '+79001234567'
    >>> normalize_number("sip:+79001234567@pbx.example.com").e164
    '+79001234567'
    >>> normalize_number("8 (843) 123-45-67 доб. 12")
    NormalizedNumber(raw='8 (843) 123-45-67 доб. 12', status=<NumberStatus.VALID: 'valid'>, \
e164='+78431234567', extension='12')
    >>> normalize_number("8 (930) 000-30-11")
    NormalizedNumber(raw='8 (930) 000-30-11', status=<NumberStatus.POSSIBLE: 'possible'>, \
e164='+79300003011', extension=None)
    >>> normalize_number("anonymous").status
    <NumberStatus.WITHHELD: 'withheld'>
    >>> normalize_number("hello").status
    <NumberStatus.INVALID: 'invalid'>
    """
    original = raw or ""
    text = _strip_uri(original)
    if text.lower() in WITHHELD_WORDS:
        return NormalizedNumber(original, NumberStatus.WITHHELD)
    if len(text) > _MAX_INPUT or not any(ch.isdigit() for ch in text):
        return NormalizedNumber(original, NumberStatus.INVALID)
    number_part, text = split_extension_mark(text)
    if re.search(r"[A-Za-z]", number_part):  # phonenumbers would read letters as keypad digits
        return NormalizedNumber(original, NumberStatus.INVALID)
    try:
        parsed = phonenumbers.parse(_international_prefix(text), region)
    except phonenumbers.NumberParseException:
        return NormalizedNumber(original, NumberStatus.INVALID)
    possible = phonenumbers.is_possible_number_with_reason(parsed) == ValidationResult.IS_POSSIBLE
    extension = parsed.extension or None
    if not possible or _is_placeholder(parsed) or len(extension or "") > MAX_EXTENSION_LENGTH:
        return NormalizedNumber(original, NumberStatus.INVALID)
    status = NumberStatus.VALID if phonenumbers.is_valid_number(parsed) else NumberStatus.POSSIBLE
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return NormalizedNumber(original, status, e164, extension)
