"""The event hub (replay, resync, overflow, scoping), publishing only after commit, and the Redis bus's
behaviour when Redis is unreachable or a message is malformed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.orm import Session, sessionmaker

from callrouter.live.bus import RedisEventBus
from callrouter.live.hub import EventHub
from crm_core.events import Audience, DomainEvent, connect_publisher, publish_after_commit
from crm_core.metrics import Metrics
from crm_core.models import ManagerRole

MANAGER, DIRECTOR = ManagerRole.MANAGER, ManagerRole.DIRECTOR


def _event(n: int, *managers: int, roles: tuple[ManagerRole, ...] = ()) -> DomainEvent:
    return DomainEvent("missed-call", {"n": n}, Audience.of(managers, roles))


async def test_replay_is_scoped_and_a_gap_asks_for_resync() -> None:
    hub = EventHub(buffer_size=3)
    ids = [hub.deliver_local(_event(n, 7 if n % 2 else 8, roles=(DIRECTOR,))) for n in range(5)]
    assert ids == list(range(ids[0], ids[0] + 5))
    _, mine = hub.subscribe(7, MANAGER, ids[2])
    assert ([d.event.data["n"] for d in mine.events], mine.resync) == ([3], False)
    _, everything = hub.subscribe(1, DIRECTOR, ids[1])
    assert [d.event.data["n"] for d in everything.events] == [2, 3, 4]
    _, too_old = hub.subscribe(7, MANAGER, ids[0])  # 1 fell out of the buffer
    assert (too_old.events, too_old.resync) == ([], True)
    _, from_the_future = hub.subscribe(7, MANAGER, ids[-1] + 100)  # e.g. another server's ids
    assert from_the_future.resync is True
    _, current = hub.subscribe(7, MANAGER, ids[-1])
    assert (current.events, current.resync) == ([], False)


async def test_live_delivery_is_scoped_and_a_slow_stream_is_cut_off() -> None:
    hub = EventHub()
    sub, _ = hub.subscribe(7, MANAGER, None, max_queued=2)
    other, _ = hub.subscribe(8, MANAGER, None)
    for n in range(4):
        hub.deliver_local(_event(n, 7))
    await asyncio.sleep(0.01)
    received = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
    assert [d.event.data["n"] if d else None for d in received] == [0, 1, None]
    assert other.queue.empty()
    hub.unsubscribe(sub)
    hub.unsubscribe(other)
    assert hub.subscribers == 0


def test_events_leave_only_after_commit(sessions: sessionmaker[Session]) -> None:
    published: list[DomainEvent] = []

    class Recorder:
        def publish(self, event: DomainEvent) -> None:
            published.append(event)

    connect_publisher(sessions, Recorder())
    with sessions() as session:
        publish_after_commit(session, _event(1, 7))
        session.rollback()
        assert published == []
        publish_after_commit(session, _event(2, 7))
        assert published == []
        session.commit()
    assert [e.data["n"] for e in published] == [2]


def test_unreachable_redis_drops_and_counts_without_raising() -> None:
    metrics = Metrics()
    bus = RedisEventBus("redis://127.0.0.1:1/0", EventHub(metrics), metrics, timeout_s=0.2)
    bus.publish(_event(1, 7))
    dropped = metrics.registry.get_sample_value(
        "callrouter_live_events_total", {"name": "missed-call", "result": "dropped"}
    )
    assert dropped == 1.0


@pytest.mark.parametrize(
    "raw",
    [b"x {}", b"5 not-json", b'6 {"name": "a"}', b'7 {"name":"a","data":{},"managers":[],"roles":["king"]}'],
)
def test_malformed_messages_are_ignored(raw: bytes) -> None:
    metrics = Metrics()
    hub = EventHub(metrics)
    bus = RedisEventBus("redis://127.0.0.1:1/0", hub, metrics)
    bus._receive(raw)
    assert hub.recent() == []
    assert (
        metrics.registry.get_sample_value(
            "callrouter_live_events_total", {"name": "?", "result": "malformed"}
        )
        == 1.0
    )
