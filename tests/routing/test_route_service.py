"""The routing service end to end: database, two-level cache, invalidation across instances, faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import redis
from sqlalchemy.orm import Session, sessionmaker

from callrouter.wiring import build_redis
from crm_core.metrics import Metrics
from crm_core.models import Counterparty, PhoneNumber
from crm_core.models.routing_config import Holiday, RoutingSettings, RoutingTarget
from crm_core.repositories.routing import numbers_of_counterparty
from routing.decision import RouteDecision, RouteKind, RouteStep
from routing.service import RoutingOptions, RoutingService
from tests.routing.routing_helpers import FlakySessions, MakeService, World, closed_port, degraded_count

DEADLINE_S = 0.3
WEDNESDAY_NOON_UTC = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 1.0) -> float:
    """Seconds until ``check`` holds; fails after ``within_s``."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within_s, "not within the time limit"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def timed(service: RoutingService, caller: str | None) -> tuple[RouteDecision, float]:
    started = time.monotonic()
    decision = await service.decide(caller, at=WEDNESDAY_NOON_UTC)
    return decision, time.monotonic() - started


async def test_every_kind_from_the_database_without_redis(
    sessions: sessionmaker[Session], world: World, make_service: MakeService
) -> None:
    service = await make_service(sessions)
    expect = {
        world.acme_phone: (RouteKind.MANAGER, "PJSIP/101"),
        world.contact_phone: (RouteKind.MANAGER, "PJSIP/101"),
        world.beta_phone: (RouteKind.FALLBACK, "PJSIP/102"),
        world.blacklisted: (RouteKind.BLACKLIST, None),
        world.candidate: (RouteKind.LIST, "PJSIP/300"),
        world.ann_mobile: (RouteKind.DEFAULT, "PJSIP/100"),
        world.stranger: (RouteKind.UNKNOWN, "PJSIP/100"),
        "anonymous": (RouteKind.UNKNOWN, "PJSIP/100"),
    }
    for caller, (kind, target) in expect.items():
        decision = await service.decide(caller, at=WEDNESDAY_NOON_UTC)
        assert (decision.kind, decision.target, decision.degraded) == (kind, target, None), caller
    written = await service.decide("8 (900) 111-00-01", at=WEDNESDAY_NOON_UTC)
    assert (written.counterparty_id, written.manager_id) == (world.acme, world.ann)
    assert [s.target for s in written.steps] == ["PJSIP/101", "PJSIP/102", "PJSIP/200", "PJSIP/100"]


async def test_business_hours_and_holidays_follow_the_company_timezone(
    session: Session, sessions: sessionmaker[Session], world: World, make_service: MakeService
) -> None:
    settings = session.get(RoutingSettings, 1)
    assert settings is not None
    settings.business_hours = {str(d): [["09:00", "18:00"]] for d in range(1, 6)}
    session.add(Holiday(day=date(2026, 3, 9), name="Holiday"))
    session.flush()
    moscow = await make_service(sessions, timezone=ZoneInfo("Europe/Moscow"))
    tokyo = await make_service(sessions, timezone=ZoneInfo("Asia/Tokyo"))
    instant = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)  # 12:30 in Moscow, 18:30 in Tokyo
    day = await moscow.decide(world.acme_phone, at=instant)
    night = await tokyo.decide(world.acme_phone, at=instant)
    assert (day.kind, day.after_hours) == (RouteKind.MANAGER, False)
    assert (night.kind, night.target, night.after_hours) == (RouteKind.FALLBACK, "PJSIP/900", True)
    holiday = await moscow.decide(world.acme_phone, at=datetime(2026, 3, 9, 12, 0))
    assert (holiday.target, holiday.after_hours) == ("PJSIP/900", True)


async def test_l1_hit_needs_neither_database_nor_redis(
    flaky: FlakySessions, world: World, make_service: MakeService, redis_url: str
) -> None:
    metrics = Metrics()
    service = await make_service(flaky, redis_url, metrics)
    first = await service.decide(world.acme_phone, at=WEDNESDAY_NOON_UTC)
    flaky.down = True
    redis.Redis.from_url(redis_url).flushdb()
    again = await service.decide(world.acme_phone, at=WEDNESDAY_NOON_UTC)
    assert again == first
    assert again.degraded is None
    assert degraded_count(metrics, "database") == 0


