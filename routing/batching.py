"""Concurrent lookups of many keys turned into few requests: coalesced per key, batched per round trip.

A burst of calls from distinct numbers must not become a queue of single reads in front of Redis or the
database (each waiting its turn for a connection while its deadline runs out). :class:`BatchLoader` gives
every key one shared future, collects the keys asked for during one event-loop turn (and while the
in-flight requests run) into one ``load_many`` call (a Redis ``MGET``, one ``SELECT ... IN``), and keeps
at most ``max_in_flight`` such calls running. The cost of a burst is then a few round trips, not one each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

V = TypeVar("V")

LoadMany = Callable[[list[str], float], Awaitable[Mapping[str, V]]]
"""``load_many(keys, end)``: the values of ``keys``, read before the monotonic time ``end``."""


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a failed future's exception retrieved (its waiter may have given up already)."""
    if not future.cancelled():
        future.exception()


class BatchLoader(Generic[V]):
    """``await loader.load(key, end)``: the value ``load_many`` returned for ``key``, or its exception.

    ``load_many(keys, end)`` must return a value for every key it was given (a missing key is a
    ``KeyError``); ``end`` is the earliest deadline among the batch's waiters. A waiter that is cancelled
    does not cancel the shared request.
    """

    def __init__(self, load_many: LoadMany[V], *, max_batch: int = 500, max_in_flight: int = 4) -> None:
        if max_batch < 1 or max_in_flight < 1:
            raise ValueError("max_batch and max_in_flight must be positive")
        self._load_many = load_many
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._futures: dict[str, asyncio.Future[V]] = {}
        self._ends: dict[str, float] = {}
        self._queue: list[str] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests = 0
        """How many ``load_many`` calls were made (for tests and benchmarks)."""

    async def load(self, key: str, end: float) -> V:
        self._ends[key] = min(end, self._ends.get(key, end))
        future = self._futures.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(_retrieve)
            self._futures[key] = future
            self._queue.append(key)
            self._schedule()
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Cancel the requests in flight (their waiters get ``CancelledError``)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        self._ends.clear()
        self._queue.clear()

    def _schedule(self) -> None:
        if not self._scheduled and self._queue and len(self._tasks) < self._max_in_flight:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._scheduled = False
        while self._queue and len(self._tasks) < self._max_in_flight:
            keys = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            end = min(self._ends.pop(key) for key in keys)
            self.requests += 1
            task = asyncio.create_task(self._run(keys, end))
            self._tasks.add(task)

    async def _run(self, keys: list[str], end: float) -> None:
        try:
            values = await self._load_many(keys, end)
        except BaseException as exc:
            for key in keys:
                future = self._futures.pop(key, None)
                if future is None or future.done():
                    continue
                if isinstance(exc, Exception):
                    future.set_exception(exc)
                else:
                    future.cancel()
            if not isinstance(exc, Exception):
                raise
        else:
            for key in keys:
                future = self._futures.pop(key, None)
                if future is None or future.done():
                    continue
                if key in values:
                    future.set_result(values[key])
                else:
                    future.set_exception(KeyError(key))
        finally:
            current = asyncio.current_task()
            if current is not None:
                self._tasks.discard(current)
            self._schedule()
