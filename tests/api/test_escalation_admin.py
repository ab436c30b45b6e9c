"""The escalation policy endpoints: roles, atomic replacement, audit, validation naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.models.auth import AuditEntry
from crm_core.models.escalation import EscalationPolicyStep, NotificationGroup
from crm_core.services.escalation import DEFAULT_POLICY, PolicyStep, load_policy
from tests.api.conftest import Staff

URL = "/api/v1/escalation-policy"


def step(delay: int, recipients: list[str], channels: list[str], business: bool = False) -> dict[str, Any]:
    return {
        "delay_seconds": delay,
        "business_hours_only": business,
        "recipients": recipients,
        "channels": channels,
    }


THREE_STEPS = [
    step(0, ["assigned_manager"], ["inapp"]),
    step(3600, ["assigned_manager", "controller"], ["inapp", "sms"], business=True),
    step(86_400, ["controller", "director"], ["email", "whatsapp"], business=True),
]


def test_roles(client: TestClient, staff: Staff, db: Session) -> None:
    body = {"steps": THREE_STEPS}
    for who, expected in [
        (staff.admin, 200),
        (staff.director, 200),
        (staff.controller, 403),
        (staff.manager, 403),
    ]:
        assert client.get(URL, headers=staff.headers(who)).status_code == expected, who.login
    for who in (staff.director, staff.controller, staff.manager):
        refused = client.put(URL, json=body, headers=staff.headers(who))
        assert (refused.status_code, refused.json()["error"]) == (403, "forbidden-role")
    assert load_policy(db) == DEFAULT_POLICY
    assert client.put(URL, json=body).status_code == 401


def test_default_policy_is_reported(client: TestClient, staff: Staff) -> None:
    body = client.get(URL, headers=staff.headers(staff.director)).json()
    assert body["is_default"] is True
    assert body["steps"] == [
        step(s.delay_seconds, list(s.recipients), list(s.channels), s.business_hours_only)
        for s in DEFAULT_POLICY
    ]


def test_replace_is_whole_audited_and_read_by_the_worker(
    client: TestClient, staff: Staff, db: Session
) -> None:
    admin = staff.headers(staff.admin)
    db.add(NotificationGroup(name="night shift"))
    db.commit()
    first = client.put(URL, json={"steps": THREE_STEPS}, headers=admin)
    assert first.status_code == 200, first.text
    assert first.json() == {"steps": THREE_STEPS, "is_default": False}
    assert load_policy(db)[1] == PolicyStep(3600, ("assigned_manager", "controller"), ("inapp", "sms"), True)

    shorter = [step(0, ["group:night shift", "director"], ["webhook"])]
    assert client.put(URL, json={"steps": shorter}, headers=admin).json()["steps"] == shorter
    db.expire_all()
    assert db.scalar(select(func.count(EscalationPolicyStep.id))) == 1
    assert client.get(URL, headers=admin).json() == {"steps": shorter, "is_default": False}

    entries = list(db.scalars(select(AuditEntry).where(AuditEntry.entity == "escalation-policy")))
    assert [(e.action, e.actor_manager_id) for e in entries] == [("replace", staff.admin.id)] * 2
    first_entry, second_entry = entries
    assert first_entry.before is not None and first_entry.after is not None
    assert first_entry.before["is_default"] is True and len(first_entry.before["steps"]) == 2
    assert first_entry.after["steps"][2] == THREE_STEPS[2] | {"position": 2}
    assert second_entry.before == first_entry.after
    assert second_entry.after == {"is_default": False, "steps": [shorter[0] | {"position": 0}]}


@pytest.mark.parametrize(
    ("steps", "error", "field"),
    [
        ([], "validation-failed", "body.steps"),
        ([step(0, ["boss"], ["inapp"])], "validation-failed", "body.steps.0.recipients.0"),
        ([step(0, ["controller"], ["fax"])], "validation-failed", "body.steps.0.channels.0"),
        ([step(0, [], ["inapp"])], "validation-failed", "body.steps.0.recipients"),
        ([step(0, ["controller"], ["sms", "sms"])], "validation-failed", "body.steps.0.channels"),
        ([step(-1, ["controller"], ["sms"])], "validation-failed", "body.steps.0.delay_seconds"),
        (
            [
                step(0, ["controller"], ["sms"]),
                step(60, ["director"], ["sms"]),
                step(30, ["director"], ["email"]),
            ],
            "steps-out-of-order",
            "steps.2.delay_seconds",
        ),
        (
            [step(0, ["controller"], ["sms"]), step(60, ["director", "group:nobody"], ["sms"])],
            "no-such-notification-group",
            "steps.1.recipients",
        ),
    ],
)
def test_bad_policy_names_the_field_and_keeps_the_old_one(
    client: TestClient, staff: Staff, db: Session, steps: list[dict[str, Any]], error: str, field: str
) -> None:
    admin = staff.headers(staff.admin)
    assert client.put(URL, json={"steps": THREE_STEPS}, headers=admin).status_code == 200
    response = client.put(URL, json={"steps": steps}, headers=admin)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == error
    detail = body["detail"]
    assert (detail[0]["field"] if isinstance(detail, list) else detail["field"]) == field
    db.expire_all()
    assert len(load_policy(db)) == 3
