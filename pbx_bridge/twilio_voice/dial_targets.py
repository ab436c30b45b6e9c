"""Which Twilio ``<Dial>`` nouns ring a routing chain step's dial string.

The routing chain speaks Asterisk (``PJSIP/101``, ``PJSIP/101&PJSIP/102``); Twilio dials SIP URIs and phone
numbers. Each ``&``-separated part of a dial string maps on its own:

=============================  ==========================================
``sip:user@host`` / ``sips:``  ``<Sip>`` as written
``+79001234567`` (E.164)       ``<Number>``
``PJSIP/+79001234567``         ``<Number>`` (a number behind the tech)
``PJSIP/101`` / ``SIP/101``    ``<Sip>sip:101@<twilio_sip_domain></Sip>``
anything else (``Local/...``)  not dialable: skipped, the caller logs it
=============================  ==========================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SIP_USER = re.compile(r"^[A-Za-z0-9._-]+$")
_SIP_TECHS = frozenset({"pjsip", "sip"})


@dataclass(frozen=True, slots=True)
class Noun:
    """One endpoint inside a ``<Dial>``: ``kind`` is the TwiML noun, ``address`` its text."""

    kind: Literal["sip", "number"]
    address: str


def map_part(part: str, sip_domain: str | None) -> Noun | None:
    """The noun for one dial string part, None when Twilio cannot ring it.

    >>> map_part("PJSIP/101", "pbx.example.com")
    Noun(kind='sip', address='sip:101@pbx.example.com')
    >>> map_part("+79001234567", None)
    Noun(kind='number', address='+79001234567')
    >>> map_part("PJSIP/101", None) is None, map_part("Local/reception@agents", "x") is None
    (True, True)
    """
    part = part.strip()
    if part.lower().startswith(("sip:", "sips:")) and "@" in part:
        return Noun("sip", part)
    if _E164.match(part):
        return Noun("number", part)
    tech, _, user = part.partition("/")
    if tech.lower() not in _SIP_TECHS or not user:
        return None
    if _E164.match(user):
        return Noun("number", user)
    if sip_domain and _SIP_USER.match(user):
        return Noun("sip", f"sip:{user}@{sip_domain}")
    return None


def map_target(target: str, sip_domain: str | None) -> tuple[tuple[Noun, ...], tuple[str, ...]]:
    """``(nouns, unmapped parts)`` of a whole dial string (``&`` rings parts at once).

    >>> map_target("PJSIP/101&Local/x@y", "d")
    ((Noun(kind='sip', address='sip:101@d'),), ('Local/x@y',))
    """
    nouns: list[Noun] = []
    unmapped: list[str] = []
    for part in target.split("&"):
        noun = map_part(part, sip_domain)
        if noun is None:
            unmapped.append(part)
        else:
            nouns.append(noun)
    return tuple(nouns), tuple(unmapped)
