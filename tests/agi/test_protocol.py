"""Property tests of the FastAGI parsers and of the variable encoding the dialplan relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_core.dial_strings import dial_string_problem
from pbx_bridge.agi.client import unquote_args
from pbx_bridge.agi.protocol import (
    AgiProtocolError,
    AgiRequest,
    parse_header_line,
    parse_reply,
    parse_request,
)
from pbx_bridge.agi.variables import (
    MAX_COMMAND_BYTES,
    STEP_SEPARATOR,
    TIMEOUT_SEPARATOR,
    quote,
    route_commands,
    route_variables,
)
from routing.decision import RouteDecision, RouteKind, RouteStep
from tests.agi.fake_asterisk import load_trace_blocks
from tests.dial_string_cases import UNSAFE_DIAL_STRINGS

printable = st.text(st.characters(min_codepoint=0x20, exclude_categories=["Cs"], exclude_characters="\x7f"))
names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
dial_strings = st.from_regex(r"(PJSIP|Local|SIP|IAX2)/[A-Za-z0-9+@&_.\-]{1,40}", fullmatch=True)


@given(name=names, value=printable)
def test_header_line_round_trips(name: str, value: str) -> None:
    assert parse_header_line(f"agi_{name}: {value}\n") == (name, value.strip())


@given(st.text())
def test_header_parser_only_raises_protocol_errors(line: str) -> None:
    try:
        name, _ = parse_header_line(line)
    except AgiProtocolError:
        return
    assert line.startswith("agi_" + name)


@given(code=st.integers(100, 599), result=st.from_regex(r"-?[0-9]{1,5}", fullmatch=True), data=printable)
def test_reply_round_trips(code: int, result: str, data: str) -> None:
    suffix = f" ({data.strip()})" if data.strip() else ""
    reply = parse_reply(f"{code} result={result}{suffix}\n")
    assert (reply.code, reply.result, reply.data) == (code, result, data.strip())
    assert reply.ok == (code == 200)


@given(st.text())
def test_reply_parser_only_raises_protocol_errors(line: str) -> None:
    try:
        reply = parse_reply(line)
    except AgiProtocolError:
        return
    assert reply.hangup or 0 < reply.code < 1000


@given(printable)
def test_quoted_values_are_read_back_by_asterisks_argument_splitter(value: str) -> None:
    assert unquote_args(f"SET VARIABLE X {quote(value)}") == ["SET", "VARIABLE", "X", value]


@given(st.lists(st.tuples(dial_strings, st.integers(1, 600)), min_size=1, max_size=8))
def test_chain_splits_back_into_its_steps(steps: list[tuple[str, int]]) -> None:
    decision = RouteDecision(RouteKind.FALLBACK, tuple(RouteStep(t, s) for t, s in steps))
    variables = dict(route_variables(decision))
    parsed = [step.split(TIMEOUT_SEPARATOR) for step in variables["ROUTE_CHAIN"].split(STEP_SEPARATOR)]
    assert [(t, int(s)) for t, s in parsed] == steps
    assert (variables["ROUTE_TARGET"], int(variables["ROUTE_TIMEOUT"])) == steps[0]


@pytest.mark.parametrize("target", [*UNSAFE_DIAL_STRINGS, ""])
def test_unsafe_dial_strings_are_refused(target: str) -> None:
    with pytest.raises(ValueError):
        route_variables(RouteDecision(RouteKind.MANAGER, (RouteStep(target, 20),)))


@given(st.text(max_size=60))
def test_fastagi_sends_exactly_the_dial_strings_the_writers_accept(target: str) -> None:
    """The server's refusal and the rule every writer applies are one rule."""
    decision = RouteDecision(RouteKind.MANAGER, (RouteStep(target, 20),))
    try:
        route_commands(decision)
        sent = True
    except ValueError:
        sent = False
    assert sent == (dial_string_problem(target) is None)


def test_overlong_commands_are_refused() -> None:
    steps = tuple(RouteStep(f"PJSIP/{n:040d}", 20) for n in range(60))
    with pytest.raises(ValueError, match=str(MAX_COMMAND_BYTES)):
        route_commands(RouteDecision(RouteKind.FALLBACK, steps))


def test_real_requests_parse(traces_dir: Path) -> None:
    for key, block in load_trace_blocks(traces_dir).items():
        request = parse_request(block.decode().splitlines()[:-1])
        assert request.script == "route", key
        assert request.dialed == "+74951234567", key
        assert request.uniqueid.count(".") == 1, key
        withheld = request.get("callerid") in {"anonymous", "unknown"}
        assert request.withheld is withheld, key
        assert request.caller == (None if withheld else request.get("callerid")), key


def test_presentation_alone_marks_a_number_withheld() -> None:
    assert AgiRequest({"callerid": "+79001234567", "callingpres": "35"}).caller is None
    assert AgiRequest({"callerid": "+79001234567", "callingpres": "1"}).caller == "+79001234567"
