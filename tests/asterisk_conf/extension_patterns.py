"""Asterisk's extension pattern matching (``pbx.c``: ``_extension_match_core``), enough to test a dialplan.

A name starting with ``_`` is a pattern, anything else must equal the extension. In a pattern ``X`` is a
digit 0-9, ``Z`` 1-9, ``N`` 2-9 (in either case: lower-case letters mean the same, which is why a literal
``n`` is written ``[n]``), ``[...]`` one character of a set with ``a-b`` ranges, ``.`` one or more further
characters of any kind and ``!`` zero or more; a ``-`` or space in a pattern is ignored, and a ``-`` in the
dialled extension is skipped. Any other character matches itself.
"""

from __future__ import annotations


def _in_set(body: str, ch: str) -> bool:
    """Whether ``ch`` is in a ``[...]`` body such as ``+0-9`` or ``1237-9``."""
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            if body[i] <= ch <= body[i + 2]:
                return True
            i += 3
        else:
            if body[i] == ch:
                return True
            i += 1
    return False


_CLASSES = {"X": "0123456789", "Z": "123456789", "N": "23456789"}


def matches(name: str, extension: str) -> bool:
    """Whether the dialplan extension ``name`` (``_X.``, ``_[+0-9].``, ``s``) matches ``extension``.

    >>> matches("_NXX", "200"), matches("_NXX", "199"), matches("_NXX", "2000")
    (True, False, False)
    >>> matches("_9011.", "90115"), matches("_9011.", "9011"), matches("_9011!", "9011")
    (True, False, True)
    >>> matches("_X.", "+74951234567"), matches("_+X.", "+74951234567")
    (False, True)
    """
    if not name.startswith("_"):
        return name == extension
    pattern, data = name[1:], extension
    p = d = 0
    while d < len(data) and p < len(pattern):
        if data[d] == "-":
            d += 1
            continue
        token = pattern[p].upper()
        if token in " -":
            p += 1
            continue
        if token in ".!":  # the rest of the extension, and here there is at least one more character
            return True
        if token == "[":
            end = pattern.find("]", p)
            if end < 0:
                raise ValueError(f"unterminated [ in {name!r}")
            if not _in_set(pattern[p + 1 : end], data[d]):
                return False
            p = end + 1
        elif token in _CLASSES:
            if data[d] not in _CLASSES[token]:
                return False
            p += 1
        elif data[d] != pattern[p]:
            return False
        else:
            p += 1
        d += 1
    if d < len(data):
        return False
    return p == len(pattern) or pattern[p] == "!"  # anything else still wants characters: no match
