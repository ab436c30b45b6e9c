"""One instance's fan-out of domain events to its open streams, with a bounded replay buffer.

Events arrive with ids that grow by one (from Redis, shared by every instance; or from this hub alone).
A stream subscribes with the id of the last event it saw (``Last-Event-ID``) and first gets what it missed
from the buffer; when the buffer no longer covers the gap it is told to reload (``resync``). Delivery is
thread-safe: committed transactions publish from worker threads, streams read on the event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from crm_core.events import DomainEvent
from crm_core.metrics import Metrics
from crm_core.models import ManagerRole


@dataclass(frozen=True, slots=True)
class Delivered:
    """An event with its stream id."""

    id: int
    event: DomainEvent


@dataclass(eq=False)
class Subscription:
    """One open stream: a queue filled from any thread, read on the stream's event loop.

    More than ``max_queued`` unread events end the stream (``None`` is queued): the client reconnects with
    ``Last-Event-ID`` and catches up from the buffer instead of holding the server's memory.
    """

    manager_id: int
    role: ManagerRole
    loop: asyncio.AbstractEventLoop
    max_queued: int = 1000
    queue: asyncio.Queue[Delivered | None] = field(default_factory=asyncio.Queue)
    overflowed: bool = False

    def admits(self, event: DomainEvent) -> bool:
        return event.audience.admits(self.manager_id, self.role)

    def offer(self, item: Delivered) -> None:
        self.loop.call_soon_threadsafe(self._put, item)

    def _put(self, item: Delivered) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= self.max_queued:
            self.overflowed = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(item)


@dataclass(frozen=True, slots=True)
class Catchup:
    """What a new stream gets first: the missed events it may see, or ``resync`` when some are gone."""

    events: list[Delivered]
    resync: bool


class EventHub:
    """The buffer and the subscribers of one instance."""

    def __init__(self, metrics: Metrics | None = None, buffer_size: int = 2000) -> None:
        self._metrics = metrics or Metrics()
        self._lock = threading.Lock()
        self._buffer: deque[Delivered] = deque(maxlen=buffer_size)
        self._subscribers: set[Subscription] = set()
        # local ids start at the clock in ms, so ids keep growing across restarts of a single instance
        self._next_local = int(time.time() * 1000)
        self._newest: int | None = None

    def deliver_local(self, event: DomainEvent) -> int:
        """Number ``event`` here and deliver it (no other instance); its id."""
        with self._lock:
            event_id = self._next_local
            self._next_local += 1
            self._deliver_locked(event_id, event)
        return event_id

    def deliver(self, event_id: int, event: DomainEvent) -> None:
        """Deliver an event numbered elsewhere (ids must grow; a stale one is ignored)."""
        with self._lock:
            if self._newest is not None and event_id <= self._newest:
                return
            self._deliver_locked(event_id, event)

    def _deliver_locked(self, event_id: int, event: DomainEvent) -> None:
        item = Delivered(event_id, event)
        self._buffer.append(item)
        self._newest = event_id
        reached = 0
        for sub in self._subscribers:
            if sub.admits(event):
                sub.offer(item)
                reached += 1
        self._metrics.live_events.labels(name=event.name, result="delivered").inc(reached)

    def subscribe(
        self, manager_id: int, role: ManagerRole, last_event_id: int | None, max_queued: int = 1000
    ) -> tuple[Subscription, Catchup]:
        """Open a stream on the running loop; what it missed since ``last_event_id`` comes with it."""
        sub = Subscription(manager_id, role, asyncio.get_running_loop(), max_queued)
        with self._lock:
            self._subscribers.add(sub)
            catchup = self._catchup(sub, last_event_id)
        self._metrics.live_streams.set(len(self._subscribers))
        return sub, catchup

    def _catchup(self, sub: Subscription, last: int | None) -> Catchup:
        if last is None or last == self._newest:
            return Catchup([], False)
        oldest = self._buffer[0].id if self._buffer else None
        if oldest is None or self._newest is None or last > self._newest or last < oldest - 1:
            return Catchup([], True)
        return Catchup([d for d in self._buffer if d.id > last and sub.admits(d.event)], False)

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(sub)
        self._metrics.live_streams.set(len(self._subscribers))

    def recent(self) -> list[Delivered]:
        """The events in the replay buffer, oldest first."""
        with self._lock:
            return list(self._buffer)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)