async def test_redis_answers_a_second_instance_when_the_database_is_down(
    flaky: FlakySessions, world: World, make_service: MakeService, redis_url: str
) -> None:
    a = await make_service(flaky, redis_url)
    b = await make_service(flaky, redis_url)
    assert (await a.decide(world.acme_phone, at=WEDNESDAY_NOON_UTC)).kind is RouteKind.MANAGER
    await asyncio.sleep(0.05)  # the Redis write happens after the answer
    flaky.down = True
    decision = await b.decide(world.acme_phone, at=WEDNESDAY_NOON_UTC)
    assert (decision.kind, decision.manager_id, decision.degraded) == (RouteKind.MANAGER, world.ann, None)


async def test_invalidation_reaches_another_instance_within_a_second(
    session: Session, sessions: sessionmaker[Session], world: World, make_service: MakeService, redis_url: str
) -> None:
    a = await make_service(sessions, redis_url)
    b = await make_service(sessions, redis_url)
    for service in (a, b):
        assert (await service.decide(world.contact_phone, at=WEDNESDAY_NOON_UTC)).manager_id == world.ann

    session.get_one(Counterparty, world.acme).manager_id = world.bob
    session.flush()
    assert await a.invalidate_numbers(numbers_of_counterparty(session, world.acme))

    async def b_sees_bob() -> bool:
        return (await b.decide(world.contact_phone, at=WEDNESDAY_NOON_UTC)).manager_id == world.bob

    assert await eventually(b_sees_bob) < 1.0

    reception = session.query(RoutingTarget).filter_by(name="reception").one()
    reception.dial_string = "PJSIP/555"
    session.flush()
    assert await a.invalidate_config()

    async def b_sees_new_reception() -> bool:
        return (await b.decide(world.stranger, at=WEDNESDAY_NOON_UTC)).target == "PJSIP/555"

    assert await eventually(b_sees_new_reception) < 1.0


async def test_unknown_numbers_are_cached_briefly_until_invalidated(
    session: Session, sessions: sessionmaker[Session], world: World, make_service: MakeService, redis_url: str
) -> None:
    service = await make_service(sessions, redis_url)
    assert (await service.decide(world.stranger, at=WEDNESDAY_NOON_UTC)).kind is RouteKind.UNKNOWN
    await asyncio.sleep(0.05)
    ttl = redis.Redis.from_url(redis_url).ttl(f"callrouter:route:n:{world.stranger}")
    assert 0 < ttl <= 30
    session.add(PhoneNumber(e164=world.stranger, counterparty_id=world.acme))
    session.flush()
    assert (await service.decide(world.stranger, at=WEDNESDAY_NOON_UTC)).kind is RouteKind.UNKNOWN
    await service.invalidate_numbers([world.stranger])
    assert (await service.decide(world.stranger, at=WEDNESDAY_NOON_UTC)).kind is RouteKind.MANAGER


async def test_invalidate_all_forgets_everything(
    session: Session, sessions: sessionmaker[Session], world: World, make_service: MakeService, redis_url: str
) -> None:
    service = await make_service(sessions, redis_url)
    await service.decide(world.stranger, at=WEDNESDAY_NOON_UTC)
    await service.decide(world.acme_phone, at=WEDNESDAY_NOON_UTC)
    await asyncio.sleep(0.05)
    assert redis.Redis.from_url(redis_url).keys("callrouter:route:*")
    assert await service.invalidate_all()
    assert not redis.Redis.from_url(redis_url).keys("callrouter:route:*")
    session.add(PhoneNumber(e164=world.stranger, counterparty_id=world.beta))
    session.flush()
    assert (await service.decide(world.stranger, at=WEDNESDAY_NOON_UTC)).kind is RouteKind.FALLBACK


async def test_redis_down_falls_back_to_the_database(
    sessions: sessionmaker[Session], world: World, make_service: MakeService
) -> None:
    metrics = Metrics()
    service = await make_service(sessions, f"redis://127.0.0.1:{closed_port()}/0", metrics)
    decision, took = await timed(service, world.acme_phone)
    assert (decision.kind, decision.manager_id, decision.degraded) == (RouteKind.MANAGER, world.ann, "redis")
    assert took < DEADLINE_S
    assert degraded_count(metrics, "redis") == 1
    assert await service.redis_ok() is False
    assert await service.invalidate_numbers([world.acme_phone]) is False


async def test_slow_redis_falls_back_to_the_database_within_the_deadline(
    sessions: sessionmaker[Session], world: World, make_service: MakeService
) -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(10)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        service = await make_service(sessions, f"redis://127.0.0.1:{port}/0")
        decision, took = await timed(service, world.acme_phone)
        assert (decision.kind, decision.degraded) == (RouteKind.MANAGER, "redis")
        assert took < DEADLINE_S
    finally:
        server.close()


