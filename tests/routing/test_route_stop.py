"""A routing task that is cancelled stops, even when the cancellation lands as its bounded Redis write ends.

On Python 3.11 ``asyncio.wait_for`` returns the result in that case and the cancellation is lost: the
change feed's task then polled on and the service's ``stop()`` never returned (a test run hung on it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.repositories.routing_changes import FeedChanges, FeedPosition
from routing.service import RoutingOptions, RoutingService


class GatedRedis(Redis):
    """A Redis client whose ``UNLINK`` (how the service forgets keys) ends when the test opens the gate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered = asyncio.Event()
        self.gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def unlink(self, *names: Any) -> int:  # type: ignore[override]
        self.entered.set()
        await self.gate
        return 0


@pytest.fixture
async def gated(redis_url: str) -> AsyncIterator[GatedRedis]:
    client = GatedRedis.from_url(redis_url, socket_timeout=0.3, socket_connect_timeout=0.3)
    yield client
    await client.aclose()


@pytest.mark.parametrize(
    "changes",
    [
        FeedChanges(FeedPosition(), config=True),
        FeedChanges(FeedPosition(), numbers=frozenset({"+79001230001"})),
    ],
    ids=["config", "numbers"],
)
async def test_forgetting_cancelled_as_the_redis_write_ends_is_cancelled(
    sessions: sessionmaker[Session], gated: GatedRedis, changes: FeedChanges
) -> None:
    service = RoutingService(sessions, Metrics(), RoutingOptions(preload=False), gated)
    await service.start()
    try:
        forgetting = asyncio.create_task(service.forget(changes))
        await asyncio.wait_for(gated.entered.wait(), 5)
        gated.gate.set_result(None)  # the write ends in this turn of the loop ...
        forgetting.cancel()  # ... and the stop arrives in the same turn
        with pytest.raises(asyncio.CancelledError):
            await forgetting
    finally:
        await asyncio.wait_for(service.stop(), 10)
