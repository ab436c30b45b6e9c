"""The FastAGI server under hostile or broken peers, and under hundreds of concurrent calls."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from pbx_bridge.agi.protocol import AgiRequest
from pbx_bridge.agi.server import AgiLimits
from pbx_bridge.agi.variables import VARIABLE_NAMES
from routing.decision import RouteDecision, RouteKind, RouteStep
from tests.agi.fake_asterisk import TEST_LIMITS, RunningServer, StartServer, fake_asterisk


async def echo_caller(request: AgiRequest) -> RouteDecision:
    """Routes to a dial string derived from the request, so crossed sessions would show."""
    await asyncio.sleep(0.01)
    return RouteDecision(RouteKind.MANAGER, (RouteStep(f"PJSIP/{request.uniqueid}", 20),))


async def raw_session(port: int, payload: bytes, *, close_write: bool = False) -> tuple[bytes, float]:
    """Send ``payload`` and read until the server closes; the bytes received and how long it took."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.perf_counter()
    try:
        writer.write(payload)
        await writer.drain()
        if close_write:
            writer.write_eof()
        received = await asyncio.wait_for(reader.read(), 5)
    except ConnectionResetError:
        received = b""
    finally:
        writer.close()
    return received, time.perf_counter() - started


async def assert_still_routes(running: RunningServer, block: bytes) -> None:
    session = await asyncio.wait_for(fake_asterisk(running.port, block), 2)
    assert session.variables["ROUTE_KIND"] == "manager"


