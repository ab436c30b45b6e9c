"""Phone numbers (normalize, move with explicit reassign, audit), lists, and counterparty-bound records."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import DealStage, NumberList, PhoneNumber
from crm_core.models.auth import AuditEntry
from crm_core.models.enums import ListKind, ListTreatment
from tests.api.conftest import Staff, add_counterparty


@pytest.fixture
def cards(db: Session, staff: Staff) -> dict[str, int]:
    mine = add_counterparty(db, "Mine", staff.manager)
    mine2 = add_counterparty(db, "Mine too", staff.manager)
    theirs = add_counterparty(db, "Theirs", staff.other)
    spam = NumberList(name="Spam", kind=ListKind.BLACKLIST, treatment=ListTreatment.REJECT)
    db.add(spam)
    db.flush()
    db.add(PhoneNumber(e164="+79005550001", counterparty_id=theirs.id))
    db.commit()
    return {"mine": mine.id, "mine2": mine2.id, "theirs": theirs.id, "spam": spam.id}


def test_number_is_stored_as_e164_and_moves_only_with_reassign(
    client: TestClient, staff: Staff, cards: dict[str, int], db: Session
) -> None:
    h = staff.headers(staff.manager)
    added = client.post(
        "/api/v1/phones", json={"number": "8 (900) 555-00-02", "counterparty_id": cards["mine"]}, headers=h
    )
    assert added.json()["e164"] == "+79005550002"
    move = {"number": "+7 900 555 00 02", "counterparty_id": cards["mine2"]}
    refused = client.post("/api/v1/phones", json=move, headers=h)
    assert (refused.status_code, refused.json()["error"]) == (409, "number-owned-elsewhere")
    moved = client.post("/api/v1/phones", json={**move, "reassign": True}, headers=h)
    assert moved.json()["counterparty_id"] == cards["mine2"]
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "move")).one()
    assert (entry.before or {})["counterparty_id"] == cards["mine"]
    assert (entry.after or {})["counterparty_id"] == cards["mine2"]
    assert entry.actor_manager_id == staff.manager.id


def test_manager_cannot_take_another_managers_number(
    client: TestClient, staff: Staff, cards: dict[str, int]
) -> None:
    body = {"number": "89005550001", "counterparty_id": cards["mine"], "reassign": True}
    answer = client.post("/api/v1/phones", json=body, headers=staff.headers(staff.manager))
    assert (answer.status_code, answer.json()["error"]) == (403, "reassign-forbidden")
    assert "Theirs" not in answer.text
    assert client.post("/api/v1/phones", json=body, headers=staff.headers(staff.director)).status_code == 200


def test_list_entries_managers_add_supervisors_remove(
    client: TestClient, staff: Staff, cards: dict[str, int], db: Session
) -> None:
    url = f"/api/v1/number-lists/{cards['spam']}/entries"
    added = client.post(
        url, json={"number": "+7 495 000-00-01", "reason": "robocalls"}, headers=staff.headers(staff.manager)
    )
    assert added.json()["note"] == "robocalls"
    phone_url = f"/api/v1/phones/{added.json()['id']}"
    assert client.delete(phone_url, headers=staff.headers(staff.manager)).json()["error"] == "forbidden-role"
    assert client.delete(phone_url, headers=staff.headers(staff.controller)).status_code == 204


def test_only_admin_defines_lists(client: TestClient, staff: Staff) -> None:
    body = {"name": "Candidates", "kind": "job_candidates", "treatment": "route", "target": "PJSIP/300"}
    assert (
        client.post("/api/v1/number-lists", json=body, headers=staff.headers(staff.director)).status_code
        == 403
    )
    created = client.post("/api/v1/number-lists", json=body, headers=staff.headers(staff.admin))
    assert created.status_code == 201, created.text
    no_target = client.post(
        "/api/v1/number-lists", json={**body, "name": "X", "target": None}, headers=staff.headers(staff.admin)
    )
    assert no_target.json()["error"] == "validation-failed"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("contacts", {"name": "Petr"}),
        ("interactions", {"kind": "call", "summary": "hi"}),
        ("deals", {"title": "Supply"}),
        ("needs", {"product": "Cement"}),
    ],
)
def test_records_follow_the_counterparty_scope(
    client: TestClient, staff: Staff, cards: dict[str, int], path: str, body: dict[str, object]
) -> None:
    url = f"/api/v1/{path}"
    mine = client.post(
        url, json={**body, "counterparty_id": cards["mine"]}, headers=staff.headers(staff.manager)
    )
    assert mine.status_code == 201, mine.text
    onto_theirs = client.post(
        url, json={**body, "counterparty_id": cards["theirs"]}, headers=staff.headers(staff.manager)
    )
    assert (onto_theirs.status_code, onto_theirs.json()["error"]) == (404, "no-such-counterparty")
    item = f"{url}/{mine.json()['id']}"
    assert client.get(item, headers=staff.headers(staff.other)).status_code == 404
    assert client.get(item, headers=staff.headers(staff.controller)).status_code == 200
    assert [i["id"] for i in client.get(url, headers=staff.headers(staff.other)).json()["items"]] == []
    assert client.delete(item, headers=staff.headers(staff.other)).status_code == 404


def test_deal_stage_history_and_no_self_assignment(
    client: TestClient, staff: Staff, cards: dict[str, int], db: Session
) -> None:
    h = staff.headers(staff.manager)
    deal = client.post(
        "/api/v1/deals", json={"counterparty_id": cards["mine"], "title": "Supply"}, headers=h
    ).json()
    assert deal["manager_id"] == staff.manager.id
    client.patch(f"/api/v1/deals/{deal['id']}", json={"stage": "won"}, headers=h)
    stages = client.get(f"/api/v1/deals/{deal['id']}/stages", headers=h).json()
    assert [s["stage"] for s in stages] == ["lead", "won"]
    assert client.get(f"/api/v1/deals/{deal['id']}", headers=h).json()["closed_at"] is not None
    grab = client.patch(f"/api/v1/deals/{deal['id']}", json={"manager_id": staff.other.id}, headers=h)
    assert grab.json()["error"] == "field-not-writable"
    assert db.scalars(select(DealStage).where(DealStage.deal_id == deal["id"])).all()


def test_shipments_bulk_import_upserts_and_is_management_only(
    client: TestClient, staff: Staff, cards: dict[str, int]
) -> None:
    row = {
        "external_id": "SH-1",
        "counterparty_id": cards["mine"],
        "shipped_on": "2026-11-20",
        "product": "Cement",
        "quantity": "10",
        "amount": "500.00",
    }
    body = {"items": [row, {**row, "external_id": "SH-2"}]}
    assert (
        client.post("/api/v1/shipments/bulk", json=body, headers=staff.headers(staff.manager)).status_code
        == 403
    )
    first = client.post("/api/v1/shipments/bulk", json=body, headers=staff.headers(staff.admin)).json()
    again = client.post(
        "/api/v1/shipments/bulk",
        json={"items": [{**row, "amount": "600.00"}]},
        headers=staff.headers(staff.admin),
    ).json()
    assert (first, again) == ({"inserted": 2, "updated": 0}, {"inserted": 0, "updated": 1})
    listed = client.get(
        "/api/v1/shipments", params={"counterparty_id": cards["mine"]}, headers=staff.headers(staff.manager)
    )
    assert sorted(s["amount"] for s in listed.json()["items"]) == ["500.00", "600.00"]


def test_managers_role_guards(client: TestClient, staff: Staff) -> None:
    own = f"/api/v1/managers/{staff.manager.id}"
    escalate = client.patch(own, json={"role": "admin"}, headers=staff.headers(staff.manager))
    assert (escalate.status_code, escalate.json()["error"]) == (403, "field-not-writable")
    assert (
        client.patch(own, json={"mobile": "+79001112233"}, headers=staff.headers(staff.manager)).status_code
        == 200
    )
    assert (
        client.get(f"/api/v1/managers/{staff.other.id}", headers=staff.headers(staff.manager)).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/managers/{staff.other.id}", headers=staff.headers(staff.controller)).status_code
        == 404
    )
    team = client.get("/api/v1/managers", headers=staff.headers(staff.controller)).json()["items"]
    assert {m["login"] for m in team} == {"controller", "manager"}
    body = {"name": "New", "login": "new", "password": "long enough pw"}
    assert (
        client.post("/api/v1/managers", json=body, headers=staff.headers(staff.director)).status_code == 403
    )
    assert client.post("/api/v1/managers", json=body, headers=staff.headers(staff.admin)).status_code == 201
    promote = client.patch(own, json={"role": "controller"}, headers=staff.headers(staff.admin))
    assert promote.json()["role"] == "controller"
