"""The client card, ``/api/v1/me`` with the user's language, and one-step number registration."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import (
    CallDirection,
    CallDisposition,
    CallRecord,
    ContactPerson,
    Counterparty,
    Deal,
    DealStageName,
    Interaction,
    InteractionKind,
    ListKind,
    ListTreatment,
    Need,
    NumberList,
    PhoneNumber,
    utcnow,
)
from tests.api.conftest import Staff, add_counterparty
from tests.api.test_missed_workspace import add_missed


def test_card_shows_client_history_deals_and_needs(client: TestClient, staff: Staff, db: Session) -> None:
    acme = add_counterparty(db, "ACME LLC", staff.manager)
    db.add(PhoneNumber(e164="+79001230001", counterparty_id=acme.id, label="office"))
    waiting = add_missed(db, "+79001230001", manager=staff.manager, counterparty_id=acme.id)
    for n in range(12):
        db.add(
            CallRecord(
                pbx_system="main",
                linkedid=f"card.{n}",
                direction=CallDirection.INBOUND,
                caller_number="+79001230001",
                started_at=utcnow() - timedelta(days=n + 1),
                disposition=CallDisposition.ANSWERED,
                answered_by_manager_id=staff.manager.id,
                counterparty_id=acme.id,
            )
        )
        db.add(
            Interaction(
                counterparty_id=acme.id,
                manager_id=staff.manager.id,
                kind=InteractionKind.NOTE,
                occurred_at=utcnow() - timedelta(days=n),
                summary=f"note {n}",
            )
        )
    db.add_all(
        [
            Deal(
                counterparty_id=acme.id,
                title="Cable",
                amount=Decimal("1200.50"),
                stage=DealStageName.PROPOSAL,
            ),
            Deal(counterparty_id=acme.id, title="Old", stage=DealStageName.WON),
            Need(counterparty_id=acme.id, product="Copper cable", probability=80),
        ]
    )
    db.commit()
    card = client.get(f"/api/v1/counterparties/{acme.id}/card", headers=staff.headers(staff.manager)).json()
    assert card["client"]["name"] == "ACME LLC" and card["client"]["manager_name"] == "Manager"
    assert card["client"]["status"] == "potential"
    assert card["phones"] == [
        {"e164": "+79001230001", "label": "office", "contact_person_id": None, "contact_name": None}
    ]
    assert [m["id"] for m in card["open_missed_calls"]] == [waiting.id]
    assert len(card["last_calls"]) == 10
    assert card["last_calls"][0]["disposition"] == "no_answer"  # the missed one, newest
    assert card["last_calls"][1]["answered_by_name"] == "Manager"
    assert [i["summary"] for i in card["last_interactions"]] == [f"note {n}" for n in range(10)]
    assert [(d["title"], d["amount"]) for d in card["open_deals"]] == [("Cable", "1200.50")]
    assert [n["product"] for n in card["needs"]] == ["Copper cable"]
    assert (
        client.get(
            f"/api/v1/counterparties/{acme.id}/card", headers=staff.headers(staff.controller)
        ).status_code
        == 200
    )
    assert (
        client.get(
            f"/api/v1/counterparties/{acme.id}/card", headers=staff.headers(staff.director)
        ).status_code
        == 200
    )
    hidden = client.get(f"/api/v1/counterparties/{acme.id}/card", headers=staff.headers(staff.other))
    assert (hidden.status_code, hidden.json()["error"]) == (404, "no-such-counterparty")


def test_me_reports_role_language_and_timezone(client: TestClient, staff: Staff) -> None:
    for who in (staff.manager, staff.controller, staff.director, staff.admin):
        me = client.get("/api/v1/me", headers=staff.headers(who)).json()
        assert (me["manager_id"], me["role"], me["name"]) == (who.id, who.role.value, who.name)
        assert (me["language"], me["own_language"], me["company_language"]) == ("ru", None, "ru")
        assert me["timezone"] == "Europe/Moscow"
    h = staff.headers(staff.manager)
    english = client.patch("/api/v1/me", json={"language": "en"}, headers=h).json()
    assert (english["language"], english["own_language"]) == ("en", "en")
    assert client.get("/api/v1/me", headers=h).json()["language"] == "en"
    back = client.patch("/api/v1/me", json={"language": None}, headers=h).json()
    assert (back["language"], back["own_language"]) == ("ru", None)
    bad = client.patch("/api/v1/me", json={"language": "de"}, headers=h)
    assert (bad.status_code, bad.json()["error"]) == (422, "validation-failed")
    extra = client.patch("/api/v1/me", json={"language": "en", "role": "admin"}, headers=h)
    assert extra.status_code == 422
    assert client.get("/api/v1/me").status_code == 401


def test_company_language_setting_is_the_default(client: TestClient, staff: Staff) -> None:
    client.app.state.container.settings.language = "en"  # type: ignore[attr-defined]
    me = client.get("/api/v1/me", headers=staff.headers(staff.manager)).json()
    assert (me["language"], me["company_language"]) == ("en", "en")


def test_register_number_to_each_target(client: TestClient, staff: Staff, db: Session) -> None:
    acme = add_counterparty(db, "ACME LLC", staff.manager)
    contact = ContactPerson(counterparty_id=acme.id, name="Petr")
    db.add(contact)
    blacklist = NumberList(name="Spam", kind=ListKind.BLACKLIST, treatment=ListTreatment.REJECT)
    db.add(blacklist)
    queued = add_missed(db, "+79005550011")
    db.commit()
    h = staff.headers(staff.manager)
    url = "/api/v1/numbers/register"
    to_card = client.post(
        url,
        json={"number": "8 900 555-00-10", "target": "counterparty", "counterparty_id": acme.id},
        headers=h,
    )
    assert to_card.status_code == 200, to_card.json()
    assert (to_card.json()["e164"], to_card.json()["counterparty_id"]) == ("+79005550010", acme.id)
    new = client.post(
        url, json={"number": "+79005550011", "target": "new_counterparty", "name": "Sidorov IP"}, headers=h
    )
    assert new.status_code == 200, new.json()
    created = db.get(Counterparty, new.json()["counterparty_id"])
    assert created is not None and (created.name, created.manager_id) == ("Sidorov IP", staff.manager.id)
    assert new.json()["missed_calls_linked"] == 1
    mine = client.get("/api/v1/missed-calls", params={"scope": "mine"}, headers=h).json()["items"]
    assert [(m["id"], m["counterparty_name"]) for m in mine] == [(queued.id, "Sidorov IP")]
    to_contact = client.post(
        url, json={"number": "+79005550012", "target": "contact", "contact_id": contact.id}, headers=h
    )
    assert to_contact.json()["counterparty_id"] == acme.id
    listed = client.post(
        url,
        json={"number": "+79005550013", "target": "list", "list": "blacklist", "reason": "robocalls"},
        headers=h,
    )
    assert listed.json()["number_list_id"] == blacklist.id
    db.expire_all()
    phone = db.scalars(select(PhoneNumber).where(PhoneNumber.e164 == "+79005550013")).one()
    assert (phone.number_list_id, phone.note) == (blacklist.id, "robocalls")
    no_list = client.post(
        url, json={"number": "+79005550014", "target": "list", "list": "job_candidates"}, headers=h
    )
    assert (no_list.status_code, no_list.json()["error"]) == (404, "no-such-number-list")
    no_name = client.post(url, json={"number": "+79005550014", "target": "new_counterparty"}, headers=h)
    assert (no_name.status_code, no_name.json()["error"]) == (422, "field-required")
    taken = client.post(
        url, json={"number": "+79005550010", "target": "list", "list": "blacklist"}, headers=h
    )
    assert (taken.status_code, taken.json()["error"]) == (409, "number-owned-elsewhere")
    foreign = client.post(
        url,
        json={"number": "+79005550015", "target": "counterparty", "counterparty_id": acme.id},
        headers=staff.headers(staff.other),
    )
    assert foreign.status_code == 404
    garbage = client.post(
        url, json={"number": "12", "target": "counterparty", "counterparty_id": acme.id}, headers=h
    )
    assert (garbage.status_code, garbage.json()["error"]) == (422, "invalid-phone-number")


def test_numbers_to_register_are_mine_by_default_month(client: TestClient, staff: Staff, db: Session) -> None:
    add_missed(db, "+79005550020", manager=staff.manager)  # minutes ago, in this company month
    add_missed(db, "+79005550021", manager=staff.other)
    db.execute(CallRecord.__table__.update().values(unregistered_number=True))
    db.commit()
    for who in (staff.manager, staff.director):
        report = client.get(
            "/api/v1/reports/unregistered-numbers", params={"scope": "mine"}, headers=staff.headers(who)
        ).json()
        expected = [staff.manager.id] if who is staff.manager else []
        assert [m["manager_id"] for m in report["managers"]] == expected
    everything = client.get(
        "/api/v1/reports/unregistered-numbers", headers=staff.headers(staff.director)
    ).json()
    assert {m["manager_id"] for m in everything["managers"]} == {staff.manager.id, staff.other.id}
    assert everything["month"] == datetime.now(ZoneInfo("Europe/Moscow")).strftime("%Y-%m")