async def test_connect_and_close_is_a_probe_and_never_spins(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    running = await start_server(echo_caller)
    baseline = len(asyncio.all_tasks())
    for _ in range(50):
        _, writer = await asyncio.open_connection("127.0.0.1", running.port)
        writer.close()
        await writer.wait_closed()
    # The event loop stays free: a timer fires on time while the probes are being handled.
    started = time.perf_counter()
    await asyncio.sleep(0.05)
    assert time.perf_counter() - started < 0.5
    await assert_still_routes(running, trace_blocks["a.agi#0"])
    for _ in range(50):
        if len(asyncio.all_tasks()) <= baseline and running.count("callrouter_agi_probes_total") == 50:
            break
        await asyncio.sleep(0.01)
    assert running.count("callrouter_agi_probes_total") == 50
    assert len(asyncio.all_tasks()) <= baseline
    assert running.faults() == {}


async def test_half_sent_headers_hit_the_header_deadline(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    running = await start_server(echo_caller)
    half = trace_blocks["a.agi#0"][:200]
    received, elapsed = await raw_session(running.port, half)
    assert received == b""
    assert TEST_LIMITS.header_timeout_s <= elapsed < TEST_LIMITS.header_timeout_s + 1
    assert running.count("callrouter_agi_faults_total", kind="header_timeout") == 1


async def test_headers_cut_by_a_close_are_a_truncated_request(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    running = await start_server(echo_caller)
    received, _ = await raw_session(running.port, trace_blocks["a.agi#0"][:200], close_write=True)
    assert received == b""
    assert running.count("callrouter_agi_faults_total", kind="truncated") == 1
    await assert_still_routes(running, trace_blocks["a.agi#0"])


@pytest.mark.parametrize(
    "payload",
    [
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x00\xff\xfe\x80garbage\n\n",
        b"agi_network: yes\nnot a header\n\n",
        b"\n",
    ],
    ids=["http", "binary", "bad-line", "empty-request"],
)
async def test_garbage_is_refused_without_an_answer(
    payload: bytes, start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    running = await start_server(echo_caller)
    received, elapsed = await raw_session(running.port, payload)
    assert received == b""
    assert elapsed < TEST_LIMITS.header_timeout_s
    assert running.count("callrouter_agi_faults_total", kind="malformed") == 1
    await assert_still_routes(running, trace_blocks["a.agi#0"])


LONG_LINES = [b"agi_x: " + b"A" * 1_000_000, os.urandom(1_000_000).replace(b"\n", b"")]


@pytest.mark.parametrize("payload", LONG_LINES, ids=["text", "binary"])
async def test_absurdly_long_lines_are_cut_off(
    payload: bytes, start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    running = await start_server(echo_caller)
    received, elapsed = await raw_session(running.port, payload)
    assert received == b""
    assert elapsed < TEST_LIMITS.header_timeout_s
    assert running.count("callrouter_agi_faults_total", kind="oversize") == 1
    await assert_still_routes(running, trace_blocks["a.agi#0"])


async def test_too_many_headers_are_cut_off(start_server: StartServer) -> None:
    running = await start_server(echo_caller)
    received, _ = await raw_session(running.port, b"agi_x: 1\n" * (TEST_LIMITS.max_headers + 1))
    assert received == b""
    assert running.count("callrouter_agi_faults_total", kind="oversize") == 1


async def test_peer_that_never_answers_is_dropped(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    running = await start_server(echo_caller)
    started = time.perf_counter()
    session = await fake_asterisk(running.port, trace_blocks["a.agi#0"], lambda _i, _c: None)
    assert session.closed_by_server
    assert len(session.commands) == 1
    assert time.perf_counter() - started < TEST_LIMITS.reply_timeout_s + 1
    assert running.count("callrouter_agi_faults_total", kind="reply_timeout") == 1
    assert running.count("callrouter_calls_routed_total", kind="manager") == 0


@pytest.mark.parametrize(
    ("reply", "fault"),
    [
        (b"HANGUP\n", "hangup"),
        (b"511 Command Not Permitted on a dead channel or intercept routine\n", "hangup"),
        (b"what?\n", "bad_reply"),
    ],
)
async def test_hangup_mid_answer_ends_the_session(
    reply: bytes, fault: str, start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    running = await start_server(echo_caller)
    session = await fake_asterisk(
        running.port, trace_blocks["a.agi#0"], lambda i, _c: reply if i == 2 else b"200 result=1\n"
    )
    assert len(session.commands) == 3
    assert session.closed_by_server
    assert running.count("callrouter_agi_faults_total", kind=fault) == 1
    assert running.count("callrouter_calls_routed_total", kind="manager") == 0


async def test_asterisk_closing_mid_answer_is_counted(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    running = await start_server(echo_caller)
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    writer.write(trace_blocks["sip/s1.agi#0"])
    assert (await reader.readline()).startswith(b"SET VARIABLE ROUTE_KIND")
    writer.close()
    for _ in range(100):
        if running.count("callrouter_agi_faults_total", kind="closed"):
            break
        await asyncio.sleep(0.01)
    assert running.count("callrouter_agi_faults_total", kind="closed") == 1


async def test_rejected_command_is_counted_and_the_rest_still_sent(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    running = await start_server(echo_caller)
    session = await fake_asterisk(
        running.port,
        trace_blocks["a.agi#0"],
        lambda i, _c: b"510 Invalid or unknown command\n" if i == 0 else b"200 result=1\n",
    )
    assert [c.split()[2] for c in session.commands] == list(VARIABLE_NAMES)
    assert running.count("callrouter_agi_faults_total", kind="command_rejected") == 1
    assert running.count("callrouter_calls_routed_total", kind="manager") == 1


async def test_three_hundred_concurrent_calls_each_get_their_own_route(
    start_server: StartServer, trace_blocks: dict[str, bytes]
) -> None:
    # production limits: here the 300 fake Asterisks share the server's event loop, so a busy CI machine
    # could make the test's short reply timeout (not the server) the limit; for the same reason the decision
    # deadline is generous: this test is about sessions never crossing, the deadline has tests of its own
    running = await start_server(echo_caller, limits=AgiLimits(), deadline_s=5.0)
    template = trace_blocks["sip/s1.agi#0"]
    blocks = [template.replace(b"1795876970.22", f"1795876970.{n}".encode()) for n in range(300)]
    sessions = await asyncio.gather(*(fake_asterisk(running.port, b) for b in blocks))
    assert [s.variables["ROUTE_TARGET"] for s in sessions] == [f"PJSIP/1795876970.{n}" for n in range(300)]
    assert running.count("callrouter_calls_routed_total", kind="manager") == 300
    assert running.count("callrouter_degraded_answers_total", reason="deadline") == 0
