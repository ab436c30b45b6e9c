"""The shipped dialplan and AMI user agree with what the FastAGI server sets and what callrouter needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dialplan_text import Extension, parse_dialplan
from dialplan_walk import AgiAnswer, walk

from callrouter.settings import Settings, split_bind
from pbx_bridge.agi.server import ROUTE_SCRIPT
from pbx_bridge.agi.variables import STEP_SEPARATOR, TIMEOUT_SEPARATOR, VARIABLE_NAMES
from routing.decision import RouteKind

CONF_DIR = Path(__file__).resolve().parents[2] / "asterisk_conf"


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
    assert agi == [
        f"agi://127.0.0.1:{port}/{ROUTE_SCRIPT},${{CHANNEL(linkedid)}}",
        f"agi://${{CALLROUTER_SECOND_HOST}}/{ROUTE_SCRIPT},${{CHANNEL(linkedid)}}",
    ]


def test_dialplan_uses_exactly_the_variables_the_server_sets(inbound: Extension) -> None:
    used = {name for p in inbound.priorities for name in re.findall(r"\bROUTE_[A-Z_]+\b", p.data)}
    assert used == set(VARIABLE_NAMES)
    cleared = [p.data for p in inbound.priorities if p.app == "MSet"]
    assert len(cleared) == 2, "cleared before each host is asked"
    for data in cleared:
        assert {item.removesuffix("=") for item in data.split(",")} == set(VARIABLE_NAMES)


def test_every_goto_lands_on_a_label(inbound: Extension) -> None:
    targets = {
        target
        for p in inbound.priorities
        if p.app == "GotoIf"
        for target in re.findall(r"\?([\w-]+)$", p.data)
    }
    assert targets == {"answered", "reject", "fallback", "nofallback", "done", "step", "congestion", "hangup"}
    assert targets <= inbound.labels()
    gotos = {p.data for p in inbound.priorities if p.app == "Goto"}
    assert gotos <= inbound.labels()


def test_route_kinds_compared_are_real_kinds(inbound: Extension) -> None:
    compared = {k for p in inbound.priorities for k in re.findall(r'"\$\{ROUTE_KIND\}" = "(\w+)"', p.data)}
    assert compared == {RouteKind.BLACKLIST.value}


def test_chain_loop_uses_the_servers_separators(inbound: Extension) -> None:
    data = " ".join(p.data for p in inbound.priorities)
    assert f"FIELDQTY(ROUTE_CHAIN,{STEP_SEPARATOR})" in data
    assert f"CUT(ROUTE_CHAIN,{STEP_SEPARATOR},${{CR_I}})" in data
    dials = [p.data for p in inbound.priorities if p.app == "Dial"]
    assert f"${{CUT(CR_STEP,{TIMEOUT_SEPARATOR},1)}},${{CUT(CR_STEP,{TIMEOUT_SEPARATOR},2)}}" in dials
    assert "${CALLROUTER_FALLBACK_ROUTE},${CALLROUTER_FALLBACK_TIMEOUT}" in dials


def test_failure_and_empty_answers_dial_the_fallback_route(inbound: Extension) -> None:
    gotos = [p.data for p in inbound.priorities if p.app == "GotoIf"]
    to_default = next(data for data in gotos if data.endswith("?fallback"))
    for condition in ('"${AGISTATUS}" = "FAILURE"', '"${ROUTE_TARGET}" = ""', '"${ROUTE_CHAIN}" = ""'):
        assert condition in to_default
    apps = [p.app for p in inbound.priorities]
    reject = [p.label for p in inbound.priorities].index("reject")
    assert {"Busy", "Congestion"} <= set(apps[reject:])
    assert apps.index("AGI") < apps.index("GotoIf") < apps.index("Dial")


def test_an_unset_fallback_route_is_loud_not_a_made_up_endpoint(inbound: Extension) -> None:
    """No built-in fallback (no endpoint exists on every PBX): a WARNING each call, an ERROR when needed."""
    sets = " ".join(p.data for p in inbound.priorities if p.app in ("Set", "ExecIf", "MSet"))
    assert "Set(CALLROUTER_FALLBACK_ROUTE=" not in sets
    assert '$["${CALLROUTER_FALLBACK_ROUTE}" = ""]?Log(WARNING,' in sets
    labels = [p.label for p in inbound.priorities]
    fallback = inbound.priorities[labels.index("fallback") :]
    assert fallback[1].data == '$["${CALLROUTER_FALLBACK_ROUTE}" = ""]?nofallback'
    missing = inbound.priorities[labels.index("nofallback") :]
    assert (missing[0].app, missing[0].data.split(",")[0]) == ("Log", "ERROR")
    assert (missing[1].app, missing[1].data) == ("Goto", "congestion")


FIRST_HOST = "agi://127.0.0.1:4573/route"
SECOND = "10.0.0.12:4573"
SECOND_HOST = f"agi://{SECOND}/route"
ANSWER = {"ROUTE_KIND": "manager", "ROUTE_TARGET": "PJSIP/101", "ROUTE_CHAIN": "PJSIP/101~20"}
GLOBALS = {"CALLROUTER_FALLBACK_ROUTE": "PJSIP/100", "CALLROUTER_FALLBACK_TIMEOUT": "30"}


@pytest.mark.parametrize(
    ("second_host", "answers", "asked", "dialled"),
    [
        pytest.param(SECOND, [ANSWER], [FIRST_HOST], "PJSIP/101,20", id="first-answers"),
        pytest.param(SECOND, [None, ANSWER], [FIRST_HOST, SECOND_HOST], "PJSIP/101,20", id="second"),
        pytest.param(SECOND, [None, None], [FIRST_HOST, SECOND_HOST], "PJSIP/100,30", id="both-fail"),
        pytest.param("", [None], [FIRST_HOST], "PJSIP/100,30", id="no-second-host"),
    ],
)
def test_a_failed_first_host_asks_the_second_then_the_fallback_route(
    inbound: Extension, second_host: str, answers: list[AgiAnswer], asked: list[str], dialled: str
) -> None:
    variables = {**GLOBALS, "CALLROUTER_SECOND_HOST": second_host}
    result = walk(inbound, variables, iter(answers))
    assert result.agi_urls == asked
    assert result.end == ("Dial", dialled)


def test_a_first_host_dying_mid_answer_leaves_nothing_for_the_second(inbound: Extension) -> None:
    """Variables the broken first link managed to set are cleared before the second host is asked: a
    half-received blacklist answer must not reject a caller whom both hosts failed to route."""
    broken: AgiAnswer = {"ROUTE_KIND": "blacklist", "ROUTE_REJECT": "busy", "AGISTATUS": "FAILURE"}
    result = walk(inbound, {**GLOBALS, "CALLROUTER_SECOND_HOST": SECOND}, iter([broken, None]))
    assert result.end == ("Dial", "PJSIP/100,30")


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
