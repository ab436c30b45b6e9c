"""``callrouter serve`` end to end in one process.

A real AMI trace over TCP becomes a call record and a missed call, the escalation worker tells the manager and
the controller, FastAGI routes, and /ready shows the AMI link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select

from callrouter.runtime import run_services
from callrouter.settings import Settings
from callrouter.wiring import build_container
from crm_core.db import make_engine, make_session_factory
from crm_core.migrations import upgrade
from crm_core.models import CallRecord, Manager, ManagerRole, MissedCall, MissedReason
from crm_core.models.escalation import InAppNotification
from pbx_bridge.agi.client import place_request, request_block
from tests.ami.standin import AmiStandIn
from tests.ami.trace import load_trace

MISSED_LINKEDID = "1795875461.442"  # trace b: +79001234568 rings noanswer-m2, nobody answers


async def _wait_for(predicate: object, timeout: float = 15.0) -> None:
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(predicate):
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def test_serve_tracks_escalates_routes_and_reports(
    tmp_path: Path, traces_dir: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    url = f"sqlite:///{tmp_path / 'runtime.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as s, s.begin():
        controller = Manager(name="C1", login="c1", role=ManagerRole.CONTROLLER, dial_target="PJSIP/201")
        s.add(controller)
        s.flush()
        m2 = Manager(name="M2", login="m2", dial_target="Local/noanswer-m2@agents")
        m2.controller_id = controller.id
        s.add(m2)

    async with AmiStandIn(load_trace(traces_dir / "b.ami")) as pbx:
        api_port, agi_port = unused_tcp_port_factory(), unused_tcp_port_factory()
        settings = Settings(
            env="development",
            database_url=url,
            api_bind=f"127.0.0.1:{api_port}",
            agi_bind=f"127.0.0.1:{agi_port}",
            ami_host="127.0.0.1",
            ami_port=pbx.port,
            ami_username=pbx.username,
            ami_secret=pbx.secret,
            escalation_poll_interval_s=0.2,
        )
        container = build_container(settings)
        stop = asyncio.Event()
        service = asyncio.create_task(run_services(container, stop))
        try:

            def missed_and_notified() -> bool:  # the manager and the controller, each saved on its own
                with sessions() as s:
                    return len(set(s.scalars(select(InAppNotification.recipient_manager_id)))) >= 2

            await _wait_for(missed_and_notified)
            with sessions() as s:
                record = s.scalars(select(CallRecord)).one()
                missed = s.scalars(select(MissedCall)).one()
                notified = {n.recipient_manager_id for n in s.scalars(select(InAppNotification))}
            assert (record.linkedid, record.caller_number) == (MISSED_LINKEDID, "+79001234568")
            assert (missed.reason, missed.assigned_manager_id) == (MissedReason.MANAGER_NO_ANSWER, m2.id)
            assert notified == {m2.id, controller.id}

            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
                ready = (await http.get("/ready")).json()
                metrics = (await http.get("/metrics")).text
            assert ready["checks"]["ami"][0]["pbx"] == "main"
            assert ready["checks"]["ami"][0]["logged_in"] is True
            # SQLite: no election, the single instance leads every PBX
            assert ready["checks"]["ami"][0]["leader"] is True and ready["checks"]["ami_leader"] == ["main"]
            assert 'callrouter_ami_leader{pbx="main"} 1.0' in metrics

            exchange = await place_request(
                "127.0.0.1", agi_port, request_block({"network_script": "route", "callerid": "+79001234568"})
            )
            assert exchange.variables["ROUTE_KIND"] == "unknown"
        finally:
            stop.set()
            await asyncio.wait_for(service, 10)  # a clean, bounded shutdown of every service
            container.close()
            engine.dispose()
