"""The routing service: normalize the caller, look the number up (L1 -> Redis -> database), resolve.

It always answers within the deadline: a source that fails or is too slow is skipped (and skipped for
``retry_after_s`` afterwards, so an outage costs one timeout, not one per call), stale cached data
answers when the database is down, and the configured default route answers when nothing is readable.
Every such degraded answer is logged and counted in ``Metrics.degraded_answers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from sqlalchemy.orm import Session

from crm_core.metrics import Metrics
from crm_core.phone_numbers import NormalizedNumber, normalize_number
from crm_core.repositories.routing import (
    NumberRow,
    RoutingConfigRow,
    load_routing_config,
)
from crm_core.repositories.routing_changes import FeedChanges
from routing.breaker import Breaker
from routing.cache import InvalidationListener, L1Cache, RedisRoutingStore
from routing.calendar import local_time
from routing.change_feed import ChangeFeedFollower, FeedOptions
from routing.database import RoutingDatabase, remaining
from routing.decision import RouteDecision, RouteKind, RouteStep
from routing.number_lookup import DATABASE, REDIS, LookupBudget, NumberLookup, Sources
from routing.resolver import resolve
from routing.snapshot import RoutingConfig

log = logging.getLogger(__name__)
T = TypeVar("T")
DEADLINE, ERROR = "deadline", "error"
WARM_UP_S = 5.0


@dataclass(frozen=True, slots=True)
class RoutingOptions:
    """Tuning of :class:`RoutingService`; ``callrouter.wiring`` fills it from ``Settings``."""

    deadline_s: float = 0.3
    region: str = "RU"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
    default_route: RouteStep = field(default_factory=lambda: RouteStep("PJSIP/reception", 30))
    key_prefix: str = "callrouter:"
    l1_max_entries: int = 200_000
    redis_share: float = 0.3
    """The part of the deadline a Redis read may take before the database is asked instead."""
    margin_share: float = 0.2
    """The part of the deadline kept free for the fallback answer and the reply to Asterisk."""
    retry_after_s: float = 1.0
    db_workers: int = 8
    """Threads (and, on PostgreSQL, connections) of the number lookups: batches in flight at once."""
    batch_size: int = 100
    """The most numbers one Redis ``MGET`` or one database query asks for."""
    preload: bool = True
    """Hold the whole number table in L1 (up to ``l1_max_entries``), loaded at start, every half TTL and
    after a change to everything: a burst of calls then needs no lookup at all."""
    feed: FeedOptions = field(default_factory=FeedOptions)
    recheck_s: float = 1.0
    """A changed number is forgotten again this long after the feed reported it: a lookup that began
    before the change and finished after the first time must not keep the old value."""
    clock: Callable[[], float] = time.monotonic
    """The clock of cache freshness (deadlines always use ``time.monotonic``)."""


class RoutingService:
    """Answers "where does this call go?" for the FastAGI server and the dry-run.

    ``sessions`` makes read-only sessions (nothing is committed); ``redis`` is optional (None: L1 only).
    Call :meth:`start` once the event loop runs (it subscribes to invalidations) and :meth:`stop` at exit.
    """

    def __init__(
        self,
        sessions: Callable[[], Session],
        metrics: Metrics,
        options: RoutingOptions | None = None,
        redis: Redis | None = None,
    ) -> None:
        self._sessions = sessions
        self._metrics = metrics
        self._opt = options or RoutingOptions()
        self._clock = self._opt.clock
        self._numbers: L1Cache[NumberRow | None] = L1Cache(self._opt.l1_max_entries, self._clock)
        self._config: RoutingConfig | None = None
        self._config_fresh_until = 0.0
        self._config_generation = 0
        self._config_lock = asyncio.Lock()
        self._next_forced_reload = 0.0
        self._store = RedisRoutingStore(redis, self._opt.key_prefix) if redis is not None else None
        self._listener = (
            InvalidationListener(self._store, self._numbers, self._expire_config) if self._store else None
        )
        self._redis_breaker = Breaker(self._opt.retry_after_s)
        self._db_breaker = Breaker(self._opt.retry_after_s)
        self._db = RoutingDatabase(sessions, self._opt.db_workers)
        self._background: set[asyncio.Task[Any]] = set()
        self._lookups = NumberLookup(
            Sources(self._numbers, self._store, self._db, self._redis_breaker, self._db_breaker),
            LookupBudget(
                redis_s=self._opt.deadline_s * self._opt.redis_share,
                batch_size=self._opt.batch_size,
                database_in_flight=self._opt.db_workers,
            ),
            self._ttl,
            self._spawn,
        )
        self._feed = ChangeFeedFollower(self._db.committed, self, self._opt.feed)
        self._preloading: asyncio.Task[None] | None = None
        self._table_loaded = asyncio.Event()

    # lifecycle ----------------------------------------------------------------------------------------

    async def start(self, wait_s: float = 1.0, *, serving: bool = True) -> None:
        """Load the configuration (so the first call is not a cold one), catch up with and follow the change
        feed, load the number table, and subscribe to invalidations; waits up to ``wait_s`` for the first
        subscription attempt (Redis may be down, the listener then keeps retrying in the background).

        ``serving=False`` (one question, as the dry-run CLI asks): neither the table nor the feed."""
        trouble: list[str] = []
        self._db.open()
        follow = serving and self._db.has_own_connections()
        if follow:  # first, so Redis forgets what changed while no instance was running
            try:
                async with asyncio.timeout(WARM_UP_S):
                    await self._feed.poll()
            except Exception as exc:
                log.warning("routing change feed not read at start", extra={"error": repr(exc)})
        if await self._current_config(time.monotonic() + WARM_UP_S, trouble) is None:
            log.warning("routing configuration not loaded at start", extra={"degraded": "+".join(trouble)})
        if self._opt.preload and serving:
            self._preloading = asyncio.create_task(self._keep_table(again=follow), name="routing-table")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(WARM_UP_S):
                    await self._table_loaded.wait()
        if follow:
            self._feed.start()
        if self._listener is None:
            return
        self._listener.start()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await self._listener.attempted.wait()

    async def stop(self) -> None:
        """Stop the listener and pending cache writes; the Redis client is closed by its owner."""
        if self._listener is not None:
            await self._listener.stop()
        await self._feed.stop()
        if self._preloading is not None:
            self._preloading.cancel()
            await asyncio.gather(self._preloading, return_exceptions=True)
        await self._lookups.close()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._db.close()

    async def redis_ok(self) -> bool:
        """True when Redis answers a PING within the deadline (True when no Redis is configured)."""
        if self._store is None:
            return True
        try:
            async with asyncio.timeout(self._opt.deadline_s):
                return bool(await self._store.redis.ping())
        except Exception:
            return False

    # the call path ------------------------------------------------------------------------------------

    async def decide(
        self,
        caller: str | None,
        dialed: str | None = None,
        at: datetime | None = None,
        *,
        linkedid: str | None = None,
    ) -> RouteDecision:
        """Where a call from ``caller`` goes at ``at`` (default: now); never raises, never late.

        ``dialed`` (the DID) is only logged: the policy is per company. A naive ``at`` is company time.
        """
        try:
            number = normalize_number(caller, self._opt.region)
            local = datetime.now(self._opt.timezone) if at is None else local_time(at, self._opt.timezone)
            now = self._clock()
            config = self._config
            if config is not None and now < self._config_fresh_until:
                e164 = number.e164
                if e164 is None:
                    return resolve(number, None, config, local)
                entry = self._numbers.get(e164)
                if entry is not None and now < entry.fresh_until and not config.lacks(entry.value):
                    return resolve(number, entry.value, config, local)
            return await self._decide_slow(number, local, linkedid, dialed)
        except Exception:
            log.exception("routing failed; default route", extra={"linkedid": linkedid, "caller": caller})
            return self._degraded(self._fallback(None, "routing error"), [ERROR], linkedid, caller, dialed)

    async def _decide_slow(
        self, number: NormalizedNumber, local: datetime, linkedid: str | None, dialed: str | None
    ) -> RouteDecision:
        trouble: list[str] = []
        started = time.monotonic()
        end = started + self._opt.deadline_s * (1 - self._opt.margin_share)
        try:  # a backstop: each source has its own, earlier timeout
            async with asyncio.timeout(self._opt.deadline_s * (1 - self._opt.margin_share / 2)):
                config = await self._current_config(end, trouble)
                row, known = None, True
                if config is not None and number.e164 is not None:
                    row, known = await self._lookups.lookup(number.e164, self._clock(), end, trouble)
                if config is not None and config.lacks(row) and self._may_force_reload():
                    self._expire_config()  # the number names a manager or list newer than the config
                    config = await self._current_config(end, trouble)
        except TimeoutError:
            trouble.append(DEADLINE)
            config = self._config
            cached = self._numbers.get(number.e164) if number.e164 else None
            row, known = (cached.value, True) if cached is not None else (None, number.e164 is None)
        if config is None or not known:
            why = "no routing configuration could be read" if config is None else "number lookup failed"
            decision = self._fallback(config, why)
        else:
            decision = resolve(number, row, config, local)
        if trouble:
            return self._degraded(decision, trouble, linkedid, number.e164 or number.raw, dialed)
        return decision

    def _may_force_reload(self) -> bool:
        """At most one forced configuration reload per ``retry_after_s`` (no reload storm)."""
        now = self._clock()
        if now < self._next_forced_reload:
            return False
        self._next_forced_reload = now + self._opt.retry_after_s
        return True

    def _fallback(self, config: RoutingConfig | None, why: str) -> RouteDecision:
        route = config.default_route if config is not None else self._opt.default_route
        return RouteDecision(RouteKind.DEFAULT, (route,), reason=f"{why}: default route")

    def _degraded(
        self,
        decision: RouteDecision,
        trouble: list[str],
        linkedid: str | None,
        caller: str | None,
        dialed: str | None,
    ) -> RouteDecision:
        label = "+".join(dict.fromkeys(trouble))
        self._metrics.degraded_answers.labels(reason=label).inc()
        log.warning(
            "degraded routing answer",
            extra={
                "linkedid": linkedid,
                "caller": caller,
                "dialed": dialed,
                "degraded": label,
                "route_kind": str(decision.kind),
                "route_target": decision.target,
            },
        )
        return dataclasses.replace(decision, degraded=label)

    # lookups ------------------------------------------------------------------------------------------

    async def _from_redis(self, coro: Coroutine[Any, Any, T], trouble: list[str]) -> T | None:
        """Run one Redis request within Redis's share of the deadline; None (and ``trouble`` noted) when
        Redis fails or is slower than that."""
        if not self._redis_breaker.allows():
            coro.close()
            trouble.append(REDIS)
            return None
        try:
            async with asyncio.timeout(self._opt.deadline_s * self._opt.redis_share):
                result = await coro
        except Exception as exc:
            self._redis_breaker.failed()
            trouble.append(REDIS)
            log.debug("redis read failed", extra={"error": repr(exc)})
            return None
        self._redis_breaker.succeeded()
        return result

    async def _from_db(
        self, end: float, trouble: list[str], fn: Callable[..., T], *args: Any
    ) -> tuple[bool, T | None]:
        if not self._db_breaker.allows():
            trouble.append(DATABASE)
            return False, None
        try:
            result = await self._db.read(remaining(end), fn, *args)
        except Exception as exc:
            self._db_breaker.failed()
            trouble.append(DATABASE)
            log.debug("database read failed", extra={"error": repr(exc)})
            return False, None
        self._db_breaker.succeeded()
        return True, result

    async def _current_config(self, end: float, trouble: list[str]) -> RoutingConfig | None:
        """The fresh configuration, loaded once for all waiting calls; the last good one when unreadable."""
        async with self._config_lock:
            if self._config is not None and self._clock() < self._config_fresh_until:
                return self._config
            generation = self._config_generation
            row: RoutingConfigRow | None = (
                await self._from_redis(self._store.get_config(), trouble) if self._store else None
            )
            from_db = row is None
            if row is None:
                ok, row = await self._from_db(end, trouble, load_routing_config)
                if not ok or row is None:
                    return self._config
            config = RoutingConfig.from_row(row, self._opt.default_route)
            self._config = config
            if generation == self._config_generation:
                self._config_fresh_until = self._clock() + config.cache_ttl_s
            if from_db and self._store is not None:
                self._spawn(self._store.set_config(row, config.cache_ttl_s))
            return config

    def _ttl(self, row: NumberRow | None) -> int:
        config = self._config
        if config is None:
            return 0
        return config.cache_ttl_s if row is not None else config.negative_ttl_s

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._quietly(coro))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    async def _quietly(coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except Exception as exc:
            log.debug("cache write failed", extra={"error": repr(exc)})

    # the whole table in memory, kept current by the change feed --------------------------------------

    async def _keep_table(self, again: bool = True) -> None:
        """Load the number table now and (``again``) every half TTL, so its entries stay fresh; what changes
        in between is forgotten through the change feed."""
        while True:
            await self._lookups.preload(self._opt.l1_max_entries)
            self._table_loaded.set()
            if not again:
                return
            config = self._config
            await asyncio.sleep(max((config.cache_ttl_s if config else WARM_UP_S) / 2, 1.0))

    async def forget(self, changes: FeedChanges) -> None:
        """Apply changes reported by the change feed to L1 and Redis (every instance does the same)."""
        if changes.everything:
            self._numbers.clear()
            self._expire_config()
            await self._in_redis(self._store.delete_all() if self._store else None)
            if self._preloading is not None:  # the table is held in memory: load it again
                self._preloading.cancel()
                self._preloading = asyncio.create_task(self._keep_table(), name="routing-table")
            return
        if changes.config:
            self._expire_config()
            await self._in_redis(self._store.delete_config() if self._store else None)
        if changes.numbers:
            keys = sorted(changes.numbers)
            await self._forget_numbers(keys)
            self._spawn(self._forget_numbers(keys, after_s=self._opt.recheck_s))

    async def _forget_numbers(self, keys: list[str], after_s: float = 0.0) -> None:
        if after_s:
            await asyncio.sleep(after_s)
        self._numbers.discard(keys)
        await self._in_redis(self._store.delete_numbers(keys) if self._store else None)

    async def _in_redis(self, coro: Coroutine[Any, Any, None] | None) -> None:
        """Run a Redis write, bounded; a failure is logged (the entries then expire by their TTL)."""
        if coro is None:
            return
        try:
            async with asyncio.timeout(max(self._opt.deadline_s, 1.0)):
                await coro
        except Exception as exc:
            log.warning("routing change not applied to Redis", extra={"error": repr(exc)})

    # invalidation -------------------------------------------------------------------------------------

    def _expire_config(self) -> None:
        self._config_generation += 1
        self._config_fresh_until = 0.0

    async def invalidate_numbers(self, e164s: Iterable[str]) -> bool:
        """Forget these numbers here, in Redis and (via pub/sub) in every instance; True when broadcast."""
        keys = list(dict.fromkeys(e164s))
        self._numbers.discard(keys)
        if self._store is None:
            return True
        store = self._store
        return await self._broadcast(store.delete_numbers(keys), {"op": "numbers", "keys": keys})

    async def invalidate_config(self) -> bool:
        """Reload the routing configuration (settings, targets, holidays, managers, lists) everywhere."""
        self._expire_config()
        if self._store is None:
            return True
        return await self._broadcast(self._store.delete_config(), {"op": "config"})

    async def invalidate_all(self) -> bool:
        """Forget every cached routing entry everywhere (e.g. after a bulk import)."""
        self._numbers.clear()
        self._expire_config()
        if self._store is None:
            return True
        return await self._broadcast(self._store.delete_all(), {"op": "all"})

    async def _broadcast(self, delete: Coroutine[Any, Any, None], message: dict[str, Any]) -> bool:
        assert self._store is not None
        try:
            await delete
            await self._store.publish(message)
        except Exception as exc:
            log.error(
                "routing invalidation not broadcast; other instances keep entries until their TTL",
                extra={"invalidation": message.get("op"), "error": repr(exc)},
            )
            return False
        return True
