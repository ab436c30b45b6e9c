"""Changes made by any writer reach the next routing decision of every running service within a second.

The writer here is raw SQL on a connection of its own (as ``callrouter import``, a sync job or another
instance would write): only the database triggers and the change feed can tell the services.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from crm_core.db import make_engine, make_session_factory
from crm_core.models import ContactPerson, Counterparty, Manager, PhoneNumber
from routing.change_feed import FeedOptions
from routing.decision import RouteKind
from routing.service import RoutingService
from tests.routing.routing_helpers import MakeService

KNOWN, UNKNOWN = "+79001230001", "+79001230002"
PROPAGATION_S = 1.0


@pytest.fixture
def crm(fresh_db_url: str) -> Iterator[Engine]:
    """Two managers (ids 1 and 2) and a counterparty of manager 1 owning ``KNOWN``, committed."""
    engine = make_engine(fresh_db_url)
    with Session(engine) as session:
        session.add_all(
            [
                Manager(id=1, name="Ann", login="ann", dial_target="PJSIP/101"),
                Manager(id=2, name="Bob", login="bob", dial_target="PJSIP/102"),
            ]
        )
        session.flush()
        session.add(Counterparty(id=1, name="Acme", manager_id=1))
        session.flush()
        session.add(ContactPerson(id=1, counterparty_id=1, name="Dina"))
        session.add(PhoneNumber(e164=KNOWN, counterparty_id=1))
        session.commit()
    yield engine
    engine.dispose()


async def manager_of(service: RoutingService, caller: str) -> int | None:
    decision = await service.decide(caller)
    assert decision.degraded is None
    return decision.manager_id if decision.kind is RouteKind.MANAGER else None


async def seconds_until(services: list[RoutingService], caller: str, manager_id: int) -> float:
    """Seconds until every service routes ``caller`` to ``manager_id`` (asked every 20 ms, at most 5 s)."""
    started = time.monotonic()
    while time.monotonic() - started < 5:
        if all([await manager_of(s, caller) == manager_id for s in services]):
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"{caller} not routed to manager {manager_id} within 5 s")


def write(engine: Engine, sql: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql))


@pytest.mark.parametrize("with_redis", [False, True], ids=["l1", "redis"])
@pytest.mark.parametrize("preload", [False, True], ids=["lookup", "preload"])
async def test_writes_outside_the_service_reach_the_next_call_within_a_second(
    crm: Engine, make_service: MakeService, redis_url: str, with_redis: bool, preload: bool
) -> None:
    sessions = make_session_factory(crm)
    options = {"preload": preload, "feed": FeedOptions(interval_s=0.25)}
    services = [await make_service(sessions, redis_url if with_redis else None, **options) for _ in range(2)]
    for service in services:  # both cached: the known number's manager, the unknown number's absence
        assert await manager_of(service, KNOWN) == 1
        assert await manager_of(service, UNKNOWN) is None
    write(crm, "UPDATE counterparties SET manager_id = 2 WHERE id = 1")
    assert await seconds_until(services, KNOWN, 2) < PROPAGATION_S
    new_number = (
        "INSERT INTO phone_numbers (e164, contact_person_id, created_at) VALUES ('{}', 1, CURRENT_TIMESTAMP)"
    )
    write(crm, new_number.format(UNKNOWN))
    assert await seconds_until(services, UNKNOWN, 2) < PROPAGATION_S  # the negative entry is gone too
    write(crm, "UPDATE managers SET active = false WHERE id = 2")  # configuration: Bob away
    started = time.monotonic()
    while (await services[0].decide(KNOWN)).target == "PJSIP/102":
        assert time.monotonic() - started < PROPAGATION_S
        await asyncio.sleep(0.02)


async def test_redis_forgets_changes_made_while_no_service_ran(
    crm: Engine, make_service: MakeService, redis_url: str
) -> None:
    sessions = make_session_factory(crm)
    first = await make_service(sessions, redis_url)
    assert await manager_of(first, KNOWN) == 1  # now in Redis too
    await first.stop()
    write(crm, "UPDATE counterparties SET manager_id = 2 WHERE id = 1")
    second = await make_service(sessions, redis_url)  # starts after the change: Redis must not answer 1
    assert await manager_of(second, KNOWN) == 2


async def test_the_table_in_memory_is_reloaded_every_half_ttl(crm: Engine, make_service: MakeService) -> None:
    """Even a write the feed cannot see (PostgreSQL triggers off for the session) is picked up by the
    periodic reload of the table, and until then the table answers without asking the database."""
    if crm.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL can write without firing the triggers")
    write(
        crm,
        "INSERT INTO routing_settings (id, cache_ttl_s, negative_ttl_s, reject_treatment,"
        " fallback_to_controller, fallback_to_reception, updated_at)"
        " VALUES (1, 4, 4, 'hangup', true, true, CURRENT_TIMESTAMP)",
    )
    service = await make_service(make_session_factory(crm), preload=True)
    assert await manager_of(service, KNOWN) == 1
    with crm.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("UPDATE counterparties SET manager_id = 2 WHERE id = 1"))
    assert await manager_of(service, KNOWN) == 1  # the feed saw nothing: the table still says 1 ...
    assert await seconds_until([service], KNOWN, 2) < 4.5  # ... until the next reload (every 3 s; TTL 6 s)
