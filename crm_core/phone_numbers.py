"""Phone number normalization to E.164, shared by the importer, the API and the call path.

It lives in the innermost package because every layer needs the same answer for the same written number.
The function never raises: anything that is not a plausible number becomes a :class:`NormalizedNumber`
whose ``e164`` is ``None`` and whose ``status`` says why.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

WITHHELD_WORDS = frozenset({"", "anonymous", "unknown", "restricted", "private", "withheld", "unavailable"})
_URI_PREFIX = re.compile(r"^(?:tel|sips?):", re.IGNORECASE)
_MAX_INPUT = 64


class NumberStatus(enum.StrEnum):
    VALID = "valid"
    WITHHELD = "withheld"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class NormalizedNumber:
    """The outcome of normalizing one written number."""

    raw: str
    status: NumberStatus
    e164: str | None = None

    @property
    def is_valid(self) -> bool:
        return self.status is NumberStatus.VALID


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


@lru_cache(maxsize=65536)
def normalize_number(raw: str | None, region: str = "RU") -> NormalizedNumber:
    """Normalize a written number or caller id to E.164; never raises.

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
    if re.search(r"[A-Za-z]", text):
        return NormalizedNumber(original, NumberStatus.INVALID)
    text = _international_prefix(text)
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return NormalizedNumber(original, NumberStatus.INVALID)
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        return NormalizedNumber(original, NumberStatus.INVALID)
    return NormalizedNumber(
        original, NumberStatus.VALID, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    )