async def test_database_down_answers_from_stale_cache(
    flaky: FlakySessions, world: World, make_service: MakeService
) -> None:
    clock = [0.0]
    metrics = Metrics()
    service = await make_service(flaky, None, metrics, clock=lambda: clock[0])
    fresh = await service.decide(world.acme_phone, at=WEDNESDAY_NOON_UTC)
    clock[0] += 3600  # every entry (and the configuration) is now stale
    flaky.down = True
    decision, took = await timed(service, world.acme_phone)
    assert (decision.kind, decision.steps, decision.degraded) == (fresh.kind, fresh.steps, "database")
    assert took < DEADLINE_S
    assert degraded_count(metrics, "database") == 1
    unknown = await service.decide(world.stranger, at=WEDNESDAY_NOON_UTC)
    assert (unknown.kind, unknown.target) == (RouteKind.DEFAULT, "PJSIP/100"), "last good configuration"


async def test_both_down_give_the_configured_default_route_within_the_deadline(
    flaky: FlakySessions, world: World, make_service: MakeService
) -> None:
    flaky.down = True
    metrics = Metrics()
    service = await make_service(
        flaky,
        f"redis://127.0.0.1:{closed_port()}/0",
        metrics,
        default_route=RouteStep("PJSIP/operator", 45),
    )
    decision, took = await timed(service, world.acme_phone)
    assert decision.kind is RouteKind.DEFAULT
    assert decision.steps == (RouteStep("PJSIP/operator", 45),)
    assert decision.degraded == "redis+database"
    assert took < DEADLINE_S
    assert degraded_count(metrics, "redis+database") == 1


async def test_a_hanging_database_cannot_make_the_answer_late(
    flaky: FlakySessions, world: World, make_service: MakeService
) -> None:
    flaky.delay_s = 1.0
    service = await make_service(flaky)
    decision, took = await timed(service, world.acme_phone)
    assert (decision.kind, decision.degraded) == (RouteKind.DEFAULT, "database")
    assert took < DEADLINE_S


async def test_malformed_callers_never_raise(
    sessions: sessionmaker[Session], world: World, make_service: MakeService
) -> None:
    service = await make_service(sessions)
    for caller in [None, "", "sip:anonymous@host", "\x00\xff", "+" + "9" * 500, "tel:;;;"]:
        decision = await service.decide(caller)
        assert decision.kind is RouteKind.UNKNOWN
        assert decision.steps


def test_wiring_builds_a_fail_fast_client() -> None:
    client = build_redis("redis://127.0.0.1:6379/15", 0.2)
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.2, 0.2)
    assert RoutingOptions().deadline_s == DEADLINE_S


async def test_a_manager_and_list_written_by_another_process_route_without_invalidation(
    session: Session, sessions: sessionmaker[Session], make_service: MakeService
) -> None:
    """An import or a CLI seed writes without telling the running service: a number that names a manager
    or list the loaded configuration does not know makes the service reload the configuration at once."""
    from crm_core.models import ListKind, ListTreatment, Manager, NumberList

    service = await make_service(sessions)
    assert (await service.decide("+79005550001", at=WEDNESDAY_NOON_UTC)).kind is RouteKind.UNKNOWN
    newcomer = Manager(name="New", login="new-manager", dial_target="PJSIP/777")
    hr = NumberList(
        name="HR new", kind=ListKind.JOB_CANDIDATES, treatment=ListTreatment.ROUTE, target="PJSIP/778"
    )
    session.add_all([newcomer, hr])
    session.flush()
    client = Counterparty(name="Imported", manager_id=newcomer.id)
    session.add(client)
    session.flush()
    session.add_all(
        [
            PhoneNumber(e164="+79005550002", counterparty_id=client.id),
            PhoneNumber(e164="+79005550003", number_list_id=hr.id),
        ]
    )
    session.flush()
    client_call = await service.decide("+79005550002", at=WEDNESDAY_NOON_UTC)
    assert (client_call.kind, client_call.target, client_call.manager_id) == (
        RouteKind.MANAGER,
        "PJSIP/777",
        newcomer.id,
    )
    candidate = await service.decide("+79005550003", at=WEDNESDAY_NOON_UTC)
    assert (candidate.kind, candidate.target, candidate.degraded) == (RouteKind.LIST, "PJSIP/778", None)
