"""Name search ignores letter case on both databases (Cyrillic too); a number keeps its extension."""

# ruff: noqa: RUF001  (Cyrillic test data is intended)

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import ContactPerson, Counterparty
from crm_core.repositories.search import counterparty_matches
from crm_core.services.errors import InvalidInput
from tests.api.conftest import Staff, add_counterparty


@pytest.fixture
def romashka(db: Session, staff: Staff) -> int:
    card = add_counterparty(db, "ООО Ромашка", staff.manager)
    add_counterparty(db, "Ёлка 100%", staff.manager)
    db.add(ContactPerson(counterparty_id=card.id, name="Пётр Ильич"))
    db.commit()
    return card.id


@pytest.mark.parametrize("q", ["ромашка", "РОМАШКА", "оОо рОм", "Ромашка"])
def test_counterparty_search_ignores_case_in_cyrillic(
    client: TestClient, staff: Staff, romashka: int, q: str
) -> None:
    found = client.get("/api/v1/counterparties", params={"q": q}, headers=staff.headers(staff.manager))
    assert [item["id"] for item in found.json()["items"]] == [romashka]


@pytest.mark.parametrize(("q", "names"), [("ёлка", ["Ёлка 100%"]), ("0%", ["Ёлка 100%"]), ("_", [])])
def test_wildcards_in_q_are_literal(
    client: TestClient, staff: Staff, romashka: int, q: str, names: list[str]
) -> None:
    found = client.get("/api/v1/counterparties", params={"q": q}, headers=staff.headers(staff.manager))
    assert [item["name"] for item in found.json()["items"]] == names


def test_contact_search_ignores_case_in_cyrillic(client: TestClient, staff: Staff, romashka: int) -> None:
    found = client.get("/api/v1/contacts", params={"q": "пётр"}, headers=staff.headers(staff.manager))
    assert [item["name"] for item in found.json()["items"]] == ["Пётр Ильич"]


def test_a_nul_byte_in_q_is_refused_before_the_database(
    client: TestClient, staff: Staff, romashka: int, db: Session
) -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        db.scalars(select(Counterparty).where(counterparty_matches("Ром\x00ашка", "RU"))).all()
    for path in ("counterparties", "contacts"):
        answer = client.get(f"/api/v1/{path}", params={"q": "a\x00b"}, headers=staff.headers(staff.manager))
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == "unstorable-text"


def test_an_extension_is_read_from_the_written_number_or_given_and_changed(
    client: TestClient, staff: Staff, romashka: int
) -> None:
    h = staff.headers(staff.manager)
    written = {"number": "8 (843) 123-45-67 доб. 12", "counterparty_id": romashka}
    added = client.post("/api/v1/phones", json=written, headers=h).json()
    assert (added["e164"], added["extension"]) == ("+78431234567", "12")
    given = {"number": "+7 843 123-45-68", "extension": "305", "counterparty_id": romashka}
    assert client.post("/api/v1/phones", json=given, headers=h).json()["extension"] == "305"
    changed = client.patch(f"/api/v1/phones/{added['id']}", json={"extension": "15"}, headers=h)
    assert changed.json()["extension"] == "15"
    cleared = client.patch(f"/api/v1/phones/{added['id']}", json={"extension": None}, headers=h)
    assert cleared.json()["extension"] is None
    bad = client.patch(f"/api/v1/phones/{added['id']}", json={"extension": "12a"}, headers=h)
    assert (bad.status_code, bad.json()["error"]) == (422, "validation-failed")
    by_number = client.get("/api/v1/phones", params={"number": "+7 843 123-45-68 доб. 305"}, headers=h).json()
    assert [(p["e164"], p["extension"]) for p in by_number["items"]] == [("+78431234568", "305")]


def test_a_possible_number_is_accepted_and_an_impossible_one_refused(
    client: TestClient, staff: Staff, romashka: int
) -> None:
    h = staff.headers(staff.manager)
    possible = client.post(
        "/api/v1/phones", json={"number": "8 (930) 000-30-11", "counterparty_id": romashka}, headers=h
    )
    assert possible.json()["e164"] == "+79300003011"
    impossible = client.post(
        "/api/v1/phones", json={"number": "+7 999 1234567890", "counterparty_id": romashka}, headers=h
    )
    assert (impossible.status_code, impossible.json()["error"]) == (422, "invalid-phone-number")
