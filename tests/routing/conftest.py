"""Fixtures of the routing tests: a seeded CRM, switchable database sessions, services to build."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from callrouter.wiring import build_redis
from crm_core.metrics import Metrics
from crm_core.models import (
    ContactPerson,
    Counterparty,
    ListKind,
    ListTreatment,
    Manager,
    NumberList,
    PhoneNumber,
)
from crm_core.models.routing_config import RoutingSettings, RoutingTarget
from routing.service import RoutingOptions, RoutingService
from tests.routing.routing_helpers import FlakySessions, MakeService, World


@pytest.fixture
def world(session: Session) -> World:
    bob = Manager(name="Bob", login="bob", dial_target="PJSIP/102", ring_timeout_s=25)
    session.add(bob)
    session.flush()
    ann = Manager(name="Ann", login="ann", dial_target="PJSIP/101", ring_timeout_s=20, controller_id=bob.id)
    carl = Manager(name="Carl", login="carl", dial_target="PJSIP/103", active=False, controller_id=bob.id)
    session.add_all([ann, carl])
    session.flush()
    acme = Counterparty(name="Acme", manager_id=ann.id)
    beta = Counterparty(name="Beta", manager_id=carl.id)
    blacklist = NumberList(name="blacklist", kind=ListKind.BLACKLIST, treatment=ListTreatment.REJECT)
    hr = NumberList(
        name="candidates",
        kind=ListKind.JOB_CANDIDATES,
        treatment=ListTreatment.ROUTE,
        target="PJSIP/300",
        ring_timeout_s=40,
    )
    reception = RoutingTarget(name="reception", dial_string="PJSIP/100", ring_timeout_s=30)
    group = RoutingTarget(name="sales", dial_string="PJSIP/200", ring_timeout_s=25)
    night = RoutingTarget(name="night", dial_string="PJSIP/900", ring_timeout_s=60)
    session.add_all([acme, beta, blacklist, hr, reception, group, night])
    session.flush()
    contact = ContactPerson(counterparty_id=acme.id, name="Dina")
    session.add(contact)
    session.add(
        RoutingSettings(
            id=1, default_target_id=reception.id, group_target_id=group.id, after_hours_target_id=night.id
        )
    )
    session.flush()
    w = World(ann=ann.id, bob=bob.id, carl=carl.id, acme=acme.id, beta=beta.id)
    session.add_all(
        [
            PhoneNumber(e164=w.acme_phone, counterparty_id=acme.id),
            PhoneNumber(e164=w.contact_phone, contact_person_id=contact.id),
            PhoneNumber(e164=w.beta_phone, counterparty_id=beta.id),
            PhoneNumber(e164=w.blacklisted, number_list_id=blacklist.id),
            PhoneNumber(e164=w.candidate, number_list_id=hr.id),
            PhoneNumber(e164=w.ann_mobile, manager_id=ann.id),
        ]
    )
    session.flush()
    return w


@pytest.fixture
def flaky(sessions: sessionmaker[Session]) -> Iterator[FlakySessions]:
    factory = FlakySessions(sessions)
    yield factory
    factory.dispose()


@pytest.fixture
async def make_service() -> AsyncIterator[MakeService]:
    """Build started routing services (optionally on Redis); all are stopped after the test.

    They look numbers up (``preload=False`` unless a test asks for the table in memory), so the tests
    exercise the lookup path and its fallbacks."""
    made: list[RoutingService] = []
    clients = []

    async def make(
        sessions: Callable[[], Session],
        redis_url: str | None = None,
        metrics: Metrics | None = None,
        **options: Any,
    ) -> RoutingService:
        redis = build_redis(redis_url, 0.3) if redis_url else None
        if redis is not None:
            clients.append(redis)
        options.setdefault("preload", False)
        service = RoutingService(sessions, metrics or Metrics(), RoutingOptions(**options), redis)
        await service.start()
        made.append(service)
        return service

    yield make
    for service in made:
        await service.stop()
    for client in clients:
        await client.aclose()
