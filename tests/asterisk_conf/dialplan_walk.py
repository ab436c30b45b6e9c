"""Run one extension of the parsed dialplan the way Asterisk would, up to the first Dial or hang-up.

Enough of Asterisk for the routing part of the shipped file: ``${VAR}``, ``CUT`` and ``FIELDQTY``
expansion, ``Set``/``MSet``, ``ExecIf``, ``Goto``/``GotoIf`` on string comparisons joined with ``|``, and
``AGI`` whose outcome the test supplies per call (``None`` = FAILURE, a dict = SUCCESS with those variables
set, unless it sets ``AGISTATUS`` itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from dialplan_text import Extension

AgiAnswer = dict[str, str] | None
STOPS = {"Dial", "Busy", "Congestion", "Hangup"}


@dataclass
class Walk:
    agi_urls: list[str] = field(default_factory=list)
    end: tuple[str, str] = ("", "")  # the application that ended the walk and its expanded data


def expand(text: str, variables: dict[str, str]) -> str:
    """``${VAR}``, then ``${CUT(VAR,sep,n)}`` and ``${FIELDQTY(VAR,sep)}``; other functions stay."""

    def fields(m: re.Match[str]) -> list[str]:
        return variables.get(m.group(1), "").split(m.group(2))

    def cut(m: re.Match[str]) -> str:
        index = int(m.group(3)) - 1
        return fields(m)[index] if index < len(fields(m)) else ""

    text = re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m.group(1), ""), text)
    text = re.sub(r"\$\{CUT\((\w+),(.),(\d+)\)\}", cut, text)
    return re.sub(r"\$\{FIELDQTY\((\w+),(.)\)\}", lambda m: str(len(fields(m))), text)


def condition_holds(expression: str, variables: dict[str, str]) -> bool:
    """``$["a" = "b" | "c" != "d"]``: string comparisons joined by ``|`` (all this file needs)."""
    body = re.fullmatch(r"\$\[(.*)\]", expression.strip())
    assert body, f"unsupported expression {expression!r}"
    terms = re.findall(r'"([^"]*)" (=|!=) "([^"]*)"', expand(body.group(1), variables))
    assert len(terms) == body.group(1).count("|") + 1, f"unsupported expression {expression!r}"
    return any((left == right) == (op == "=") for left, op, right in terms)


def _assign(data: str, variables: dict[str, str], *, several: bool = False) -> None:
    """``Set(NAME=value)`` (the value may hold commas) or ``MSet(A=1,B=2)``."""
    for item in data.split(",") if several else [data]:
        name, _, value = item.partition("=")
        variables[name] = expand(value, variables)


def walk(extension: Extension, variables: dict[str, str], answers: Iterator[AgiAnswer]) -> Walk:
    labels = {p.label: i for i, p in enumerate(extension.priorities) if p.label}
    result, i = Walk(), 0
    for _ in range(200):
        p = extension.priorities[i]
        i += 1
        if p.app in STOPS:
            result.end = (p.app, expand(p.data, variables))
            return result
        if p.app == "AGI":
            result.agi_urls.append(expand(p.data.split(",")[0], variables))
            answer = next(answers)
            variables["AGISTATUS"] = "FAILURE" if answer is None else "SUCCESS"
            variables.update(answer or {})  # an answer may set AGISTATUS=FAILURE itself: it broke mid-way
        elif p.app in ("Set", "MSet"):
            _assign(p.data, variables, several=p.app == "MSet")
        elif p.app == "ExecIf":
            condition, _, action = p.data.partition("?")
            inner = re.fullmatch(r"(\w+)\((.*)\)", action)
            assert inner
            if condition_holds(condition, variables) and inner.group(1) == "Set":
                _assign(inner.group(2), variables)
        elif p.app == "GotoIf":
            condition, _, target = p.data.partition("?")
            if condition_holds(condition, variables):
                i = labels[target]
        elif p.app == "Goto":
            i = labels[p.data]
    raise AssertionError("the dialplan loops")
