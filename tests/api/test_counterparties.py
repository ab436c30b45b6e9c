"""Counterparties: object-level scope per role, search by any written number, no mass assignment."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import Counterparty, PhoneNumber
from crm_core.models.auth import AuditEntry
from tests.api.conftest import Staff, add_counterparty

URL = "/api/v1/counterparties"


@pytest.fixture
def clients(db: Session, staff: Staff) -> dict[str, int]:
    """One client of ``manager`` (in controller's team) and one of ``other`` (nobody's team)."""
    mine = add_counterparty(db, "Romashka", staff.manager, tax_id="1655000001")
    theirs = add_counterparty(db, "Vasilek", staff.other, tax_id="1655000002")
    db.add(PhoneNumber(e164="+78431234567", counterparty_id=mine.id))
    db.commit()
    return {"mine": mine.id, "theirs": theirs.id}


@pytest.mark.parametrize(
    ("role", "sees_theirs"), [("manager", False), ("controller", False), ("director", True), ("admin", True)]
)
def test_each_role_sees_its_scope(
    client: TestClient, staff: Staff, clients: dict[str, int], role: str, sees_theirs: bool
) -> None:
    headers = staff.headers(getattr(staff, role))
    listed = {item["id"] for item in client.get(URL, headers=headers).json()["items"]}
    assert listed == ({clients["mine"], clients["theirs"]} if sees_theirs else {clients["mine"]})
    theirs = client.get(f"{URL}/{clients['theirs']}", headers=headers)
    if sees_theirs:
        assert theirs.json()["name"] == "Vasilek"
    else:
        assert theirs.status_code == 404
        assert theirs.json() == {
            "error": "no-such-counterparty",
            "detail": {"id": clients["theirs"]},
            "request_id": theirs.headers["X-Request-ID"],
        }
        assert "Vasilek" not in theirs.text


def test_manager_cannot_write_another_managers_client(
    client: TestClient, staff: Staff, clients: dict[str, int]
) -> None:
    headers = staff.headers(staff.manager)
    assert client.patch(f"{URL}/{clients['theirs']}", json={"notes": "x"}, headers=headers).status_code == 404


@pytest.mark.parametrize(
    "written", ["8 (843) 123-45-67", "+7 843 123 4567", "88431234567", "Romash", "1655000001"]
)
def test_search_by_name_tax_id_or_any_written_number(
    client: TestClient, staff: Staff, clients: dict[str, int], written: str
) -> None:
    found = client.get(URL, params={"q": written}, headers=staff.headers(staff.admin)).json()
    assert [item["id"] for item in found["items"]] == [clients["mine"]]
    assert found["total"] == 1


def test_manager_cannot_reassign_a_client_to_themself(
    client: TestClient, staff: Staff, clients: dict[str, int], db: Session
) -> None:
    answer = client.patch(
        f"{URL}/{clients['mine']}",
        json={"manager_id": staff.manager.id},
        headers=staff.headers(staff.manager),
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "field-not-writable"
    assert answer.json()["detail"]["fields"] == ["manager_id"]


def test_manager_creates_own_client_and_cannot_name_an_owner(client: TestClient, staff: Staff) -> None:
    headers = staff.headers(staff.manager)
    created = client.post(URL, json={"name": "Lyutik", "phones": ["8 843 765-43-21"]}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["manager_id"] == staff.manager.id
    found = client.get(URL, params={"q": "+78437654321"}, headers=headers).json()["items"]
    assert [c["id"] for c in found] == [created.json()["id"]]
    refused = client.post(URL, json={"name": "X", "manager_id": staff.other.id}, headers=headers)
    assert refused.json()["error"] == "field-not-writable"


def test_controller_assigns_only_within_team(
    client: TestClient, staff: Staff, clients: dict[str, int], db: Session
) -> None:
    headers = staff.headers(staff.controller)
    ok = client.patch(f"{URL}/{clients['mine']}", json={"manager_id": staff.controller.id}, headers=headers)
    assert ok.json()["manager_id"] == staff.controller.id
    outside = client.patch(f"{URL}/{clients['mine']}", json={"manager_id": staff.other.id}, headers=headers)
    assert (outside.status_code, outside.json()["error"]) == (404, "no-such-manager")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.entity == "counterparty")).one()
    assert (entry.before or {})["manager_id"] == staff.manager.id
    assert (entry.after or {})["manager_id"] == staff.controller.id


def test_delete_needs_director_or_admin(
    client: TestClient, staff: Staff, clients: dict[str, int], db: Session
) -> None:
    url = f"{URL}/{clients['mine']}"
    assert client.delete(url, headers=staff.headers(staff.manager)).json()["error"] == "forbidden-role"
    assert client.delete(url, headers=staff.headers(staff.director)).status_code == 204
    assert db.get(Counterparty, clients["mine"]) is None


def test_validation_errors_name_the_field(client: TestClient, staff: Staff) -> None:
    answer = client.post(URL, json={"name": "", "tax_id": "12"}, headers=staff.headers(staff.admin))
    assert answer.status_code == 422
    assert answer.json()["error"] == "validation-failed"
    assert [d["field"] for d in answer.json()["detail"]] == ["body.name"]
    bad_number = client.post(URL, json={"name": "X", "phones": ["hello"]}, headers=staff.headers(staff.admin))
    assert (bad_number.status_code, bad_number.json()["error"]) == (422, "invalid-phone-number")


def test_duplicate_tax_id_is_a_conflict(client: TestClient, staff: Staff, clients: dict[str, int]) -> None:
    answer = client.post(
        URL, json={"name": "Dup", "tax_id": "1655000001"}, headers=staff.headers(staff.admin)
    )
    assert (answer.status_code, answer.json()["error"]) == (409, "conflict")


def test_controller_pins_a_manager_against_the_1c_sync_and_a_manager_cannot(
    client: TestClient, staff: Staff, clients: dict[str, int]
) -> None:
    refused = client.patch(
        f"{URL}/{clients['mine']}", json={"manager_pinned": True}, headers=staff.headers(staff.manager)
    )
    assert refused.status_code == 403 and refused.json()["detail"]["fields"] == ["manager_pinned"]
    pinned = client.patch(
        f"{URL}/{clients['mine']}", json={"manager_pinned": True}, headers=staff.headers(staff.controller)
    )
    assert pinned.status_code == 200
    assert pinned.json()["manager_pinned"] is True and pinned.json()["archived_at"] is None
