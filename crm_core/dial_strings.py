"""What a dial string (``PJSIP/101``, ``PJSIP/102&PJSIP/103``, ``Local/reception@agents``) may contain.

A dial string stored in the CRM (a manager's ``dial_target``, a routing target) reaches Asterisk inside
``ROUTE_CHAIN``: steps joined by ``|``, each ``<dial string>~<ring seconds>``, sent on one quoted
``SET VARIABLE`` line of a FastAGI session, then cut apart by the dialplan and substituted into
``Dial(${CUT(CR_STEP,~,1)},${CUT(CR_STEP,~,2)})``. So a dial string must not be blank and must not contain:

- ``|`` or ``~``: the chain's own separators;
- a control character (newline, tab, NUL...): an AGI command is one line;
- a space: no channel technology has one in a device name, and a stray space (two targets pasted into
  one field, a trailing blank) would make Dial() ring nobody;
- ``,``, ``"`` or ``\\``: Dial's argument parser splits at the comma and removes quotes and backslashes,
  so the phone rung would not be the one stored;
- an unbalanced ``(``/``)`` or ``[``/``]``: that parser ignores commas inside them, so the ring timeout
  would become part of the dial string (balanced brackets, as in an IPv6 URI, are fine).

The FastAGI server refuses to send a chain that breaks this rule, and every writer (API, import, settings)
refuses to store such a dial string, through the one function below.
"""

from __future__ import annotations

STEP_SEPARATOR = "|"
TIMEOUT_SEPARATOR = "~"
_SEPARATORS = frozenset(STEP_SEPARATOR + TIMEOUT_SEPARATOR)
_DIAL_ARGUMENT_CHARS = frozenset(',"\\')
_PAIRS = {"(": ")", "[": "]"}


class InvalidDialString(ValueError):
    """A dial string that cannot travel to Asterisk's Dial() intact."""


def _unbalanced(value: str) -> str | None:
    """The first bracket kind left open or closed too early (Asterisk's paren/bracket counting)."""
    for opening, closing in _PAIRS.items():
        depth = 0
        for ch in value:
            if ch == opening:
                depth += 1
            elif ch == closing:
                if depth == 0:
                    return closing
                depth -= 1
        if depth:
            return opening
    return None


def dial_string_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent to Asterisk as a dial string, or None when it can.

    >>> dial_string_problem("PJSIP/102&PJSIP/103") is None
    True
    >>> dial_string_problem("PJSIP/101/sip:101@[2001:db8::1]:5060") is None
    True
    >>> dial_string_problem("PJSIP/101|PJSIP/102")
    "contains '|', a separator of the routing chain"
    >>> dial_string_problem("PJSIP/101\\nPJSIP/102")
    'contains a control character (newline, tab...)'
    >>> dial_string_problem('PJSIP/"101"')
    'contains \\'"\\', which Dial() treats as argument syntax'
    >>> dial_string_problem("PJSIP/101 ")
    'contains a space'
    >>> dial_string_problem("PJSIP/101(")
    "has an unbalanced '('"
    >>> dial_string_problem("  ")
    'is empty'
    """
    if not value.strip():
        return "is empty"
    for ch in value:
        if ch in _SEPARATORS:
            return f"contains {ch!r}, a separator of the routing chain"
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return "contains a control character (newline, tab...)"
        if ch.isspace():
            return "contains a space"
        if ch in _DIAL_ARGUMENT_CHARS:
            return f"contains {ch!r}, which Dial() treats as argument syntax"
    bracket = _unbalanced(value)
    return None if bracket is None else f"has an unbalanced {bracket!r}"


def check_dial_string(value: str) -> str:
    """``value`` unchanged, or :class:`InvalidDialString` saying why Asterisk could not dial it.

    >>> check_dial_string("PJSIP/101")
    'PJSIP/101'
    >>> check_dial_string("PJSIP/1~2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crm_core.dial_strings.InvalidDialString: dial string 'PJSIP/1~2' contains '~', a separator of ...
    """
    problem = dial_string_problem(value)
    if problem is not None:
        raise InvalidDialString(f"dial string {value!r} {problem}")
    return value
