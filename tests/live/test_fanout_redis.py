"""Two app instances share live events through Redis pub/sub: a missed call committed through one reaches
a stream on the other, with the same ids (so Last-Event-ID works on either), and nothing is lost or
duplicated. Each instance has its own session factory, as two processes would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from callrouter.api.app import create_app
from callrouter.live.bus import RedisEventBus
from callrouter.live.hub import EventHub
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.metrics import Metrics
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from tests.api.conftest import Staff
from tests.call_tracking.helpers import trace_frames
from tests.live.sse import open_stream, serving
from tests.live.test_events_stream import CALLER, M2_TARGET, _token

pytestmark = pytest.mark.redis


def _instance(settings: Settings, connection: Connection, redis_url: str, prefix: str) -> FastAPI:
    sessions = sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    metrics = Metrics()
    bus = RedisEventBus(redis_url, EventHub(metrics), metrics, prefix=prefix)
    return create_app(
        Container(settings=settings, engine=connection.engine, sessions=sessions, metrics=metrics, live=bus)
    )


@pytest.fixture
async def two_instances(
    settings: Settings, connection: Connection, redis_url: str
) -> AsyncIterator[tuple[FastAPI, ...]]:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    apps = (
        _instance(settings, connection, redis_url, prefix),
        _instance(settings, connection, redis_url, prefix),
    )
    for app in apps:
        await app.state.container.events.start()
    yield apps
    for app in apps:
        await app.state.container.events.stop()


async def test_missed_call_on_one_instance_reaches_a_stream_on_the_other(
    two_instances: tuple[FastAPI, ...],
    staff: Staff,
    traces_dir: Path,
    unused_tcp_port_factory: object,
) -> None:
    writer, reader = two_instances
    writer_container: Container = writer.state.container
    with writer_container.sessions() as s:
        staff.manager.dial_target = M2_TARGET
        s.merge(staff.manager)
        s.commit()
    port = unused_tcp_port_factory()  # type: ignore[operator]
    async with serving(reader, port) as base:
        async with (
            open_stream(base, _token(staff, staff.manager)) as stream,
            open_stream(base, _token(staff, staff.other)) as stranger,
        ):
            sink = CallTrackingSink(writer_container.sessions, writer_container.metrics)
            for frame in trace_frames(traces_dir, "b"):
                await sink.handle("main", frame)
            event = await stream.next(timeout=2.0)
            assert (event.event, event.data["action"]) == ("missed-call", "opened")
            assert event.data["missed_call"]["caller_number"] == CALLER
            await stream.nothing_within(0.5)  # once, not once per instance
            await stranger.nothing_within(0.2)
        assert event.id is not None
        writer_ids = [d.id for d in writer_container.events.hub.recent()]
        reader_ids = [d.id for d in reader.state.container.events.hub.recent()]
        assert writer_ids == reader_ids == [int(event.id)]
        async with open_stream(
            base, _token(staff, staff.manager), last_event_id=str(int(event.id) - 1)
        ) as again:
            assert (await again.next(timeout=2.0)).id == event.id
