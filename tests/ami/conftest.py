"""Fixtures for AMI tests: the real traces and stand-ins that are always closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.ami.standin import AmiStandIn
from tests.ami.trace import Trace, all_traces, load_trace

StandInFactory = Callable[..., Awaitable[AmiStandIn]]


@pytest.fixture(scope="session")
def ami_traces(traces_dir: Path) -> list[Trace]:
    """Every real AMI recording, split into messages."""
    return all_traces(traces_dir)


@pytest.fixture(scope="session")
def answered_trace(traces_dir: Path) -> Trace:
    """Trace ``a``: an inbound call answered by m1."""
    return load_trace(traces_dir / "a.ami")


@pytest.fixture
async def ami_standin() -> AsyncIterator[StandInFactory]:
    """``await ami_standin(trace, ...)`` starts an :class:`AmiStandIn`; all are closed after the test."""
    started: list[AmiStandIn] = []

    async def start(*args: object, **kwargs: object) -> AmiStandIn:
        standin = await AmiStandIn(*args, **kwargs).start()  # type: ignore[arg-type]
        started.append(standin)
        return standin

    yield start
    for standin in started:
        await standin.close()
