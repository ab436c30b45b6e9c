"""The write-side check of dial strings: the services refuse what the FastAGI server could not send."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_core.dial_strings import dial_string_problem
from crm_core.services.errors import InvalidInput

INVALID_DIAL_STRING = "invalid-dial-string"


def require_dialable(values: Mapping[str, Any], field: str) -> None:
    """Raise ``InvalidInput("invalid-dial-string")`` when ``values[field]`` is set and Dial() cannot use it.

    >>> require_dialable({"dial_target": "PJSIP/101"}, "dial_target")
    >>> require_dialable({"dial_target": None}, "dial_target")
    >>> require_dialable({"dial_target": "PJSIP/1|2"}, "dial_target")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crm_core.services.errors.InvalidInput: invalid-dial-string: {'field': 'dial_target', ...}
    """
    value = values.get(field)
    if value is None:
        return
    problem = dial_string_problem(value)
    if problem is not None:
        raise InvalidInput(INVALID_DIAL_STRING, {"field": field, "value": value, "reason": problem})
