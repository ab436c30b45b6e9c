"""A manager's PBX (the one their phone is on, where click-to-call rings it): stored, and only a
configured one."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from callrouter.settings import AmiPbxSettings, Settings
from crm_core.models import Manager
from tests.api.conftest import Staff

BRANCH = AmiPbxSettings.model_validate(
    {"name": "branch", "host": "127.0.0.1", "username": "bridge", "secret": "bridge-secret"}
)


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Two PBXs: the main one (``main``) and ``branch``."""
    return Settings(env="development", database_url=db_url, ami_extra_pbxs=[BRANCH])


def stored_pbx(db: Session, manager_id: int) -> str | None:
    db.expire_all()
    manager = db.get(Manager, manager_id)
    assert manager is not None
    return manager.pbx


def test_an_admin_sets_a_managers_pbx_and_it_is_stored(client: TestClient, staff: Staff, db: Session) -> None:
    admin = staff.headers(staff.admin)
    body = {"name": "Branch", "login": "branch1", "dial_target": "PJSIP/301", "pbx": "branch"}
    created = client.post("/api/v1/managers", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["pbx"] == "branch"
    assert stored_pbx(db, created.json()["id"]) == "branch"

    url = f"/api/v1/managers/{staff.manager.id}"
    assert client.get(url, headers=admin).json()["pbx"] is None  # the main PBX
    assert client.patch(url, json={"pbx": "main"}, headers=admin).json()["pbx"] == "main"
    assert stored_pbx(db, staff.manager.id) == "main"
    assert client.patch(url, json={"pbx": None}, headers=admin).json()["pbx"] is None
    assert stored_pbx(db, staff.manager.id) is None


def test_an_unknown_pbx_is_refused(client: TestClient, staff: Staff, db: Session) -> None:
    admin = staff.headers(staff.admin)
    body = {"name": "Nowhere", "login": "nowhere", "pbx": "nowhere"}
    created = client.post("/api/v1/managers", json=body, headers=admin)
    assert created.status_code == 422
    assert created.json()["error"] == "unknown-pbx"
    assert created.json()["detail"] == {"field": "pbx", "pbx": "nowhere", "configured": ["main", "branch"]}
    listed = client.get("/api/v1/managers", params={"limit": 100}, headers=admin).json()["items"]
    assert "nowhere" not in {m["login"] for m in listed}

    url = f"/api/v1/managers/{staff.manager.id}"
    client.patch(url, json={"pbx": "branch"}, headers=admin)
    refused = client.patch(
        url, json={"pbx": "twilio"}, headers=admin
    )  # reserved for Twilio, never a PBX here
    assert (refused.status_code, refused.json()["error"]) == (422, "unknown-pbx")
    assert stored_pbx(db, staff.manager.id) == "branch"


def test_a_manager_cannot_move_their_own_phone_to_another_pbx(client: TestClient, staff: Staff) -> None:
    url = f"/api/v1/managers/{staff.manager.id}"
    own = client.patch(url, json={"pbx": "branch"}, headers=staff.headers(staff.manager))
    assert (own.status_code, own.json()["error"]) == (403, "field-not-writable")
    by_controller = client.patch(url, json={"pbx": "branch"}, headers=staff.headers(staff.controller))
    assert by_controller.json()["pbx"] == "branch"  # like the dial target, the team's supervisor sets it
