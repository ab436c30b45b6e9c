"""Every failure answers the one JSON error format with a request id: 4xx, 413, 422 on bad bytes, 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callrouter.api.app import create_app
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.db import make_engine, make_session_factory
from crm_core.models.auth import ApiToken
from crm_core.models.base import utcnow
from tests.api.conftest import Staff

COUNTERPARTIES = "/api/v1/counterparties"


def _error(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "detail", "request_id"}
    assert body["request_id"] == response.headers["X-Request-ID"]  # type: ignore[attr-defined]
    return body  # type: ignore[no-any-return]


def test_errors_carry_the_request_id_offered_or_a_fresh_one(client: TestClient) -> None:
    offered = client.get("/api/v1/auth/me", headers={"X-Request-ID": "pbx-42.a"})
    assert offered.status_code == 401
    assert _error(offered)["request_id"] == "pbx-42.a"
    odd = client.get("/api/v1/auth/me", headers={"X-Request-ID": "not plain; " + "x" * 80})
    assert _error(odd)["request_id"] not in ("", None)
    assert "not plain" not in str(_error(odd)["request_id"])
    assert _error(client.get("/no/such/page"))["error"] == "not-found"


def test_an_unhandled_failure_is_a_json_500_with_the_request_id(app: FastAPI) -> None:
    def explode() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-only/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test-only/explode", headers={"X-Request-ID": "r-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert _error(response) == {
        "error": "internal-error",
        "detail": "an unexpected error; quote the request id when reporting it",
        "request_id": "r-500",
    }


@pytest.mark.parametrize("query", ["a%00b", "%00", "x%C0%80"])
@pytest.mark.parametrize("path", [COUNTERPARTIES, "/api/v1/contacts"])
def test_a_nul_in_a_search_filter_is_a_422(client: TestClient, staff: Staff, path: str, query: str) -> None:
    response = client.get(f"{path}?q={query}", headers=staff.headers(staff.admin))
    if query == "x%C0%80":  # not UTF-8: decoded with a replacement character, an ordinary search
        assert response.status_code == 200
        return
    assert response.status_code == 422, response.text
    assert _error(response)["error"] == "unstorable-text"


@pytest.mark.parametrize("raw", [b"a\\u0000b", b"\\ud800 lone"])
def test_text_the_database_cannot_store_in_a_body_is_a_422(
    client: TestClient, staff: Staff, raw: bytes
) -> None:
    body = b'{"name": "' + raw + b'"}'
    headers = {"Content-Type": "application/json", **staff.headers(staff.admin)}
    response = client.post(COUNTERPARTIES, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert _error(response)["error"] == "validation-failed"


def test_a_body_over_the_limit_is_a_413_before_it_is_read(client: TestClient, staff: Staff) -> None:
    limit = Settings.model_fields["api_max_body_bytes"].default
    declared = client.post(
        COUNTERPARTIES, content=b"x" * (limit + 1), headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert _error(declared)["error"] == "payload-too-large"
    assert _error(declared)["detail"] == {"max_bytes": limit}

    received: list[int] = []

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        for _ in range(64):
            received.append(1)
            yield b" " * (64 * 1024)

    streamed = client.post(
        COUNTERPARTIES,
        content=chunks(),
        headers={"Content-Type": "application/json", **staff.headers(staff.admin)},
    )
    assert streamed.status_code == 413
    assert _error(streamed)["error"] == "payload-too-large"
    under = client.post(
        COUNTERPARTIES, json={"name": "OOO Small", "notes": "n" * 1000}, headers=staff.headers(staff.admin)
    )
    assert under.status_code == 201


def test_bulk_imports_have_their_own_limit(client: TestClient, staff: Staff) -> None:
    limit = Settings.model_fields["api_max_body_bytes"].default
    body = b'{"items": [' + b" " * (limit + 10) + b"]}"
    response = client.post(
        "/api/v1/shipments/bulk",
        content=body,
        headers={"Content-Type": "application/json", **staff.headers(staff.admin)},
    )
    assert response.status_code == 422  # read and validated (an empty list), not refused for its size
    assert _error(response)["error"] == "validation-failed"


def test_a_read_records_an_api_token_use_at_most_once_a_minute(
    client: TestClient, staff: Staff, db: Session
) -> None:
    issued = client.post("/api/v1/auth/api-tokens", json={"name": "1C"}, headers=staff.headers(staff.admin))
    token_id, secret = issued.json()["id"], {"Authorization": f"Bearer {issued.json()['token']}"}

    def last_used() -> object:
        db.expire_all()
        return db.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))

    assert last_used() is None
    assert client.get("/api/v1/auth/me", headers=secret).status_code == 200
    first = last_used()
    assert first is not None
    assert client.get("/api/v1/auth/me", headers=secret).status_code == 200
    assert last_used() == first  # within the minute: no write
    db.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow() - timedelta(minutes=2))
    )
    db.commit()
    assert client.get(COUNTERPARTIES, headers=secret).status_code == 200
    assert utcnow() - last_used() < timedelta(minutes=1)  # type: ignore[operator]


def test_database_down_is_a_json_503_login_included() -> None:
    settings = Settings(env="development")
    dead = make_engine("postgresql+psycopg2://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    app = create_app(Container(settings=settings, engine=dead, sessions=make_session_factory(dead)))
    with TestClient(app) as client:
        login = client.post("/api/v1/auth/login", json={"login": "admin", "password": "whatever-it-is"})
        listing = client.get(COUNTERPARTIES, headers={"Authorization": "Bearer crt_unknown"})
    for response in (login, listing):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert _error(response)["error"] == "database-unavailable"
