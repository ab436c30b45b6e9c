"""Readiness reflects the database, Redis and every AMI link; metrics are Prometheus text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callrouter.api.app import create_app
from callrouter.settings import Settings
from callrouter.wiring import Container, build_redis
from crm_core.db import make_engine, make_session_factory


def _client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as client:
        yield client


@pytest.fixture
def container(db_url: str, engine: Engine, sessions: sessionmaker[Session]) -> Container:
    settings = Settings(env="development", database_url=db_url)
    return Container(settings=settings, engine=engine, sessions=sessions)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    yield from _client(container)


def test_ready_when_everything_is_up(client: TestClient) -> None:
    body = client.get("/ready").json()
    assert body == {
        "status": "ready",
        "checks": {
            "database": "ok",
            "redis": "not_configured",
            "ami": "not_configured",
            "analytics_daily": {"at": "03:00", "last_run": None},
        },
    }


def test_database_down_is_not_ready() -> None:
    settings = Settings(env="development")
    dead = make_engine("postgresql+psycopg2://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    container = Container(settings=settings, engine=dead, sessions=make_session_factory(dead))
    for client in _client(container):
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "down"
    dead.dispose()


def _links(*states: dict[str, Any]) -> Any:
    return lambda: list(states)


def test_ami_link_down_is_degraded_and_refused_login_is_not_ready(
    container: Container, client: TestClient
) -> None:
    up = {"pbx": "main", "logged_in": True, "login_failed": False}
    down = {"pbx": "branch", "logged_in": False, "login_failed": False, "last_error": "refused"}
    refused = {"pbx": "branch", "logged_in": False, "login_failed": True}
    container.ami_links = _links(up)
    assert client.get("/ready").json()["status"] == "ready"
    container.ami_links = _links(up, down)
    response = client.get("/ready")
    assert (response.status_code, response.json()["status"]) == (200, "degraded")
    assert response.json()["checks"]["ami"][1]["last_error"] == "refused"
    container.ami_links = _links(up, refused)
    assert client.get("/ready").status_code == 503


async def test_redis_down_is_degraded(container: Container) -> None:
    from callrouter.wiring import routing_options
    from routing.service import RoutingService

    container.redis = build_redis("redis://127.0.0.1:1/0", 0.2)
    container.routing = RoutingService(
        container.sessions, container.metrics, routing_options(container.settings), container.redis
    )
    for client in _client(container):
        body = client.get("/ready").json()
        assert body["status"] == "degraded"
        assert body["checks"]["redis"] == "down"


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert "callrouter_ami_link_up" in response.text
