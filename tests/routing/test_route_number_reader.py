"""Cold lookups on a PostgreSQL engine use the service's own autocommit pool without pre-ping: same answers,
and a server that dropped the pooled connections (a restart) costs no degraded answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import make_engine, make_session_factory
from crm_core.metrics import Metrics
from crm_core.models import Counterparty, Manager, PhoneNumber
from routing.database import READER_NAME
from routing.decision import RouteKind
from tests.routing.routing_helpers import MakeService, degraded_count


@pytest.fixture
def committed(postgres_url: str) -> Iterator[tuple[sessionmaker[Session], list[str]]]:
    """A session factory on a real PostgreSQL engine and three committed numbers of one client (removed
    afterwards)."""
    engine: Engine = make_engine(postgres_url)
    sessions = make_session_factory(engine)
    tag = uuid.uuid4().hex[:8]
    numbers = [f"+7955{int(tag, 16) % 10**6:06d}{i}" for i in range(3)]
    with sessions.begin() as session:
        manager = Manager(name=f"Reader {tag}", login=f"reader-{tag}", dial_target="PJSIP/555")
        session.add(manager)
        session.flush()
        client = Counterparty(name=f"Reader client {tag}", manager_id=manager.id)
        session.add(client)
        session.flush()
        session.add_all(PhoneNumber(e164=n, counterparty_id=client.id) for n in numbers)
        ids = (manager.id, client.id)
    try:
        yield sessions, numbers
    finally:
        with sessions.begin() as session:
            session.execute(delete(PhoneNumber).where(PhoneNumber.e164.in_(numbers)))
            session.execute(delete(Counterparty).where(Counterparty.id == ids[1]))
            session.execute(delete(Manager).where(Manager.id == ids[0]))
        engine.dispose()


def _drop_reader_connections(sessions: sessionmaker[Session]) -> int:
    """What a server restart does to the pooled cold-lookup connections."""
    with sessions.begin() as session:
        return len(
            session.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": READER_NAME},
            ).all()
        )


async def test_cold_lookups_survive_dropped_connections(
    committed: tuple[sessionmaker[Session], list[str]], make_service: MakeService
) -> None:
    sessions, numbers = committed
    metrics = Metrics()
    service = await make_service(sessions, metrics=metrics)
    first = await service.decide(numbers[0])
    assert (first.kind, first.target, first.degraded) == (RouteKind.MANAGER, "PJSIP/555", None)
    assert (await service.decide("+79550000000")).kind == RouteKind.UNKNOWN

    assert _drop_reader_connections(sessions) >= 1  # the lookups went through the service's own pool
    after = [await service.decide(n) for n in numbers[1:]]

    assert [(d.kind, d.target, d.degraded) for d in after] == [(RouteKind.MANAGER, "PJSIP/555", None)] * 2
    assert degraded_count(metrics, "database") == 0
