"""Follows the database's routing change feed and tells the routing service what to forget.

Every routing service polls ``routing_changes`` (one small query every ``interval_s``) and forgets exactly
the numbers that changed, the configuration, or everything, in its L1 and in Redis. The feed is written by
database triggers, so a change reaches the next call within about one interval whoever made it; Redis
pub/sub stays the faster path for changes made through this process's API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from crm_core.repositories.routing_changes import (
    FeedChanges,
    FeedPosition,
    feed_end,
    prune_changes,
    read_changes,
)

log = logging.getLogger(__name__)
RunInDb = Callable[..., Awaitable[Any]]


class ChangeSink(Protocol):
    """What the follower tells about changes (``routing.service.RoutingService``)."""

    async def forget(self, changes: FeedChanges) -> None: ...


@dataclass(frozen=True, slots=True)
class FeedOptions:
    interval_s: float = 0.25
    max_rows: int = 1000
    """More rows than this in one poll: forget everything instead of reading them."""
    max_gap_s: float = 600.0
    """After this long without a successful poll, forget everything when the feed is back (rows may have
    been pruned meanwhile)."""
    retention: timedelta = timedelta(hours=1)
    prune_every_s: float = 60.0


class ChangeFeedFollower:
    """Polls the feed through ``run_in_db(fn, *args)`` (which runs ``fn(db, *args)`` on a fresh
    connection and commits) and hands each batch of changes to ``sink``."""

    def __init__(self, run_in_db: RunInDb, sink: ChangeSink, options: FeedOptions | None = None) -> None:
        self._db = run_in_db
        self._sink = sink
        self._opt = options or FeedOptions()
        self._position: FeedPosition | None = None
        self._last_ok = 0.0
        self._next_prune = 0.0
        self._task: asyncio.Task[None] | None = None
        self._pruning: asyncio.Task[None] | None = None
        self.polls = 0
        """Successful polls so far (tests wait on it)."""

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="routing-change-feed")

    async def stop(self) -> None:
        for task in (self._task, self._pruning):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._pruning = None

    async def poll(self) -> None:
        """One poll: read what changed since the last one and hand it to the sink.

        The first poll reads every change still in the feed: shared caches (Redis) may hold data a change
        made while no instance was running invalidates."""
        now = time.monotonic()
        if self._position is None:
            changes = await self._db(read_changes, FeedPosition(), self._opt.max_rows)
        elif now - self._last_ok > self._opt.max_gap_s:
            changes = FeedChanges(await self._db(feed_end), everything=True)
        else:
            changes = await self._db(read_changes, self._position, self._opt.max_rows)
        if changes.numbers or changes.config or changes.everything:
            await self._sink.forget(changes)
        self._position, self._last_ok = changes.position, now
        self.polls += 1
        if now >= self._next_prune and (self._pruning is None or self._pruning.done()):
            self._next_prune = now + self._opt.prune_every_s
            self._pruning = asyncio.create_task(self._prune(), name="routing-change-feed-prune")

    async def _prune(self) -> None:
        """Delete old feed rows (apart from the poll: on SQLite it may wait for a writer's lock)."""
        try:
            await self._db(prune_changes, datetime.now(UTC) - self._opt.retention)
        except Exception as exc:
            log.debug("routing change feed not pruned", extra={"error": repr(exc)})

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing:
                    log.warning("routing change feed unreadable; retrying", extra={"error": repr(exc)})
                failing = True
            else:
                if failing:
                    log.info("routing change feed readable again")
                failing = False
            await asyncio.sleep(self._opt.interval_s)
