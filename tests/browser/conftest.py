"""A real server on a free port over a migrated SQLite file, and headless Debian Chromium driving it."""

# ruff: noqa: RUF001  (Russian texts are intended)

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from callrouter.api.app import create_app
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.db import make_engine
from crm_core.migrations import upgrade
from crm_core.models import CallRecord, Counterparty, Manager, ManagerRole, MissedCall, utcnow
from crm_core.models.enums import CallDirection, CallDisposition, MissedReason, MissedStatus
from crm_core.services.passwords import hash_password

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" / "workspace"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="run .ci/ensure-services to install chromium")


class Server:
    """The app served by uvicorn in a thread; its database reachable through ``sessions``."""

    def __init__(self, database_url: str, port: int) -> None:
        upgrade(database_url)
        self.settings = Settings(env="development", database_url=database_url, api_bind=f"127.0.0.1:{port}")
        engine = make_engine(database_url)
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self.container = Container(settings=self.settings, engine=engine, sessions=self.sessions)
        config = uvicorn.Config(create_app(self.container), host="127.0.0.1", port=port, log_config=None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def add_user(session: Session, login: str, role: ManagerRole, name: str, **fields: object) -> Manager:
    user = Manager(login=login, role=role, name=name, password_hash=hash_password(PASSWORD), **fields)
    session.add(user)
    session.flush()
    return user


def add_missed(
    session: Session, number: str, manager: Manager | None, client: Counterparty | None, age: timedelta
) -> MissedCall:
    at = utcnow() - age
    record = CallRecord(
        pbx_system="main",
        linkedid=f"{number}-{at.timestamp()}",
        direction=CallDirection.INBOUND,
        caller_number=number,
        callee_number="+74950000000",
        started_at=at,
        ended_at=at,
        disposition=CallDisposition.NO_ANSWER,
        counterparty_id=client.id if client else None,
    )
    session.add(record)
    session.flush()
    missed = MissedCall(
        call_record_id=record.id,
        caller_number=number,
        reason=MissedReason.MANAGER_NO_ANSWER,
        assigned_manager_id=manager.id if manager else None,
        counterparty_id=client.id if client else None,
        status=MissedStatus.OPEN,
        created_at=at,
        last_attempt_at=at,
    )
    session.add(missed)
    session.flush()
    return missed


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, unused_tcp_port_factory: object) -> Iterator[Server]:
    database = tmp_path_factory.mktemp("browser") / "workspace.db"
    port = unused_tcp_port_factory()  # type: ignore[operator]
    with Server(f"sqlite:///{database}", port) as running:
        with running.sessions.begin() as session:
            maria = add_user(session, "maria", ManagerRole.MANAGER, "Мария Иванова")
            ivan = add_user(session, "ivan", ManagerRole.MANAGER, "Иван Петров")
            olga = add_user(session, "olga", ManagerRole.CONTROLLER, "Ольга Контролёр")
            add_user(session, "dima", ManagerRole.DIRECTOR, "Дмитрий Директор")
            for who in (maria, ivan):
                who.controller_id = olga.id
            romashka = Counterparty(name="ООО Ромашка", manager_id=maria.id)
            vasilek = Counterparty(name="ИП Василёк", manager_id=ivan.id)
            session.add_all([romashka, vasilek])
            session.flush()
            add_missed(session, "+79161234567", maria, romashka, timedelta(minutes=95))
            add_missed(session, "+79031112233", ivan, vasilek, timedelta(minutes=12))
            add_missed(session, "+74957654321", None, None, timedelta(minutes=3))
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
