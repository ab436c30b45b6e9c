"""API fixtures: the real app over the test's rolled-back transaction, and a staff of every role.

The app's :class:`~callrouter.wiring.Container` is built over the ``sessions`` fixture, so each request
commits into a savepoint of the test's transaction and nothing outlives the test (SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callrouter.api.app import create_app
from callrouter.api.security import issue_access_token
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.models import Counterparty, Manager, ManagerRole

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(env="development", database_url=db_url)


@pytest.fixture
def app(settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> FastAPI:
    return create_app(Container(settings=settings, engine=engine, sessions=sessions))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@dataclass
class Staff:
    """One account of every role: ``controller`` supervises ``manager``; ``other`` is nobody's."""

    admin: Manager
    director: Manager
    controller: Manager
    manager: Manager
    other: Manager
    signing_key: str

    def headers(self, who: Manager) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_access_token(self.signing_key, who.id)}"}


def add_manager(session: Session, login: str, role: ManagerRole, **fields: object) -> Manager:
    manager = Manager(name=login.title(), login=login, role=role, **fields)
    session.add(manager)
    session.flush()
    return manager


def add_counterparty(session: Session, name: str, manager: Manager | None, **fields: object) -> Counterparty:
    counterparty = Counterparty(name=name, manager_id=manager.id if manager else None, **fields)
    session.add(counterparty)
    session.flush()
    return counterparty


@pytest.fixture
def staff(sessions: sessionmaker[Session], settings: Settings) -> Staff:
    with sessions() as s:
        admin = add_manager(s, "admin", ManagerRole.ADMIN)
        director = add_manager(s, "director", ManagerRole.DIRECTOR)
        controller = add_manager(s, "controller", ManagerRole.CONTROLLER)
        manager = add_manager(s, "manager", ManagerRole.MANAGER, controller_id=controller.id)
        other = add_manager(s, "other", ManagerRole.MANAGER)
        s.commit()
    return Staff(admin, director, controller, manager, other, settings.signing_key)


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging data and checking results (commit to make it visible to the app)."""
    with sessions() as s:
        yield s
