"""The sync as the running process does it: routing follows at once; /ready, /metrics and the admin API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from callrouter.api.app import create_app
from callrouter.api.security import issue_access_token
from callrouter.onec_sync import sync_1c
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.metrics import Metrics
from crm_core.models import Manager, ManagerRole
from erp_bridge.onec import standin_data as d
from erp_bridge.onec.profiles import UT11
from erp_bridge.onec.standin import StandIn1C
from routing.decision import RouteKind
from routing.service import RoutingOptions, RoutingService
from tests.onec.conftest import LOGIN, PASSWORD, Base1C, fill


def settings_for(url: str, db_url: str) -> Settings:
    return Settings(
        env="development",
        database_url=db_url,
        onec_url=url,
        onec_username=LOGIN,
        onec_password=PASSWORD,
        onec_profile="ut11",
    )


@asynccontextmanager
async def synced_with_routing(
    sessions: sessionmaker[Session], engine: Engine, db_url: str
) -> AsyncIterator[tuple[Base1C, RoutingService, Container]]:
    """A UT 11 stand-in synced once into a container whose routing service is running."""
    with StandIn1C(base="/ut11", username=LOGIN, password=PASSWORD) as server:
        base = fill(server, UT11)
        routing = RoutingService(sessions, Metrics(), RoutingOptions(deadline_s=5.0))
        await routing.start()
        container = Container(
            settings=settings_for(server.url, db_url), engine=engine, sessions=sessions, routing=routing
        )
        try:
            await sync_1c(container)
            yield base, routing, container
        finally:
            await routing.stop()


async def test_reassignment_reaches_the_next_call_through_the_routing_cache(
    sessions: sessionmaker[Session], engine: Engine, db_url: str
) -> None:
    async with synced_with_routing(sessions, engine, db_url) as (base, routing, container):
        with sessions() as s:
            for manager in s.scalars(select(Manager)):
                manager.dial_target = f"PJSIP/{manager.name.split()[0]}"
            s.commit()
        await routing.invalidate_config()
        first = await routing.decide("+78431234567")
        assert [step.target for step in first.steps][:1] == ["PJSIP/Иванов"]
        d.touch(base.clients["romashka"])["ОсновнойМенеджер_Key"] = base.users["petrov"]["Ref_Key"]
        await sync_1c(container)
        second = await routing.decide("+78431234567")
        assert [step.target for step in second.steps][:1] == ["PJSIP/Петров"]
        metrics = container.metrics.registry
        assert (
            metrics.get_sample_value("callrouter_sync_runs_total", {"source": "1c", "result": "completed"})
            == 2
        )
        assert (
            metrics.get_sample_value(
                "callrouter_sync_last_objects", {"source": "1c", "kind": "clients", "outcome": "updated"}
            )
            == 1
        )


async def test_ready_and_admin_api_show_the_last_run(
    sessions: sessionmaker[Session], engine: Engine, db_url: str
) -> None:
    with StandIn1C(base="/ut11", username=LOGIN, password=PASSWORD) as server:
        fill(server, UT11)
        settings = settings_for(server.url, db_url)
        container = Container(settings=settings, engine=engine, sessions=sessions)
        await sync_1c(container)
        with sessions() as s:
            admin = Manager(name="Admin", login="admin", role=ManagerRole.ADMIN)
            s.add(admin)
            s.commit()
        with TestClient(create_app(container)) as client:
            ready = client.get("/ready").json()
            assert ready["checks"]["onec"]["last_run"]["status"] == "completed"
            assert ready["checks"]["onec"]["last_run"]["kind"] == "full"  # the first run
            token = issue_access_token(settings.signing_key, admin.id)
            status = client.get("/api/v1/sync/1c", headers={"Authorization": f"Bearer {token}"}).json()
            last = status["last_run"]
            assert last["counts"]["clients"]["created"] == 2 and last["duration_s"] >= 0
            assert last["kind"] == "full"
            assert any("unreadable phone" in p for p in last["problems"])
            assert "callrouter_sync_runs_total" in client.get("/metrics").text
            assert client.get("/api/v1/sync/1c").status_code == 401


async def test_a_phone_removed_in_1c_stops_ringing_the_manager_on_the_next_call(
    sessions: sessionmaker[Session], engine: Engine, db_url: str
) -> None:
    async with synced_with_routing(sessions, engine, db_url) as (base, routing, container):
        first = await routing.decide("+79120001122")  # Василёк's number: a known client
        assert first.counterparty_id is not None and first.kind != RouteKind.UNKNOWN
        d.touch(base.clients["vasilek"])["КонтактнаяИнформация"] = d.contact_info()
        await sync_1c(container)
        second = await routing.decide("+79120001122")
        assert second.counterparty_id is None and second.kind == RouteKind.UNKNOWN
