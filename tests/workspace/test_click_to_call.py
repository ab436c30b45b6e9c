"""POST /api/v1/calls/click-to-call through the real app, with a fake Originator recording the calls."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from callrouter.api.click_to_call import OriginateRefused, PbxUnavailable
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.models import Manager, ManagerRole
from crm_core.models.auth import AuditEntry
from tests.workspace.conftest import FakeOriginator, add_client, add_manager, auth

URL = "/api/v1/calls/click-to-call"


def audit_entries(db: Session) -> list[AuditEntry]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == "click-to-call")))


def test_rings_the_manager_then_dials_the_client_and_audits(
    client: TestClient, db: Session, settings: Settings, originator: FakeOriginator, m1: Manager
) -> None:
    card = add_client(db, "OOO Romashka", m1)
    db.commit()
    response = client.post(
        URL, json={"number": "8 (900) 123-45-68", "counterparty_id": card.id}, headers=auth(settings, m1)
    )
    assert response.status_code == 202, response.text
    assert response.json() == {
        "number": "+79001234568",
        "channel": "Local/phone-m1@agents",
        "counterparty_id": card.id,
    }
    # exactly the Originate of the real trace i.sent
    assert originator.calls == [
        ("Local/phone-m1@agents", "+79001234568", "from-internal", '"Manager m1" <101>')
    ]
    [entry] = audit_entries(db)
    assert (entry.actor_manager_id, entry.entity, entry.entity_id) == (m1.id, "phone-number", "+79001234568")
    assert entry.after == {
        "number": "+79001234568",
        "channel": "Local/phone-m1@agents",
        "counterparty_id": card.id,
    }
    assert entry.at is not None


def test_context_comes_from_settings(
    container: Container, client: TestClient, originator: FakeOriginator, m1: Manager
) -> None:
    container.settings = container.settings.model_copy(update={"originate_context": "callbacks"})
    response = client.post(URL, json={"number": "+7 900 123 45 68"}, headers=auth(container.settings, m1))
    assert response.status_code == 202, response.text
    assert originator.calls[0][2] == "callbacks"


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("hello", "invalid-phone-number"),
        ("123", "invalid-phone-number"),
        ("anonymous", "invalid-phone-number"),
    ],
)
def test_a_bad_number_is_422_naming_the_field(
    client: TestClient,
    db: Session,
    settings: Settings,
    originator: FakeOriginator,
    m1: Manager,
    number: str,
    error: str,
) -> None:
    response = client.post(URL, json={"number": number}, headers=auth(settings, m1))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == error
    assert body["detail"]["field"] == "number"
    assert body["detail"]["number"] == number
    assert originator.calls == []
    assert audit_entries(db) == []


def test_an_empty_number_is_a_validation_error_naming_the_field(
    client: TestClient, settings: Settings, originator: FakeOriginator, m1: Manager
) -> None:
    response = client.post(URL, json={"number": ""}, headers=auth(settings, m1))
    assert response.status_code == 422
    assert response.json()["error"] == "validation-failed"
    assert [item["field"] for item in response.json()["detail"]] == ["body.number"]
    assert originator.calls == []


def test_no_dial_target_is_409(
    client: TestClient, db: Session, settings: Settings, originator: FakeOriginator
) -> None:
    phoneless = add_manager(db, "phoneless", extension="105")
    db.commit()
    response = client.post(URL, json={"number": "+79001234568"}, headers=auth(settings, phoneless))
    assert response.status_code == 409
    assert response.json()["error"] == "no-dial-target"
    assert originator.calls == []
    assert audit_entries(db) == []


@pytest.mark.parametrize(
    ("failure", "status", "error"),
    [
        (PbxUnavailable("AMI link to main is down"), 503, "pbx-unavailable"),
        (OriginateRefused("Originate failed"), 502, "pbx-refused"),
    ],
)
def test_pbx_failures_are_mapped_never_500(
    client: TestClient,
    db: Session,
    settings: Settings,
    originator: FakeOriginator,
    m1: Manager,
    failure: Exception,
    status: int,
    error: str,
) -> None:
    originator.error = failure
    response = client.post(URL, json={"number": "+79001234568"}, headers=auth(settings, m1))
    assert response.status_code == status
    assert response.json()["error"] == error
    assert str(failure) in response.json()["detail"]
    assert audit_entries(db) == []


def test_no_originator_configured_is_503(
    container: Container, client: TestClient, db: Session, settings: Settings, m1: Manager
) -> None:
    container.originators = {}
    response = client.post(URL, json={"number": "+79001234568"}, headers=auth(settings, m1))
    assert response.status_code == 503
    assert response.json()["error"] == "pbx-unavailable"
    assert audit_entries(db) == []


@pytest.mark.parametrize("role", list(ManagerRole))
def test_every_role_may_click_to_call_and_is_audited_as_itself(
    client: TestClient, db: Session, settings: Settings, originator: FakeOriginator, role: ManagerRole
) -> None:
    caller = add_manager(db, f"user-{role}", role, dial_target=f"PJSIP/{role}", extension="200")
    db.commit()
    response = client.post(URL, json={"number": "+79001234568"}, headers=auth(settings, caller))
    assert response.status_code == 202, response.text
    assert originator.calls[0][0] == f"PJSIP/{role}"
    assert [entry.actor_manager_id for entry in audit_entries(db)] == [caller.id]


def test_anonymous_callers_are_refused(client: TestClient, originator: FakeOriginator) -> None:
    response = client.post(URL, json={"number": "+79001234568"})
    assert response.status_code == 401
    assert originator.calls == []


def test_a_card_you_cannot_see_is_404_and_nothing_rings(
    client: TestClient, db: Session, settings: Settings, originator: FakeOriginator, m1: Manager
) -> None:
    stranger = add_manager(db, "stranger")
    foreign = add_client(db, "Someone else's client", stranger)
    db.commit()
    response = client.post(
        URL, json={"number": "+79001234568", "counterparty_id": foreign.id}, headers=auth(settings, m1)
    )
    assert response.status_code == 404
    assert response.json()["error"] == "no-such-counterparty"
    assert originator.calls == []


def test_a_manager_on_another_pbx_is_rung_by_that_pbx(
    container: Container, client: TestClient, db: Session, settings: Settings, originator: FakeOriginator
) -> None:
    branch = FakeOriginator()
    container.originators["branch"] = branch
    on_branch = add_manager(db, "b1", dial_target="PJSIP/301", pbx="branch")
    on_main = add_manager(db, "a1", dial_target="PJSIP/101")
    db.commit()
    for who in (on_branch, on_main):
        response = client.post(URL, json={"number": "+79001234568"}, headers=auth(settings, who))
        assert response.status_code == 202, response.text
    assert [call[0] for call in branch.calls] == ["PJSIP/301"]
    assert [call[0] for call in originator.calls] == ["PJSIP/101"]


def test_a_manager_on_a_pbx_without_an_ami_link_is_503(
    client: TestClient, db: Session, settings: Settings, originator: FakeOriginator
) -> None:
    stranded = add_manager(db, "s1", dial_target="PJSIP/401", pbx="branch")
    db.commit()
    response = client.post(URL, json={"number": "+79001234568"}, headers=auth(settings, stranded))
    assert response.status_code == 503
    assert response.json()["error"] == "pbx-unavailable"
    assert "'branch'" in response.json()["detail"]
    assert originator.calls == []
    assert audit_entries(db) == []
