"""Notification groups: admins create and change them (audited), the escalation policy may name them, a
group in use cannot be removed, other roles cannot change them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models.auth import AuditEntry
from tests.api.conftest import Staff

POLICY = {
    "steps": [
        {"delay_seconds": 0, "recipients": ["assigned_manager"], "channels": ["inapp"]},
        {"delay_seconds": 3600, "recipients": ["group:sales-leads"], "channels": ["inapp"]},
    ]
}


def test_admin_creates_replaces_and_lists_groups(client: TestClient, staff: Staff, db: Session) -> None:
    admin = staff.headers(staff.admin)
    created = client.put(
        "/api/v1/notification-groups/sales-leads", json={"member_ids": [staff.manager.id]}, headers=admin
    )
    assert created.status_code == 200
    assert created.json() == {"name": "sales-leads", "member_ids": [staff.manager.id]}
    members = sorted([staff.manager.id, staff.other.id])
    client.put("/api/v1/notification-groups/sales-leads", json={"member_ids": members}, headers=admin)
    listed = client.get("/api/v1/notification-groups", headers=staff.headers(staff.director)).json()
    assert listed == [{"name": "sales-leads", "member_ids": members}]
    audits = db.scalars(select(AuditEntry).where(AuditEntry.entity == "notification-group")).all()
    assert [a.action for a in audits] == ["create", "update"]
    assert audits[1].before == {"name": "sales-leads", "member_ids": [staff.manager.id]}


def test_other_roles_cannot_change_groups(client: TestClient, staff: Staff) -> None:
    for who in (staff.director, staff.controller, staff.manager):
        response = client.put(
            "/api/v1/notification-groups/x", json={"member_ids": []}, headers=staff.headers(who)
        )
        assert response.status_code == 403, who.login
    assert client.get("/api/v1/notification-groups", headers=staff.headers(staff.manager)).status_code == 403


def test_unknown_member_is_refused_naming_the_field(client: TestClient, staff: Staff) -> None:
    response = client.put(
        "/api/v1/notification-groups/x", json={"member_ids": [987654]}, headers=staff.headers(staff.admin)
    )
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "member_ids"


def test_a_group_the_policy_names_cannot_be_removed(client: TestClient, staff: Staff) -> None:
    admin = staff.headers(staff.admin)
    assert client.put("/api/v1/escalation-policy", json=POLICY, headers=admin).status_code == 422
    client.put(
        "/api/v1/notification-groups/sales-leads", json={"member_ids": [staff.manager.id]}, headers=admin
    )
    assert client.put("/api/v1/escalation-policy", json=POLICY, headers=admin).status_code == 200
    in_use = client.delete("/api/v1/notification-groups/sales-leads", headers=admin)
    assert (in_use.status_code, in_use.json()["error"]) == (409, "notification-group-in-use")
    client.put("/api/v1/escalation-policy", json={"steps": POLICY["steps"][:1]}, headers=admin)
    assert client.delete("/api/v1/notification-groups/sales-leads", headers=admin).status_code == 204
    assert client.get("/api/v1/notification-groups", headers=admin).json() == []
