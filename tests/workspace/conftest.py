"""Workspace fixtures: the app with a recording fake :class:`Originator`, and managers who can be rung."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callrouter.api.app import create_app
from callrouter.api.click_to_call import Originator
from callrouter.api.security import issue_access_token
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.models import Counterparty, Manager, ManagerRole


@dataclass
class FakeOriginator:
    """Records every Originate; raises ``error`` instead when it is set."""

    calls: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    error: Exception | None = None

    async def originate(
        self, channel: str, exten: str, context: str, *, caller_id: str | None = None
    ) -> None:
        if self.error is not None:
            raise self.error
        self.calls.append((channel, exten, context, caller_id))


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(env="development", database_url=db_url)


@pytest.fixture
def originator() -> FakeOriginator:
    return FakeOriginator()


@pytest.fixture
def container(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session], originator: FakeOriginator
) -> Container:
    originators: dict[str, Originator] = {settings.pbx_name: originator}
    return Container(settings=settings, engine=engine, sessions=sessions, originators=originators)


@pytest.fixture
def app(container: Container) -> FastAPI:
    return create_app(container)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging data and checking results (commit to make it visible to the app)."""
    with sessions() as s:
        yield s


def add_manager(
    session: Session, login: str, role: ManagerRole = ManagerRole.MANAGER, **fields: object
) -> Manager:
    manager = Manager(login=login, role=role, **{"name": login.title(), **fields})
    session.add(manager)
    session.flush()
    return manager


def add_client(session: Session, name: str, manager: Manager) -> Counterparty:
    counterparty = Counterparty(name=name, manager_id=manager.id)
    session.add(counterparty)
    session.flush()
    return counterparty


@pytest.fixture
def m1(db: Session) -> Manager:
    """The manager of trace ``i``: name "Manager m1", extension 101, phone ``Local/phone-m1@agents``."""
    manager = add_manager(db, "m1", name="Manager m1", extension="101", dial_target="Local/phone-m1@agents")
    db.commit()
    return manager


def auth(settings: Settings, who: Manager) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_access_token(settings.signing_key, who.id)}"}
