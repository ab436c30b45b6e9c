"""The shipped dialplan and AMI user agree with what the FastAGI server sets and what callrouter needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callrouter.settings import Settings, split_bind
from pbx_bridge.agi.server import ROUTE_SCRIPT
from pbx_bridge.agi.variables import STEP_SEPARATOR, TIMEOUT_SEPARATOR, VARIABLE_NAMES
from routing.decision import RouteKind

CONF_DIR = Path(__file__).resolve().parents[2] / "asterisk_conf"


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


@pytest.fixture(scope="module")
def inbound() -> Extension:
    contexts = parse_dialplan((CONF_DIR / "extensions.conf").read_text())
    assert "globals" not in contexts, "an included [globals] would be ignored by Asterisk"
    assert list(contexts) == ["callrouter-inbound"]
    (extension,) = contexts["callrouter-inbound"]
    return extension


def test_dialplan_asks_the_route_script_on_the_configured_port(inbound: Extension) -> None:
    agi = [p.data for p in inbound.priorities if p.app == "AGI"]
    _, port = split_bind(Settings.model_fields["agi_bind"].default)
    assert agi == [f"agi://127.0.0.1:{port}/{ROUTE_SCRIPT},${{CHANNEL(linkedid)}}"]


def test_dialplan_uses_exactly_the_variables_the_server_sets(inbound: Extension) -> None:
    used = {name for p in inbound.priorities for name in re.findall(r"\bROUTE_[A-Z_]+\b", p.data)}
    assert used == set(VARIABLE_NAMES)
    cleared = next(p.data for p in inbound.priorities if p.app == "MSet")
    assert {item.removesuffix("=") for item in cleared.split(",")} == set(VARIABLE_NAMES)


def test_every_goto_lands_on_a_label(inbound: Extension) -> None:
    targets = {
        target
        for p in inbound.priorities
        if p.app == "GotoIf"
        for target in re.findall(r"\?([\w-]+)$", p.data)
    }
    assert targets == {"reject", "default", "done", "step", "congestion", "hangup"}
    assert targets <= inbound.labels()


def test_route_kinds_compared_are_real_kinds(inbound: Extension) -> None:
    compared = {k for p in inbound.priorities for k in re.findall(r'"\$\{ROUTE_KIND\}" = "(\w+)"', p.data)}
    assert compared == {RouteKind.BLACKLIST.value}


def test_chain_loop_uses_the_servers_separators(inbound: Extension) -> None:
    data = " ".join(p.data for p in inbound.priorities)
    assert f"FIELDQTY(ROUTE_CHAIN,{STEP_SEPARATOR})" in data
    assert f"CUT(ROUTE_CHAIN,{STEP_SEPARATOR},${{CR_I}})" in data
    dials = [p.data for p in inbound.priorities if p.app == "Dial"]
    assert f"${{CUT(CR_STEP,{TIMEOUT_SEPARATOR},1)}},${{CUT(CR_STEP,{TIMEOUT_SEPARATOR},2)}}" in dials
    assert "${CALLROUTER_DEFAULT_ROUTE},${CALLROUTER_DEFAULT_TIMEOUT}" in dials


def test_failure_and_empty_answers_dial_the_default_route(inbound: Extension) -> None:
    gotos = [p.data for p in inbound.priorities if p.app == "GotoIf"]
    to_default = next(data for data in gotos if data.endswith("?default"))
    for condition in ('"${AGISTATUS}" = "FAILURE"', '"${ROUTE_TARGET}" = ""', '"${ROUTE_CHAIN}" = ""'):
        assert condition in to_default
    apps = [p.app for p in inbound.priorities]
    reject = [p.label for p in inbound.priorities].index("reject")
    assert {"Busy", "Congestion"} <= set(apps[reject:])
    assert apps.index("AGI") < apps.index("GotoIf") < apps.index("Dial")


def read_ini(path: Path) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for raw in path.read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if m := re.fullmatch(r"\[(\w+)\]", line):
            current = sections.setdefault(m.group(1), [])
        elif line:
            key, _, value = line.partition("=")
            current.append((key.strip(), value.strip()))
    return sections


def test_ami_user_is_local_and_least_privileged() -> None:
    conf = read_ini(CONF_DIR / "manager.conf")
    general, user = dict(conf["general"]), conf["callrouter"]
    assert general["bindaddr"] == "127.0.0.1"
    assert general["timestampevents"] == "yes"
    assert ("deny", "0.0.0.0/0.0.0.0") in user and ("permit", "127.0.0.1/255.255.255.255") in user
    settings = dict(user)
    read, write = set(settings["read"].split(",")), set(settings["write"].split(","))
    assert {"call", "agent"} <= read
    assert "originate" in write
    dangerous = {"all", "system", "command", "config"}
    assert not (read | write) & dangerous
