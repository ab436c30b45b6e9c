"""Twilio request signatures: ``X-Twilio-Signature`` over the public URL Twilio called plus the form.

Behind a proxy the URL the application sees is not the one Twilio signed, so the public base URL comes from
settings and only the path and query come from the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator


def public_url(base_url: str, path: str, query: str = "") -> str:
    """The URL Twilio requested, as it signed it.

    >>> public_url("https://cr.example.com/", "/twilio/voice/step", "i=1")
    'https://cr.example.com/twilio/voice/step?i=1'
    """
    url = base_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict (Twilio never repeats a parameter).

    >>> parse_form(b"CallSid=CA1&From=%2B79001112233&Empty=")
    {'CallSid': 'CA1', 'From': '+79001112233', 'Empty': ''}
    """
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def signature_ok(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """True when ``signature`` is Twilio's signature of ``url`` and ``params`` under ``auth_token``."""
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))
