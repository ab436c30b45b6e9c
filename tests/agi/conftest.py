"""Fixtures: a real FastAGI server on a free port, and the recorded FastAGI requests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from crm_core.metrics import Metrics
from pbx_bridge.agi.protocol import AgiRequest
from pbx_bridge.agi.server import AgiLimits, FastAgiServer
from routing.decision import RouteDecision
from tests.agi.fake_asterisk import DEFAULT, TEST_LIMITS, RunningServer, StartServer, load_trace_blocks


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """Start a real FastAGI server on a free port with a given handler; closed after the test."""
    servers: list[FastAgiServer] = []

    async def start(
        handler: Callable[[AgiRequest], Awaitable[RouteDecision]],
        *,
        deadline_s: float = 0.3,
        limits: AgiLimits = TEST_LIMITS,
    ) -> RunningServer:
        metrics = Metrics()
        server = FastAgiServer(handler, DEFAULT, metrics, deadline_s=deadline_s, limits=limits)
        await server.start("127.0.0.1", 0)
        servers.append(server)
        return RunningServer(server, metrics)

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
def trace_blocks(traces_dir: Path) -> dict[str, bytes]:
    blocks = load_trace_blocks(traces_dir)
    assert len(blocks) >= 10, f"expected the recorded FastAGI requests, found {sorted(blocks)}"
    return blocks
