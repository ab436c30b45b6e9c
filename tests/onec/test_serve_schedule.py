"""``serve`` with CALLROUTER_1C_URL set syncs at start and keeps routing while it does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from callrouter.runtime import run_services
from callrouter.settings import Settings
from callrouter.wiring import build_container
from crm_core.db import make_engine, make_session_factory
from crm_core.migrations import upgrade
from crm_core.models import Counterparty
from crm_core.syncing import last_run
from erp_bridge.onec.profiles import UT11
from erp_bridge.onec.standin import StandIn1C
from tests.onec.conftest import LOGIN, PASSWORD, fill


async def test_serve_runs_the_configured_1c_sync(
    tmp_path: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with StandIn1C(base="/ut11", username=LOGIN, password=PASSWORD) as server:
        fill(server, UT11)
        settings = Settings(
            env="development",
            database_url=url,
            api_bind=f"127.0.0.1:{unused_tcp_port_factory()}",
            agi_bind=f"127.0.0.1:{unused_tcp_port_factory()}",
            onec_url=server.url,
            onec_username=LOGIN,
            onec_password=PASSWORD,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run_services(build_container(settings), stop))

        def synced() -> bool:
            with sessions() as s:
                run = last_run(s, "1c")
                return run is not None and run["status"] == "completed"

        try:
            deadline = asyncio.get_running_loop().time() + 30
            while not await asyncio.to_thread(synced):
                assert asyncio.get_running_loop().time() < deadline, "no completed 1C sync in time"
                assert not task.done(), task
                await asyncio.sleep(0.2)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Counterparty)) == 2
    engine.dispose()
