"""Login, access and API tokens: expired, revoked and forged tokens are refused; login is rate-limited."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from callrouter.api.security import issue_access_token
from crm_core.models import Manager
from crm_core.models.auth import AuditEntry
from crm_core.services.passwords import hash_password
from tests.api.conftest import PASSWORD, Staff


def _set_password(db: Session, manager: Manager) -> None:
    db.get(Manager, manager.id).password_hash = hash_password(PASSWORD)  # type: ignore[union-attr]
    db.commit()


def test_login_issues_a_token_that_identifies_the_user(client: TestClient, staff: Staff, db: Session) -> None:
    _set_password(db, staff.manager)
    answer = client.post("/api/v1/auth/login", json={"login": "manager", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["login"] == "manager"
    assert me.json()["role"] == "manager"


def test_wrong_password_and_unknown_login_look_the_same(
    client: TestClient, staff: Staff, db: Session
) -> None:
    _set_password(db, staff.manager)
    wrong = client.post("/api/v1/auth/login", json={"login": "manager", "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"login": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    expected = {"error": "invalid-credentials", "detail": "login or password is wrong"}
    assert (
        wrong.json() | {"request_id": None}
        == unknown.json() | {"request_id": None}
        == expected | {"request_id": None}
    )
    assert wrong.json()["request_id"] != unknown.json()["request_id"]


def test_login_is_rate_limited_per_login_and_address(
    client: TestClient, app: FastAPI, staff: Staff, db: Session
) -> None:
    _set_password(db, staff.manager)
    limit = app.state.login_limiter.limits.per_login_and_address
    for _ in range(limit):
        assert (
            client.post("/api/v1/auth/login", json={"login": "manager", "password": "x"}).status_code == 401
        )
    locked = client.post("/api/v1/auth/login", json={"login": "manager", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["error"] == "too-many-login-attempts"
    assert int(locked.headers["Retry-After"]) > 0
    _set_password(db, staff.other)
    assert client.post("/api/v1/auth/login", json={"login": "other", "password": PASSWORD}).status_code == 200


def test_missing_expired_and_forged_tokens_are_refused(client: TestClient, staff: Staff) -> None:
    assert client.get("/api/v1/auth/me").json()["error"] == "not-authenticated"
    expired = issue_access_token(staff.signing_key, staff.admin.id, ttl=timedelta(seconds=-1))
    answer = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert (answer.status_code, answer.json()["error"]) == (401, "token-expired")
    forged = issue_access_token("another-key-of-sufficient-length", staff.admin.id)
    answer = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid-token")


def test_deactivated_user_token_is_refused(client: TestClient, staff: Staff, db: Session) -> None:
    headers = staff.headers(staff.manager)
    db.get(Manager, staff.manager.id).active = False  # type: ignore[union-attr]
    db.commit()
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_api_token_works_until_revoked(client: TestClient, staff: Staff, db: Session) -> None:
    issued = client.post("/api/v1/auth/api-tokens", json={"name": "1C"}, headers=staff.headers(staff.admin))
    assert issued.status_code == 201, issued.text
    secret = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert client.get("/api/v1/auth/me", headers=secret).json()["login"] == "admin"
    revoke = client.delete(
        f"/api/v1/auth/api-tokens/{issued.json()['id']}", headers=staff.headers(staff.admin)
    )
    assert revoke.json()["revoked_at"] is not None
    assert client.get("/api/v1/auth/me", headers=secret).json()["error"] == "invalid-token"
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.entity == "api-token")).all()
    assert sorted(actions) == ["issue", "revoke"]


def test_expired_api_token_is_refused(client: TestClient, staff: Staff) -> None:
    issued = client.post(
        "/api/v1/auth/api-tokens",
        json={"name": "old", "expires_at": "2000-01-01T00:00:00Z"},
        headers=staff.headers(staff.manager),
    )
    answer = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {issued.json()['token']}"})
    assert answer.status_code == 401


def test_manager_cannot_issue_tokens_for_others_or_revoke_theirs(client: TestClient, staff: Staff) -> None:
    refused = client.post(
        "/api/v1/auth/api-tokens",
        json={"name": "steal", "manager_id": staff.admin.id},
        headers=staff.headers(staff.manager),
    )
    assert (refused.status_code, refused.json()["error"]) == (403, "field-not-writable")
    admins = client.post("/api/v1/auth/api-tokens", json={"name": "a"}, headers=staff.headers(staff.admin))
    answer = client.delete(
        f"/api/v1/auth/api-tokens/{admins.json()['id']}", headers=staff.headers(staff.manager)
    )
    assert answer.status_code == 404
