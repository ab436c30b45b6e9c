"""The real FastAGI server over TCP: recorded requests, every decision kind, deadline and handler errors."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from pbx_bridge.agi.handlers import default_decision, default_handler, routing_handler
from pbx_bridge.agi.protocol import AgiRequest
from pbx_bridge.agi.server import AgiLimits
from pbx_bridge.agi.variables import VARIABLE_NAMES, route_variables
from routing.decision import RouteDecision, RouteKind, RouteStep
from tests.agi.fake_asterisk import DEFAULT, StartServer, fake_asterisk

CHAIN = (
    RouteStep("PJSIP/101", 20),
    RouteStep("PJSIP/102&PJSIP/103", 15),
    RouteStep("Local/reception@agents", 30),
)
DECISIONS = {
    RouteKind.MANAGER: RouteDecision(RouteKind.MANAGER, CHAIN[:1], counterparty_id=17, manager_id=3),
    RouteKind.FALLBACK: RouteDecision(RouteKind.FALLBACK, CHAIN, counterparty_id=17, manager_id=3),
    RouteKind.BLACKLIST: RouteDecision(RouteKind.BLACKLIST, treatment="congestion"),
    RouteKind.LIST: RouteDecision(RouteKind.LIST, (RouteStep("PJSIP/hr", 25),)),
    RouteKind.UNKNOWN: RouteDecision(RouteKind.UNKNOWN, CHAIN[2:], register_number=True),
    RouteKind.DEFAULT: RouteDecision(RouteKind.DEFAULT, CHAIN[2:], after_hours=True),
}


async def test_recorded_requests_get_every_variable(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    seen: list[AgiRequest] = []

    async def handler(request: AgiRequest) -> RouteDecision:
        seen.append(request)
        return RouteDecision(RouteKind.MANAGER, (RouteStep(f"PJSIP/{request.caller}", 20),), manager_id=1)

    running = await start_server(handler)
    for key, block in trace_blocks.items():
        session = await fake_asterisk(running.port, block)
        request = seen[-1]
        assert request.get("uniqueid") in block.decode(), key
        expected = dict(route_variables(await handler(request)))
        assert session.variables == expected, key
        assert [c.split()[2] for c in session.commands] == list(VARIABLE_NAMES), key
        assert session.closed_by_server, key
    routed = running.count("callrouter_calls_routed_total", kind="manager")
    assert routed == len(trace_blocks)
    withheld = [r for r in seen if r.caller is None]
    assert {r.get("callingpres") for r in withheld} == {"35", "67"}
    assert running.count("callrouter_route_seconds_count") == len(trace_blocks)


@pytest.mark.parametrize("kind", list(RouteKind))
async def test_every_decision_kind_is_written(
    kind: RouteKind, start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    decision = DECISIONS[kind]

    async def handler(_request: AgiRequest) -> RouteDecision:
        return decision

    running = await start_server(handler)
    session = await fake_asterisk(running.port, trace_blocks["a.agi#0"])
    steps = "|".join(f"{s.target}~{s.timeout_s}" for s in decision.steps)
    assert session.variables == {
        "ROUTE_KIND": kind.value,
        "ROUTE_TARGET": decision.steps[0].target if decision.steps else "",
        "ROUTE_TIMEOUT": str(decision.steps[0].timeout_s) if decision.steps else "",
        "ROUTE_CHAIN": steps,
        "ROUTE_COUNTERPARTY_ID": str(decision.counterparty_id or ""),
        "ROUTE_MANAGER_ID": str(decision.manager_id or ""),
        "ROUTE_REGISTER": "1" if decision.register_number else "0",
        "ROUTE_REJECT": decision.treatment or "",
        "ROUTE_AFTER_HOURS": "1" if decision.after_hours else "0",
    }
    assert running.count("callrouter_calls_routed_total", kind=kind.value) == 1
    assert running.count("callrouter_degraded_answers_total", reason="deadline") == 0


async def test_a_dial_string_dial_would_mangle_gets_the_default_route(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    """Dial() strips quotes and backslashes, so such a chain is never sent: the default route is."""
    target = 'Local/"odd\\name"@agents'

    async def handler(_request: AgiRequest) -> RouteDecision:
        return RouteDecision(RouteKind.LIST, (RouteStep(target, 9),))

    running = await start_server(handler)
    session = await fake_asterisk(running.port, trace_blocks["a.agi#0"])
    default_variables(session.variables)
    assert running.count("callrouter_degraded_answers_total", reason="handler_error") == 1


def default_variables(session_vars: dict[str, str]) -> None:
    assert session_vars == dict(route_variables(DEFAULT))


async def test_slow_handler_gets_the_default_route_within_the_deadline(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    cancelled = asyncio.Event()

    async def slow(_request: AgiRequest) -> RouteDecision:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return DECISIONS[RouteKind.MANAGER]

    running = await start_server(slow, deadline_s=0.05)
    started = time.perf_counter()
    session = await fake_asterisk(running.port, trace_blocks["sip/s1.agi#0"])
    elapsed = time.perf_counter() - started
    default_variables(session.variables)
    assert elapsed < 0.5
    assert cancelled.is_set()
    assert running.count("callrouter_degraded_answers_total", reason="deadline") == 1
    assert running.count("callrouter_agi_faults_total", kind="deadline") == 1
    assert running.count("callrouter_calls_routed_total", kind="default") == 1


async def test_failing_handler_gets_the_default_route_and_is_logged(
    start_server: StartServer, trace_blocks: dict[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(_request: AgiRequest) -> RouteDecision:
        raise RuntimeError("database is gone")

    running = await start_server(broken)
    session = await fake_asterisk(running.port, trace_blocks["sip/s2.agi#0"])
    default_variables(session.variables)
    assert running.count("callrouter_degraded_answers_total", reason="handler_error") == 1
    record = next(r for r in caplog.records if "route handler failed" in r.getMessage())
    assert record.__dict__["uniqueid"] == "1795876979.24"


async def test_unsendable_decision_gets_the_default_route(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    async def bad(_request: AgiRequest) -> RouteDecision:
        return RouteDecision(RouteKind.MANAGER, (RouteStep("PJSIP/101,20", 20),))

    running = await start_server(bad)
    session = await fake_asterisk(running.port, trace_blocks["a.agi#0"])
    default_variables(session.variables)
    assert running.count("callrouter_degraded_answers_total", reason="handler_error") == 1


async def test_unknown_script_still_gets_the_default_route(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    asked: list[AgiRequest] = []

    async def handler(request: AgiRequest) -> RouteDecision:
        asked.append(request)
        return DECISIONS[RouteKind.MANAGER]

    running = await start_server(handler)
    block = trace_blocks["a.agi#0"].replace(b"agi_network_script: route", b"agi_network_script: roue")
    session = await fake_asterisk(running.port, block)
    default_variables(session.variables)
    assert asked == []
    assert running.count("callrouter_agi_faults_total", kind="unknown_script") == 1
    assert running.count("callrouter_calls_routed_total", kind="default") == 1


async def test_routing_handler_asks_with_caller_did_and_linkedid(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    asked: list[tuple[str | None, str | None, str | None]] = []

    class Decider:
        async def decide(
            self,
            caller: str | None,
            dialed: str | None = None,
            at: datetime | None = None,
            *,
            linkedid: str | None = None,
        ) -> RouteDecision:
            asked.append((caller, dialed, linkedid))
            return DECISIONS[RouteKind.UNKNOWN if caller is None else RouteKind.MANAGER]

    running = await start_server(routing_handler(Decider()))
    with_arg = trace_blocks["a.agi#0"].replace(b"\n\n", b"\nagi_arg_1: 1795875455.438\n\n")
    kinds = [
        (await fake_asterisk(running.port, block)).variables["ROUTE_KIND"]
        for block in (with_arg, trace_blocks["m.agi#0"], trace_blocks["sip/s1.agi#0"])
    ]
    assert asked == [
        ("+79001234567", "+74951234567", "1795875455.438"),
        (None, "+74951234567", "1795876063.705"),
        ("+79001234511", "+74951234567", "1795876970.22"),
    ]
    assert kinds == ["manager", "unknown", "manager"]


async def test_default_handler_answers_its_decision(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    running = await start_server(default_handler(default_decision("PJSIP/reception", 25)))
    session = await fake_asterisk(running.port, trace_blocks["sip/s2.agi#0"])
    assert session.variables["ROUTE_KIND"] == "default"
    assert session.variables["ROUTE_CHAIN"] == "PJSIP/reception~25"
    assert running.count("callrouter_degraded_answers_total", reason="deadline") == 0


async def test_decision_and_exchange_are_timed_apart(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    """``callrouter_route_decision_seconds`` ends when the first command is sent; ``callrouter_route_seconds``
    also holds Asterisk's replies (here each answered 0.1 s late)."""

    async def slow_handler(_request: AgiRequest) -> RouteDecision:
        await asyncio.sleep(0.05)
        return DECISIONS[RouteKind.MANAGER]

    running = await start_server(slow_handler, deadline_s=1.0, limits=AgiLimits(reply_timeout_s=2.0))
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    writer.write(next(iter(trace_blocks.values())))
    while await asyncio.wait_for(reader.readline(), 5):
        await asyncio.sleep(0.1)
        writer.write(b"200 result=1\n")
    writer.close()
    decision = running.count("callrouter_route_decision_seconds_sum")
    exchange = running.count("callrouter_route_seconds_sum")
    assert running.count("callrouter_route_decision_seconds_count") == 1
    assert 0.05 <= decision < 0.5
    assert exchange - decision >= len(VARIABLE_NAMES) * 0.1
