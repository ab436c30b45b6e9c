"""Forgotten clients, refining cards and the monthly KPIs over the API: roles, errors, CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import (
    CallDirection,
    CallDisposition,
    CallRecord,
    ContactPerson,
    Counterparty,
    PhoneNumber,
)
from crm_core.models.auth import AuditEntry
from tests.api.conftest import Staff, add_counterparty

FORGOTTEN = "/api/v1/analytics/forgotten"
KPI = "/api/v1/analytics/kpi"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
FORGOTTEN_FIELDS = {
    "counterparty_id",
    "counterparty_name",
    "manager_id",
    "manager_name",
    "last_contact_at",
    "last_contact_kind",
    "days_silent",
    "never_contacted",
}


def _answered_call(db: Session, card: Counterparty, at: datetime) -> None:
    db.add(
        CallRecord(
            pbx_system="main",
            linkedid=f"{card.id}.{at.timestamp()}",
            direction=CallDirection.OUTBOUND,
            started_at=at,
            answered_at=at,
            disposition=CallDisposition.ANSWERED,
            counterparty_id=card.id,
        )
    )


def _clients(db: Session, staff: Staff) -> dict[str, Counterparty]:
    cards = {
        "mine never": add_counterparty(db, "Mine never", staff.manager, created_at=LONG_AGO),
        "mine called": add_counterparty(db, "Mine called", staff.manager, created_at=LONG_AGO),
        "mine fresh": add_counterparty(db, "Mine fresh", staff.manager, created_at=LONG_AGO),
        "other": add_counterparty(db, "Other's", staff.other, created_at=LONG_AGO),
        "nobody": add_counterparty(db, "Nobody's", None, created_at=LONG_AGO),
    }
    _answered_call(db, cards["mine called"], datetime(2024, 1, 10, 9, tzinfo=UTC))
    _answered_call(db, cards["mine fresh"], datetime(2024, 6, 1, 9, tzinfo=UTC))
    db.commit()
    return cards


def test_forgotten_json_shape_paging_and_roles(client: TestClient, staff: Staff, db: Session) -> None:
    cards = _clients(db, staff)
    query = {"as_of": "2024-06-30", "days": 90}

    mine = client.get(FORGOTTEN, params=query, headers=staff.headers(staff.manager))

    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert (body["total"], body["page"], body["page_size"], body["as_of"]) == (2, 1, 50, "2024-06-30")
    never, called = body["items"]
    assert set(never) >= FORGOTTEN_FIELDS
    assert (never["counterparty_id"], never["never_contacted"], never["last_contact_at"]) == (
        cards["mine never"].id,
        True,
        None,
    )
    assert never["manager_name"] == "Manager" and never["last_contact_kind"] is None
    assert (called["counterparty_name"], called["last_contact_kind"], called["days_silent"]) == (
        "Mine called",
        "call",
        172,
    )
    assert called["last_contact_at"] == "2024-01-10T09:00:00Z"

    def names(who: object, **params: object) -> set[str]:
        response = client.get(FORGOTTEN, params={**query, **params}, headers=staff.headers(who))  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return {item["counterparty_name"] for item in response.json()["items"]}

    assert names(staff.controller) == {"Mine never", "Mine called"}
    assert names(staff.director) == {"Mine never", "Mine called", "Other's", "Nobody's"}
    assert names(staff.director, manager_id=staff.other.id) == {"Other's"}
    assert names(staff.other, manager_id=staff.manager.id) == set()
    second = client.get(
        FORGOTTEN, params={**query, "page": 2, "page_size": 1}, headers=staff.headers(staff.manager)
    ).json()
    assert (second["total"], [i["counterparty_name"] for i in second["items"]]) == (2, ["Mine called"])


def test_forgotten_bad_input_is_a_clear_422(client: TestClient, staff: Staff) -> None:
    h = staff.headers(staff.manager)
    for params in (
        {"days": 0},
        {"as_of": "2024-13-01"},
        {"as_of": "0001-01-05"},
        {"as_of": "9999-12-31"},
        {"page": 0},
        {"format": "pdf"},
    ):
        response = client.get(FORGOTTEN, params=params, headers=h)
        assert (response.status_code, response.json()["error"]) == (422, "validation-failed"), params


def test_forgotten_csv_and_xlsx_hold_every_row(client: TestClient, staff: Staff, db: Session) -> None:
    _clients(db, staff)
    params = {"as_of": "2024-06-30", "page_size": 1}
    h = staff.headers(staff.director)

    as_csv = client.get(FORGOTTEN, params={**params, "format": "csv"}, headers=h)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert len(rows) == 4 and set(rows[0]) >= FORGOTTEN_FIELDS
    called = next(r for r in rows if r["counterparty_name"] == "Mine called")
    assert (called["last_contact_kind"], called["days_silent"], called["never_contacted"]) == (
        "call",
        "172",
        "False",
    )

    as_xlsx = client.get(FORGOTTEN, params={**params, "format": "xlsx"}, headers=h)
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    header, *lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert set(header) >= FORGOTTEN_FIELDS and len(lines) == 4
    by_name = {
        line[header.index("counterparty_name")]: dict(zip(header, line, strict=True)) for line in lines
    }
    assert by_name["Nobody's"]["never_contacted"] is True and by_name["Nobody's"]["manager_id"] is None
    assert by_name["Mine called"]["last_contact_on"] == "2024-01-10"


def _complete_but_contact(db: Session, staff: Staff) -> Counterparty:
    card = add_counterparty(db, "Romashka", staff.manager, tax_id="7701234567", region="Kazan")
    db.commit()
    return card


def test_refine_refused_lists_what_is_missing_in_the_users_language(
    client: TestClient, staff: Staff, db: Session
) -> None:
    card = add_counterparty(db, "Bare", staff.manager)
    db.commit()
    url = f"/api/v1/counterparties/{card.id}/refine"

    ru = client.post(url, headers=staff.headers(staff.manager) | {"Accept-Language": "ru"})
    en = client.post(url, headers=staff.headers(staff.manager) | {"Accept-Language": "en-US"})

    assert (ru.status_code, ru.json()["error"]) == (422, "counterparty-incomplete")
    assert ru.json()["detail"]["missing"] == ["tax_id", "region", "contact_with_number"]
    assert en.json()["detail"]["reasons"] == [
        "no ИНН (tax id)",
        "no region",
        "no contact person with a phone number",
    ]
    assert ru.json()["detail"]["reasons"][0] == "не указан ИНН"
    db.expire_all()
    assert db.get(Counterparty, card.id).refined_at is None  # type: ignore[union-attr]
    assert client.post(url, headers=staff.headers(staff.other)).status_code == 404


def test_refine_a_complete_card_is_stored_audited_and_kept(
    client: TestClient, staff: Staff, db: Session
) -> None:
    card = _complete_but_contact(db, staff)
    contact = ContactPerson(counterparty_id=card.id, name="Petr")
    db.add(contact)
    db.flush()
    db.add(PhoneNumber(e164="+79001112233", contact_person_id=contact.id))
    db.commit()

    first = client.post(f"/api/v1/counterparties/{card.id}/refine", headers=staff.headers(staff.manager))
    again = client.post(f"/api/v1/counterparties/{card.id}/refine", headers=staff.headers(staff.controller))

    assert first.status_code == 200, first.text
    assert first.json()["refined_by_id"] == staff.manager.id and first.json()["refined_at"]
    assert again.status_code == 200 and again.json()["refined_at"] == first.json()["refined_at"]
    assert again.json()["refined_by_id"] == staff.manager.id
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "counterparty", AuditEntry.action == "refine")
    )
    (entry,) = entries
    assert (entry.actor_manager_id, entry.entity_id, entry.before) == (
        staff.manager.id,
        str(card.id),
        {"refined_at": None, "refined_by_id": None},
    )
    contact_ok = client.post(f"/api/v1/contacts/{contact.id}/refine", headers=staff.headers(staff.manager))
    assert contact_ok.status_code == 200 and contact_ok.json()["refined_by_id"] == staff.manager.id


def test_contact_refine_refused_then_a_number_completes_it_and_the_card(
    client: TestClient, staff: Staff, db: Session
) -> None:
    card = _complete_but_contact(db, staff)
    h = staff.headers(staff.manager) | {"Accept-Language": "en"}
    contact = client.post(
        "/api/v1/contacts", json={"counterparty_id": card.id, "name": "Petr"}, headers=h
    ).json()

    refused = client.post(f"/api/v1/contacts/{contact['id']}/refine", headers=h)
    assert (refused.status_code, refused.json()["error"]) == (422, "contact-person-incomplete")
    assert refused.json()["detail"]["missing"] == ["phone_number"]
    assert refused.json()["detail"]["reasons"] == ["no phone number"]

    added = client.post(
        "/api/v1/phones", json={"number": "+7 900 111-22-33", "contact_person_id": contact["id"]}, headers=h
    )
    assert added.status_code == 200, added.text

    completed = client.get(f"/api/v1/contacts/{contact['id']}", headers=h).json()
    assert completed["refined_by_id"] == staff.manager.id and completed["refined_at"]
    assert (
        client.get(f"/api/v1/counterparties/{card.id}", headers=h).json()["refined_by_id"] == staff.manager.id
    )
    actions = set(db.scalars(select(AuditEntry.entity).where(AuditEntry.action == "complete")))
    assert actions == {"contact-person", "counterparty"}


def test_a_patch_that_completes_the_card_refines_it(client: TestClient, staff: Staff, db: Session) -> None:
    card = add_counterparty(db, "Almost", staff.manager, region="Kazan")
    contact = ContactPerson(counterparty_id=card.id, name="Petr")
    db.add(contact)
    db.flush()
    db.add(PhoneNumber(e164="+79001112234", contact_person_id=contact.id))
    db.commit()
    url = f"/api/v1/counterparties/{card.id}"

    partial = client.patch(url, json={"notes": "still no tax id"}, headers=staff.headers(staff.controller))
    assert partial.status_code == 200 and partial.json()["refined_at"] is None
    done = client.patch(url, json={"tax_id": "1655000000"}, headers=staff.headers(staff.controller))

    assert done.status_code == 200, done.text
    assert done.json()["refined_by_id"] == staff.controller.id and done.json()["refined_at"]
    emptied = client.patch(url, json={"region": None}, headers=staff.headers(staff.manager)).json()
    assert emptied["refined_by_id"] == staff.controller.id  # refined once, kept


def test_a_contact_patch_that_gives_a_blank_name_refines_the_contact(
    client: TestClient, staff: Staff, db: Session
) -> None:
    card = add_counterparty(db, "Card", staff.manager)
    blank = ContactPerson(counterparty_id=card.id, name="  ")
    db.add(blank)
    db.flush()
    db.add(PhoneNumber(e164="+79001112236", contact_person_id=blank.id))
    db.commit()
    url = f"/api/v1/contacts/{blank.id}"
    refused = client.post(f"{url}/refine", headers=staff.headers(staff.manager))
    assert refused.json()["detail"]["missing"] == ["name"]

    position = client.patch(url, json={"position": "Buyer"}, headers=staff.headers(staff.manager)).json()
    named = client.patch(url, json={"name": "Petr"}, headers=staff.headers(staff.manager)).json()

    assert position["refined_at"] is None
    assert named["refined_by_id"] == staff.manager.id and named["refined_at"]


def test_an_edit_of_a_card_already_complete_does_not_refine_it(
    client: TestClient, staff: Staff, db: Session
) -> None:
    card = _complete_but_contact(db, staff)
    contact = ContactPerson(counterparty_id=card.id, name="Petr")
    db.add(contact)
    db.flush()
    db.add(PhoneNumber(e164="+79001112235", contact_person_id=contact.id))
    db.commit()

    edited = client.patch(
        f"/api/v1/counterparties/{card.id}", json={"notes": "called"}, headers=staff.headers(staff.manager)
    )

    assert edited.status_code == 200 and edited.json()["refined_at"] is None
    assert db.scalars(select(AuditEntry).where(AuditEntry.action.in_(["refine", "complete"]))).first() is None


def _refined(db: Session, staff: Staff, when: datetime, *, contact: bool = False) -> None:
    card = add_counterparty(db, f"Card {when.isoformat()}", staff.manager)
    if contact:
        db.add(
            ContactPerson(counterparty_id=card.id, name="C", refined_at=when, refined_by_id=staff.manager.id)
        )
    else:
        card.refined_at, card.refined_by_id = when, staff.manager.id
    db.flush()


def test_kpi_month_boundaries_in_moscow_and_roles(client: TestClient, staff: Staff, db: Session) -> None:
    november_starts = datetime(2024, 10, 31, 21, 0, tzinfo=UTC)  # 1 November 00:00 in Moscow
    _refined(db, staff, november_starts)
    _refined(db, staff, november_starts, contact=True)
    _refined(db, staff, november_starts - timedelta(seconds=1))  # still October in Moscow
    _refined(db, staff, datetime(2024, 11, 30, 20, 59, 59, tzinfo=UTC))  # 30 Nov 23:59:59 MSK
    _refined(db, staff, datetime(2024, 11, 30, 21, 0, tzinfo=UTC))  # 1 December in Moscow
    db.commit()

    def row(who: object, month: str) -> dict[str, object]:
        report = client.get(KPI, params={"month": month}, headers=staff.headers(who))  # type: ignore[arg-type]
        assert report.status_code == 200, report.text
        return {item["manager_name"]: item for item in report.json()["items"]}

    november = client.get(KPI, params={"month": "2024-11"}, headers=staff.headers(staff.director)).json()
    assert (november["month"], november["start"], november["end"]) == ("2024-11", "2024-11-01", "2024-11-30")
    mine = next(i for i in november["items"] if i["manager_id"] == staff.manager.id)
    assert (mine["refined_counterparties"], mine["refined_contacts"]) == (2, 1)
    assert {"calls_answered", "missed", "callback_rate"} <= set(mine)
    assert row(staff.director, "2024-10")["Manager"]["refined_counterparties"] == 1
    assert row(staff.director, "2024-12")["Manager"]["refined_counterparties"] == 1
    assert set(row(staff.manager, "2024-11")) == {"Manager"}
    assert set(row(staff.controller, "2024-11")) == {"Controller", "Manager"}
    assert set(row(staff.director, "2024-11")) >= {"Admin", "Director", "Controller", "Manager", "Other"}


def test_kpi_as_of_default_and_bad_input(client: TestClient, staff: Staff, db: Session) -> None:
    h = staff.headers(staff.director)
    as_of = client.get(KPI, params={"as_of": "2024-11-15"}, headers=h).json()
    assert (as_of["month"], as_of["start"], as_of["end"]) == ("2024-11", "2024-11-01", "2024-11-15")
    today = client.get(KPI, headers=h).json()
    assert date.fromisoformat(today["start"]).day == 1
    both = client.get(KPI, params={"month": "2024-11", "as_of": "2024-11-15"}, headers=h)
    assert (both.status_code, both.json()["error"]) == (422, "month-or-as-of")
    for edge in ("0000-01", "9999-12"):
        response = client.get(KPI, params={"month": edge}, headers=h)
        assert (response.status_code, response.json()["error"]) == (422, "month-out-of-range"), edge
    for bad in ("2024-13", "2024-1", "24-11", "november"):
        response = client.get(KPI, params={"month": bad}, headers=h)
        assert (response.status_code, response.json()["error"]) == (422, "validation-failed"), bad
    for as_of in ("9999-12-31", "0001-01-01"):
        response = client.get(KPI, params={"as_of": as_of}, headers=h)
        assert (response.status_code, response.json()["error"]) == (422, "validation-failed"), as_of


def test_kpi_csv_and_xlsx(client: TestClient, staff: Staff, db: Session) -> None:
    _refined(db, staff, datetime(2024, 11, 5, tzinfo=UTC))
    db.commit()
    h = staff.headers(staff.controller)

    as_csv = client.get(KPI, params={"month": "2024-11", "format": "csv"}, headers=h)
    rows = {r["manager_name"]: r for r in csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig")))}
    assert set(rows) == {"Controller", "Manager"}
    assert (rows["Manager"]["refined_counterparties"], rows["Manager"]["callback_rate"]) == ("1", "")
    assert 'filename="kpi-2024-11.csv"' in as_csv.headers["content-disposition"]

    as_xlsx = client.get(KPI, params={"month": "2024-11", "format": "xlsx"}, headers=h)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    header, *lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[:4] == ["manager_id", "manager_name", "refined_counterparties", "refined_contacts"]
    manager = next(line for line in lines if line[1] == "Manager")
    assert (manager[2], manager[3]) == (1, 0)
