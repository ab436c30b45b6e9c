"""Two-level cache of routing data: in-process L1 (TTL + LRU) and optional Redis L2, with invalidation
broadcast to every instance's L1 over Redis pub/sub.

L1 holds ready-to-use values (number rows, the parsed configuration), so a hit costs one dict lookup.
Entries stay in L1 past their TTL (until evicted) so they can still answer when the database is down.
Redis holds the same rows as JSON. Without Redis (the embedded default) the cache is L1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis

log = logging.getLogger(__name__)

V = TypeVar("V")
_NEGATIVE = b"-"
_SCAN_BATCH = 1000


@dataclass(slots=True)
class Entry(Generic[V]):
    """A cached value (None is a cached "unknown") and the monotonic time it stops being fresh."""

    value: V
    fresh_until: float


class L1Cache(Generic[V]):
    """A bounded in-process LRU whose entries carry a freshness deadline.

    ``generation`` grows on every invalidation; a value loaded before an invalidation is not stored
    after it (see :meth:`put`), so a slow load cannot resurrect stale data.
    """

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._clock = clock
        self._data: OrderedDict[str, Entry[V]] = OrderedDict()
        self._max = max_entries
        self.generation = 0
        self._journal: set[str] | None = None
        self._journal_cleared = False

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str) -> Entry[V] | None:
        """The entry for ``key``, fresh or stale, or None."""
        entry = self._data.get(key)
        if entry is not None:
            self._data.move_to_end(key)
        return entry

    def put(self, key: str, value: V, ttl_s: float, generation: int | None = None) -> None:
        """Store ``value`` for ``ttl_s`` seconds unless an invalidation happened since ``generation``."""
        if generation is not None and generation != self.generation:
            return
        self._data[key] = Entry(value, self._clock() + ttl_s)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    def discard(self, keys: Iterable[str]) -> None:
        self.generation += 1
        for key in keys:
            self._data.pop(key, None)
            if self._journal is not None:
                self._journal.add(key)

    def clear(self) -> None:
        self.generation += 1
        self._data.clear()
        self._journal_cleared = True

    # bulk loading: values read before an invalidation must not be stored after it ---------------------

    def begin_bulk(self) -> object:
        """Start recording invalidations for a bulk load; :meth:`bulk_put` then skips what they touched.
        Returns the load's token (a later :meth:`begin_bulk` supersedes it)."""
        self._journal, self._journal_cleared = set(), False
        return self._journal

    def bulk_put(self, token: object, items: Iterable[tuple[str, V]], ttl_s: float) -> bool:
        """Store values read after :meth:`begin_bulk` (replacing what is there), except keys invalidated
        since; False (nothing stored) once the cache was cleared or another bulk load began since."""
        journal = self._journal
        if journal is None or journal is not token or self._journal_cleared:
            return False
        fresh_until = self._clock() + ttl_s
        data = self._data
        for key, value in items:
            if key not in journal:
                data[key] = Entry(value, fresh_until)
                data.move_to_end(key)
                if len(data) > self._max:
                    data.popitem(last=False)
        return True

    def end_bulk(self, token: object) -> None:
        if self._journal is token:
            self._journal = None


class RedisRoutingStore:
    """The Redis side: number rows and the configuration row as JSON, and the invalidation channel."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self._numbers = f"{prefix}route:n:"
        self._config = f"{prefix}route:config"
        self._pattern = f"{prefix}route:*"
        self.channel = f"{prefix}route:invalidate"

    async def get_numbers(self, e164s: list[str]) -> dict[str, tuple[bool, Any]]:
        """One ``MGET``: per number ``(found, row)``; ``(True, None)`` is a cached unknown number,
        ``(False, None)`` a miss."""
        raws = await self.redis.mget([self._numbers + n for n in e164s])
        return {n: _decode(raw) for n, raw in zip(e164s, raws, strict=True)}

    async def set_numbers(self, rows: Mapping[str, tuple[Any, int]]) -> None:
        """Store ``{e164: (row, ttl_s)}`` (row None: an unknown number) in one pipelined round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for e164, (row, ttl_s) in rows.items():
                payload = _NEGATIVE if row is None else json.dumps(row, separators=(",", ":"))
                pipe.set(self._numbers + e164, payload, ex=ttl_s)
            await pipe.execute()

    async def get_config(self) -> Any:
        raw = await self.redis.get(self._config)
        return None if raw is None else json.loads(raw)

    async def set_config(self, row: Any, ttl_s: int) -> None:
        await self.redis.set(self._config, json.dumps(row, separators=(",", ":")), ex=ttl_s)

    async def delete_numbers(self, e164s: list[str]) -> None:
        if e164s:
            await self.redis.unlink(*(self._numbers + n for n in e164s))

    async def delete_config(self) -> None:
        await self.redis.unlink(self._config)

    async def delete_all(self) -> None:
        """Remove every routing key (SCAN, so Redis is never blocked)."""
        batch: list[bytes] = []
        async for key in self.redis.scan_iter(match=self._pattern, count=_SCAN_BATCH):
            batch.append(key)
            if len(batch) >= _SCAN_BATCH:
                await self.redis.unlink(*batch)
                batch = []
        if batch:
            await self.redis.unlink(*batch)

    async def publish(self, message: dict[str, Any]) -> None:
        await self.redis.publish(self.channel, json.dumps(message))


def _decode(raw: bytes | str | None) -> tuple[bool, Any]:
    if raw is None:
        return False, None
    return True, None if raw == _NEGATIVE else json.loads(raw)


class InvalidationListener:
    """Applies invalidations published by any instance to this instance's L1 caches.

    After a lost subscription the whole L1 is cleared (an invalidation may have been missed), then the
    listener resubscribes with a short backoff.
    """

    def __init__(
        self,
        store: RedisRoutingStore,
        numbers: L1Cache[Any],
        on_config: Callable[[], None],
        *,
        retry_s: float = 0.5,
    ) -> None:
        self._store = store
        self._numbers = numbers
        self._on_config = on_config
        self._retry_s = retry_s
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()
        self.attempted = asyncio.Event()
        """Set once the first subscription attempt succeeded or failed."""

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="routing-invalidation-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.subscribed.clear()

    def apply(self, message: dict[str, Any]) -> None:
        """Apply one invalidation message to the local caches."""
        op = message.get("op")
        if op == "numbers":
            self._numbers.discard(str(n) for n in message.get("keys", ()))
        elif op == "config":
            self._on_config()
        elif op == "all":
            self._numbers.clear()
            self._on_config()
        else:
            log.warning("ignoring unknown invalidation message", extra={"invalidation": message})

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("invalidation subscription lost", extra={"error": repr(exc)})
            self.attempted.set()
            if self.subscribed.is_set():
                self.subscribed.clear()
                self._numbers.clear()
                self._on_config()
            await asyncio.sleep(self._retry_s)

    async def _listen(self) -> None:
        pubsub = self._store.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._store.channel)
            self.subscribed.set()
            self.attempted.set()
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                try:
                    self.apply(json.loads(message["data"]))
                except (ValueError, TypeError, AttributeError) as exc:
                    log.warning("ignoring malformed invalidation message", extra={"error": repr(exc)})
        finally:  # bounded: after a cancellation in the middle of a read, closing may wait for a lock
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._retry_s):
                    await pubsub.aclose()
