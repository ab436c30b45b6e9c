"""A real server on a free port over a migrated SQLite file, and headless Debian Chromium driving it."""

# ruff: noqa: RUF001  (Russian texts are intended)

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.live_server import CHROMIUM_ARGS, CHROMIUM_PATH, Server, add_missed, add_user
from crm_core.models import Counterparty, ManagerRole, PhoneNumber
from crm_core.services.escalation import PolicyStep, set_policy

CHROMIUM = Path(CHROMIUM_PATH)
# screenshots refresh the docs with `make screenshots`; otherwise they go to a temporary folder
SHOTS = Path(
    os.environ.get("CALLROUTER_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / f"callrouter-screenshots-{os.getpid()}"
)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="run .ci/ensure-services to install chromium")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory, unused_tcp_port_factory: object) -> Iterator[Server]:
    database = tmp_path_factory.mktemp("browser") / "workspace.db"
    port = unused_tcp_port_factory()  # type: ignore[operator]
    with Server(f"sqlite:///{database}", port) as running:
        with running.sessions.begin() as session:
            maria = add_user(
                session,
                "maria",
                ManagerRole.MANAGER,
                "Мария Иванова",
                extension="101",
                dial_target="PJSIP/101",
            )
            ivan = add_user(session, "ivan", ManagerRole.MANAGER, "Иван Петров")
            olga = add_user(session, "olga", ManagerRole.CONTROLLER, "Ольга Контролёр")
            add_user(session, "dima", ManagerRole.DIRECTOR, "Дмитрий Директор")
            for who in (maria, ivan):
                who.controller_id = olga.id
            romashka = Counterparty(name="ООО Ромашка", manager_id=maria.id)
            vasilek = Counterparty(name="ИП Василёк", manager_id=ivan.id)
            session.add_all([romashka, vasilek])
            session.flush()
            session.add(PhoneNumber(e164="+79161234567", counterparty_id=romashka.id))
            set_policy(  # callback due within the hour: the first escalation after 60 minutes
                session,
                [
                    PolicyStep(0, ("assigned_manager",), ("inapp",)),
                    PolicyStep(3600, ("controller",), ("inapp",)),
                ],
            )
            add_missed(session, "+79161234567", maria, romashka, timedelta(minutes=95))
            add_missed(session, "+79031112233", ivan, vasilek, timedelta(minutes=12))
            add_missed(session, "+74957654321", None, None, timedelta(minutes=3))
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Chromium for this package only: Playwright's sync API holds an event loop in this thread while it
    runs, which later asyncio tests could not start beside."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
