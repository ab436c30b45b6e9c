"""A real callrouter API on a free port over a migrated database, with helpers to add users and missed calls.

Used by the browser tests and by ``bench.workspace_list``.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from callrouter.api.app import create_app
from callrouter.settings import Settings
from callrouter.wiring import build_container
from crm_core.migrations import upgrade
from crm_core.models import CallRecord, Counterparty, Manager, ManagerRole, MissedCall, utcnow
from crm_core.models.enums import CallDirection, CallDisposition, MissedReason, MissedStatus
from crm_core.services.passwords import hash_password

PASSWORD = "correct horse battery"
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class Server:
    """The app served by uvicorn in a thread; its database reachable through ``sessions``."""

    def __init__(self, database_url: str, port: int) -> None:
        upgrade(database_url)
        self.settings = Settings(env="development", database_url=database_url, api_bind=f"127.0.0.1:{port}")
        self.container = build_container(self.settings)  # the production wiring
        self.sessions: sessionmaker[Session] = self.container.sessions
        config = uvicorn.Config(
            create_app(self.container), host="127.0.0.1", port=port, log_config=None, access_log=False
        )
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
