"""Refuse text a database cannot store before it reaches the driver, the same way on every backend.

PostgreSQL refuses NUL characters in text, and no UTF-8 database can hold a lone surrogate (``\\ud800``);
psycopg2 answers with a bare ``ValueError`` and SQLite would store them. Checking every bound parameter at
the engine covers search filters, bodies and imports alike with one rule and one error id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from crm_core.services.errors import InvalidInput

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
ERROR_ID = "unstorable-text"


def is_storable(value: str) -> bool:
    """True when every database accepts ``value`` as text.

    >>> is_storable("Romashka"), is_storable("a\\x00b"), is_storable("\\ud800")
    (True, False, False)
    """
    return UNSTORABLE.search(value) is None


def _values(parameters: Any) -> Iterable[Any]:
    if isinstance(parameters, Mapping):
        return parameters.values()
    if isinstance(parameters, list | tuple):
        return parameters
    return ()


def check_parameters(parameters: Any) -> None:
    """Raise :class:`InvalidInput` (``unstorable-text``) when a text parameter cannot be stored.

    ``parameters`` is one statement's parameters (a mapping or a sequence) or, for ``executemany``, a
    list of them.
    """
    for value in _values(parameters):
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                raise InvalidInput(ERROR_ID, "text must not contain NUL characters or lone surrogates")
        elif isinstance(value, Mapping | list | tuple):
            check_parameters(value)


def refuse_unstorable_parameters(
    _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _executemany: bool
) -> None:
    """A ``before_cursor_execute`` listener applying :func:`check_parameters`."""
    check_parameters(parameters)
