"""The ``exten =>`` / ``same =>`` subset of extensions.conf that callrouter's files and guide use, parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Priority:
    label: str | None
    app: str
    data: str


@dataclass
class Extension:
    pattern: str
    priorities: list[Priority] = field(default_factory=list)

    def labels(self) -> set[str]:
        return {p.label for p in self.priorities if p.label}


def parse_dialplan(text: str) -> dict[str, list[Extension]]:
    """Contexts -> extensions -> priorities, for the ``exten =>`` / ``same =>`` subset the file uses."""
    contexts: dict[str, list[Extension]] = {}
    current: list[Extension] | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if m := re.fullmatch(r"\[([\w-]+)\]", line):
            current = contexts.setdefault(m.group(1), [])
            continue
        m = re.fullmatch(r"(exten|same)\s*=>\s*(.*)", line)
        assert m and current is not None, f"line {lineno}: unexpected {raw!r}"
        kind, rest = m.groups()
        if kind == "exten":
            pattern, _, rest = rest.partition(",")
            current.append(Extension(pattern))
            priority, _, rest = rest.partition(",")
            assert priority == "1", f"line {lineno}: an extension starts at priority 1"
        else:
            assert current, f"line {lineno}: 'same' before any 'exten'"
            priority, _, rest = rest.partition(",")
            assert re.fullmatch(r"n(\([\w-]+\))?", priority), f"line {lineno}: priority {priority!r}"
        app = re.fullmatch(r"(\w+)\((.*)\)", rest)
        assert app, f"line {lineno}: application call expected, got {rest!r}"
        label = re.search(r"\(([\w-]+)\)", priority)
        current[-1].priorities.append(Priority(label.group(1) if label else None, *app.groups()))
    return contexts


def entered_extensions(traces: Path) -> set[tuple[str, str]]:
    """(context, extension) of every dialplan run a recorded Asterisk started (Newexten at priority 1)."""
    entered = set()
    for path in traces.glob("**/*.ami"):
        for message in path.read_bytes().decode(errors="replace").split("\r\n\r\n"):
            fields = dict(line.split(": ", 1) for line in message.split("\r\n") if ": " in line)
            if fields.get("Event") != "Newexten" or fields.get("Priority") != "1":
                continue
            if fields.get("AppData") != "(Outgoing Line)":  # an outgoing leg runs no dialplan
                entered.add((fields["Context"], fields["Exten"]))
    return entered
