"""Wire once: build the engine, sessions and metrics from settings and hand them to every part."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from callrouter.api.click_to_call import Originator
from callrouter.live.bus import EventBus, LocalEventBus, RedisEventBus
from callrouter.live.hub import EventHub
from callrouter.live.ringing import RingingAnnouncer
from callrouter.settings import Settings
from crm_core.db import make_engine, make_session_factory, reading
from crm_core.events import connect_publisher
from crm_core.metrics import Metrics
from routing.decision import RouteStep
from routing.service import RoutingOptions, RoutingService


@dataclass
class Container:
    """The process's shared resources, created by :func:`build_container` in the entry point."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session] | None = None  # for work that only reads (None: ``sessions``)
    metrics: Metrics = field(default_factory=Metrics)
    routing: RoutingService | None = None
    redis: Redis | None = None
    # click-to-call, by PBX name: each PBX's AMI link places the calls of the managers whose phones are on it
    originators: dict[str, Originator] = field(default_factory=dict)
    ami_links: Callable[[], Sequence[Mapping[str, Any]]] | None = None  # AMI link states; set by runtime
    live: EventBus | None = None  # live updates; in-process unless given (Redis: build_container)

    ringing: RingingAnnouncer = field(init=False)  # screen pops, for the AMI observer and Twilio

    def __post_init__(self) -> None:
        if self.live is None:
            self.live = LocalEventBus(EventHub(self.metrics))
        connect_publisher(self.sessions, self.live)
        self.ringing = RingingAnnouncer(
            self.sessions, self.live, self.metrics, region=self.settings.default_region
        )

    @property
    def events(self) -> EventBus:
        """The live-events bus (always set after construction)."""
        assert self.live is not None
        return self.live

    def database_ok(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with reading(self.engine).connect() as conn:  # a read: never waits for SQLite's write lock
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def redis_ok(self) -> bool:
        """True when Redis answers (or none is configured: the embedded default)."""
        return await self.routing.redis_ok() if self.routing is not None else True

    async def aclose(self) -> None:
        """Stop the live events, the routing service and Redis; call before :meth:`close`."""
        await self.events.stop()
        if self.routing is not None:
            await self.routing.stop()
        if self.redis is not None:
            await self.redis.aclose()

    def close(self) -> None:
        self.engine.dispose()


def routing_options(settings: Settings) -> RoutingOptions:
    """The routing service's options from settings."""
    return RoutingOptions(
        deadline_s=settings.agi_deadline_ms / 1000,
        region=settings.default_region,
        timezone=ZoneInfo(settings.company_timezone),
        default_route=RouteStep(settings.default_route, settings.default_route_timeout_s),
        key_prefix=settings.redis_key_prefix,
    )


def build_redis(url: str, timeout_s: float) -> Redis:
    """An asyncio Redis client that fails fast (no retries: the routing service falls back instead)."""
    return Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
    )


def build_container(settings: Settings) -> Container:
    """Create the process's resources from ``settings``."""
    engine = make_engine(settings.database_url, busy_timeout_s=settings.sqlite_busy_timeout_s)
    sessions = make_session_factory(engine)
    read_sessions = make_session_factory(reading(engine))
    metrics = Metrics()
    redis = build_redis(settings.redis_url, settings.agi_deadline_ms / 1000) if settings.redis_url else None
    routing = RoutingService(read_sessions, metrics, routing_options(settings), redis)
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        read_sessions=read_sessions,
        metrics=metrics,
        routing=routing,
        redis=redis,
        live=build_live_events(settings, metrics),
    )


def build_live_events(settings: Settings, metrics: Metrics) -> EventBus:
    """Redis pub/sub across instances when Redis is configured, this process alone otherwise."""
    hub = EventHub(metrics)
    if settings.redis_url:
        return RedisEventBus(settings.redis_url, hub, metrics, prefix=settings.redis_key_prefix)
    return LocalEventBus(hub)
