"""A number's owner row when L1 does not have it fresh: Redis, then the database, batched; and the whole
table loaded into L1 at once.

Concurrent misses go through :class:`~routing.batching.BatchLoader`: one ``MGET`` and one
``SELECT ... IN`` per batch, so a burst of calls costs a few round trips. A source is skipped (its breaker
opens) only when one such request fails or is slower than its share of the deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from crm_core.repositories.routing import NumberRow, load_all_numbers
from routing.batching import BatchLoader
from routing.breaker import Breaker
from routing.cache import L1Cache, RedisRoutingStore
from routing.database import RoutingDatabase, remaining

log = logging.getLogger(__name__)
T = TypeVar("T")
REDIS, DATABASE = "redis", "database"
_PRELOAD_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class LookupBudget:
    """How long one Redis request may take (a database request: what is left of its waiters' deadline),
    and how many numbers one request may ask for."""

    redis_s: float
    batch_size: int
    database_in_flight: int


@dataclass(frozen=True, slots=True)
class Sources:
    """Where rows come from: L1, Redis (optional), the database, each source with its breaker."""

    numbers: L1Cache[NumberRow | None]
    store: RedisRoutingStore | None
    db: RoutingDatabase
    redis_breaker: Breaker
    db_breaker: Breaker


class NumberLookup:
    """Looks numbers up for the routing service; ``ttl(row)`` is how long an answer stays fresh (0: do not
    cache), ``spawn`` runs a background write."""

    def __init__(
        self,
        sources: Sources,
        budget: LookupBudget,
        ttl: Callable[[NumberRow | None], int],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        self._src = sources
        self._budget = budget
        self._ttl = ttl
        self._spawn = spawn
        self._redis = (
            BatchLoader(self._redis_many, max_batch=budget.batch_size) if sources.store is not None else None
        )
        self._db = BatchLoader(
            self._db_many, max_batch=budget.batch_size, max_in_flight=budget.database_in_flight
        )

    async def close(self) -> None:
        for loader in (self._redis, self._db):
            if loader is not None:
                await loader.close()

    async def lookup(
        self, e164: str, fresh_before: float, end: float, trouble: list[str]
    ) -> tuple[NumberRow | None, bool]:
        """``(row, known)``: the owner row (None: not in the CRM); ``known`` is False when unreadable.

        An L1 entry fresh until after ``fresh_before`` answers at once; a stale one answers only when no
        source can. ``end`` (monotonic) bounds the wait: a source still silent then counts as failed."""
        cached = self._src.numbers.get(e164)
        if cached is not None and fresh_before < cached.fresh_until:
            return cached.value, True
        if self._redis is not None:
            hit = await _from(self._src.redis_breaker, REDIS, self._redis, e164, end, trouble)
            if hit is not None and hit[0][0]:
                return hit[0][1], True
        found = await _from(self._src.db_breaker, DATABASE, self._db, e164, end, trouble)
        if found is not None:
            return found[0], True
        if cached is not None:
            return cached.value, True
        return None, False

    async def preload(self, max_rows: int) -> None:
        """Load every number (up to ``max_rows``) into L1, skipping what is invalidated meanwhile."""
        numbers = self._src.numbers
        token = numbers.begin_bulk()
        try:
            rows = await self._src.db.committed(load_all_numbers, max_rows)
            ttl = self._ttl(rows[0][1]) if rows else 0
            for start in range(0, len(rows), _PRELOAD_CHUNK):  # calls are answered in between chunks
                if not ttl or not numbers.bulk_put(token, rows[start : start + _PRELOAD_CHUNK], ttl):
                    return
                await asyncio.sleep(0)
            log.info("routing table loaded", extra={"numbers": len(rows)})
        except Exception as exc:
            log.warning("routing table not preloaded; numbers are looked up", extra={"error": repr(exc)})
        finally:
            numbers.end_bulk(token)

    async def _redis_many(self, e164s: list[str], end: float) -> dict[str, tuple[bool, Any]]:
        """One ``MGET`` for a batch, within Redis's share of the deadline; the hits go to L1."""
        src = self._src
        assert src.store is not None
        generation = src.numbers.generation
        try:
            within = min(self._budget.redis_s, remaining(end))
            async with asyncio.timeout(max(within, 0.001)):
                found = await src.store.get_numbers(e164s)
        except Exception as exc:
            src.redis_breaker.failed()
            log.debug("redis read failed", extra={"error": repr(exc), "batch": len(e164s)})
            raise
        src.redis_breaker.succeeded()
        for e164, (hit, row) in found.items():
            if hit:
                src.numbers.put(e164, row, self._ttl(row), generation)
        return found

    async def _db_many(self, e164s: list[str], end: float) -> dict[str, NumberRow | None]:
        """One query for a batch, before ``end``; every answer (unknown numbers too) goes to L1 and, later,
        to Redis."""
        src = self._src
        generation = src.numbers.generation
        try:
            known = await src.db.numbers(remaining(end), e164s)
        except Exception as exc:
            src.db_breaker.failed()
            log.debug("database read failed", extra={"error": repr(exc), "batch": len(e164s)})
            raise
        src.db_breaker.succeeded()
        rows = {e164: known.get(e164) for e164 in e164s}
        entries = {e164: (row, self._ttl(row)) for e164, row in rows.items()}
        for e164, (row, ttl) in entries.items():
            src.numbers.put(e164, row, ttl, generation)
        if src.store is not None and src.redis_breaker.allows():
            self._spawn(self._store_numbers(entries, generation))
        return rows

    async def _store_numbers(self, entries: dict[str, tuple[NumberRow | None, int]], generation: int) -> None:
        src = self._src
        if src.store is not None and generation == src.numbers.generation:
            await src.store.set_numbers({k: v for k, v in entries.items() if v[1] > 0})


async def _from(
    breaker: Breaker, source: str, loader: BatchLoader[T], e164: str, end: float, trouble: list[str]
) -> tuple[T] | None:
    """``(value,)`` from ``loader``; None (and ``trouble`` noted) when the source is down or failed."""
    if breaker.allows():
        try:
            return (await loader.load(e164, end),)
        except Exception:
            pass  # the batch logged it and opened the breaker
    trouble.append(source)
    return None
