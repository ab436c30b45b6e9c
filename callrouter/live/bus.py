"""Publishers of committed domain events: in-process, or through Redis pub/sub to every instance.

:class:`LocalEventBus` numbers and delivers events in this process (the embedded default).
:class:`RedisEventBus` numbers each event with ``INCR`` and publishes it in one Lua script (so ids reach
every subscriber in order) on one channel; each instance listens on that channel and feeds its own
:class:`~callrouter.live.hub.EventHub`, whose buffer then holds the same ids everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

import redis
import redis.asyncio

from callrouter.live.hub import EventHub
from crm_core.events import DomainEvent
from crm_core.metrics import Metrics

log = logging.getLogger(__name__)

_PUBLISH = """
local id = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[1])
return id
"""


class EventBus(Protocol):
    """An :class:`~crm_core.events.EventPublisher` with the hub it feeds and a lifecycle."""

    hub: EventHub

    def publish(self, event: DomainEvent) -> None: ...

    async def start(self, timeout_s: float = 5.0) -> None: ...

    async def stop(self) -> None: ...


class LocalEventBus:
    """Events stay in this process."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub

    def publish(self, event: DomainEvent) -> None:
        self.hub.deliver_local(event)

    async def start(self, timeout_s: float = 5.0) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Nothing to stop."""


def parse_message(raw: bytes | str) -> tuple[int, DomainEvent]:
    """``b"<id> <json>"`` -> id and event; ``ValueError`` when malformed.

    >>> parse_message(b'7 {"name":"ringing","data":{},"managers":[3],"roles":[]}')[0]
    7
    """
    text = raw.decode() if isinstance(raw, bytes) else raw
    head, _, body = text.partition(" ")
    try:
        return int(head), DomainEvent.from_json(body)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed live event: {exc!r}") from None


class RedisEventBus:
    """Fan-out through Redis pub/sub; ``await start()`` on the loop that serves the streams."""

    def __init__(
        self,
        url: str,
        hub: EventHub,
        metrics: Metrics,
        *,
        prefix: str = "callrouter:",
        timeout_s: float = 1.0,
        reconnect_s: float = 1.0,
    ) -> None:
        self.hub = hub
        self._url = url
        self._metrics = metrics
        self._channel = f"{prefix}live-events"
        self._sequence = f"{prefix}live-events:seq"
        self._timeout_s = timeout_s
        self._reconnect_s = reconnect_s
        self._client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._script = self._client.register_script(_PUBLISH)
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    def publish(self, event: DomainEvent) -> None:
        """Number and publish ``event`` (blocking for one Redis round trip; any thread)."""
        try:
            self._script(keys=[self._sequence, self._channel], args=[event.to_json()])
        except redis.RedisError:
            self._metrics.live_events.labels(name=event.name, result="dropped").inc()
            log.warning("live event not published: Redis unavailable", extra={"event_name": event.name})
            return
        self._metrics.live_events.labels(name=event.name, result="published").inc()

    async def start(self, timeout_s: float = 5.0) -> None:
        """Listen on the channel (once); returns when subscribed or after ``timeout_s`` (trying on)."""
        if self._task is None:
            self._subscribed = asyncio.Event()
            self._task = asyncio.create_task(self._listen_forever(), name="live-events-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._subscribed.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._client.close()

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: keep the streams, resubscribe
                log.warning("live events listener lost Redis; retrying", extra={"error": repr(exc)})
            self._subscribed.clear()
            await asyncio.sleep(self._reconnect_s)

    async def _listen(self) -> None:
        client = redis.asyncio.Redis.from_url(self._url, socket_connect_timeout=self._timeout_s)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._receive(message["data"])
        finally:
            await client.aclose()

    def _receive(self, raw: bytes | str) -> None:
        try:
            event_id, event = parse_message(raw)
        except ValueError as exc:
            self._metrics.live_events.labels(name="?", result="malformed").inc()
            log.warning("malformed live event ignored", extra={"error": str(exc)})
            return
        self.hub.deliver(event_id, event)
