"""Analytics API: the stored thresholds (admin writes, audited) and shipment lines with kinds and dates."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from callrouter.api.schemas.analytics import ClientAnalyticsRead
from crm_core.models import Counterparty, Shipment
from crm_core.models.auth import AuditEntry
from tests.api.conftest import Staff, add_counterparty

SETTINGS = "/api/v1/analytics/settings"


def _today() -> date:
    return datetime.now(ZoneInfo("Europe/Moscow")).date()


def test_settings_defaults_roles_and_audit(client: TestClient, staff: Staff, db: Session) -> None:
    shown = client.get(SETTINGS, headers=staff.headers(staff.director))
    assert shown.status_code == 200
    assert {k: shown.json()[k] for k in ("fresh_days", "departed_days", "abc_a_share", "xyz_y_cv")} == {
        "fresh_days": 90,
        "departed_days": 180,
        "abc_a_share": "0.80",
        "xyz_y_cv": "0.25",
    }
    assert client.get(SETTINGS, headers=staff.headers(staff.manager)).status_code == 403
    denied = client.patch(SETTINGS, json={"fresh_days": 60}, headers=staff.headers(staff.director))
    assert denied.status_code == 403

    changed = client.patch(SETTINGS, json={"fresh_days": 60}, headers=staff.headers(staff.admin))

    assert changed.status_code == 200 and changed.json()["fresh_days"] == 60
    assert client.get(SETTINGS, headers=staff.headers(staff.admin)).json()["fresh_days"] == 60
    entry = db.scalars(select(AuditEntry).where(AuditEntry.entity == "analytics-settings")).one()
    assert entry.before is not None and entry.after is not None
    assert (entry.actor_manager_id, entry.before["fresh_days"], entry.after["fresh_days"]) == (
        staff.admin.id,
        90,
        60,
    )


def test_inconsistent_settings_are_refused(client: TestClient, staff: Staff) -> None:
    h = staff.headers(staff.admin)
    crossed = client.patch(SETTINGS, json={"xyz_x_cv": "0.5"}, headers=h)
    assert (crossed.status_code, crossed.json()["error"]) == (422, "invalid-analytics-settings")
    negative = client.patch(SETTINGS, json={"departed_days": -1}, headers=h)
    assert negative.status_code == 422
    null = client.patch(SETTINGS, json={"fresh_days": None}, headers=h)
    assert (null.status_code, null.json()["error"]) == (422, "field-required")
    assert client.get(SETTINGS, headers=h).json()["xyz_x_cv"] == "0.10"


def test_shipment_lines_carry_kind_and_document(client: TestClient, staff: Staff, db: Session) -> None:
    card = add_counterparty(db, "Buyer", staff.manager)
    db.commit()
    h = staff.headers(staff.admin)
    line = {
        "counterparty_id": card.id,
        "shipped_on": _today().isoformat(),
        "product": "Cement",
        "quantity": "1",
        "amount": "300.00",
        "kind": "return",
        "document_number": "V-1",
        "line_number": 1,
    }
    created = client.post("/api/v1/shipments", json=line, headers=h)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ("kind", "document_number", "line_number")} == {
        "kind": "return",
        "document_number": "V-1",
        "line_number": 1,
    }
    sale = client.post("/api/v1/shipments", json={**line, "kind": "sale"}, headers=h).json()
    assert sale["kind"] == "sale"
    twin = client.post("/api/v1/shipments", json=line, headers=h)
    assert twin.status_code == 409
    negative = client.post("/api/v1/shipments", json={**line, "amount": "-5"}, headers=h)
    assert negative.status_code == 422


def test_shipment_dates_more_than_a_day_ahead_are_refused(
    client: TestClient, staff: Staff, db: Session
) -> None:
    card = add_counterparty(db, "Buyer", staff.manager)
    db.commit()
    h = staff.headers(staff.admin)
    tomorrow, later = _today() + timedelta(days=1), _today() + timedelta(days=2)
    line = {"counterparty_id": card.id, "product": "p", "quantity": "1", "amount": "1.00"}

    ok = client.post("/api/v1/shipments", json={**line, "shipped_on": tomorrow.isoformat()}, headers=h)
    assert ok.status_code == 201
    refused = client.post("/api/v1/shipments", json={**line, "shipped_on": later.isoformat()}, headers=h)
    assert (refused.status_code, refused.json()["error"]) == (422, "shipment-date-in-future")
    moved = client.patch(f"/api/v1/shipments/{ok.json()['id']}", json={"shipped_on": "2099-01-01"}, headers=h)
    assert (moved.status_code, moved.json()["error"]) == (422, "shipment-date-in-future")
    bulk = client.post(
        "/api/v1/shipments/bulk", json={"items": [{**line, "shipped_on": "2099-01-01"}]}, headers=h
    )
    assert (bulk.status_code, bulk.json()["error"]) == (422, "shipment-date-in-future")


def test_status_pin_history_and_roles(client: TestClient, staff: Staff, db: Session) -> None:
    mine = add_counterparty(db, "Mine", staff.manager)
    theirs = add_counterparty(db, "Theirs", staff.other)
    db.commit()
    pin = {"status": "regular", "reason": "framework contract"}
    url = f"/api/v1/counterparties/{mine.id}/status-pin"

    assert client.put(url, json=pin, headers=staff.headers(staff.manager)).status_code == 403
    pinned = client.put(
        url, json={**pin, "pinned_until": "2099-01-01"}, headers=staff.headers(staff.controller)
    )
    assert pinned.status_code == 200, pinned.text
    card = pinned.json()
    assert (card["status"], card["status_pinned"], card["status_pinned_until"]) == (
        "regular",
        True,
        "2099-01-01",
    )
    patched = client.patch(
        f"/api/v1/counterparties/{theirs.id}", json={"status": "departed"}, headers=staff.headers(staff.admin)
    )
    assert patched.status_code == 200

    own = client.get("/api/v1/analytics/status-history", headers=staff.headers(staff.manager)).json()
    (change,) = own["items"]
    assert {k: change[k] for k in ("from_status", "to_status", "cause", "reason", "manager_id")} == {
        "from_status": "potential",
        "to_status": "regular",
        "cause": "manual",
        "reason": "framework contract",
        "manager_id": staff.controller.id,
    }
    everyone = client.get("/api/v1/analytics/status-history", headers=staff.headers(staff.director)).json()
    assert [(c["counterparty_id"], c["to_status"]) for c in own["items"]] == [(mine.id, "regular")]
    assert {(c["counterparty_id"], c["to_status"], c["cause"]) for c in everyone["items"]} == {
        (mine.id, "regular", "manual"),
        (theirs.id, "departed", "manual"),
    }
    assert client.delete(url, headers=staff.headers(staff.controller)).status_code == 204
    db.expire_all()
    assert db.get(type(mine), mine.id).status_pinned is False  # type: ignore[union-attr]
    missing = client.put(
        f"/api/v1/counterparties/{theirs.id}/status-pin", json=pin, headers=staff.headers(staff.controller)
    )
    assert missing.status_code == 404


def _clients_fixture(db: Session, staff: Staff) -> tuple[Counterparty, Counterparty]:
    mine = add_counterparty(db, "Alpha", staff.manager)
    theirs = add_counterparty(db, "Beta", staff.other)
    for cp, day, doc in (
        (mine, date(2024, 5, 10), "S1"),
        (mine, date(2024, 6, 1), "S2"),
        (theirs, date(2024, 1, 5), "S3"),
    ):
        db.add(
            Shipment(
                counterparty_id=cp.id,
                shipped_on=day,
                product="p",
                quantity=1,
                amount=Decimal(1000 if cp is mine else 10),
                document_number=doc,
                line_number=1,
            )
        )
    db.commit()
    return mine, theirs


def test_clients_on_a_day_scoped_and_filtered(client: TestClient, staff: Staff, db: Session) -> None:
    mine, theirs = _clients_fixture(db, staff)
    url = "/api/v1/analytics/clients"
    director = client.get(url, params={"as_of": "2024-06-30"}, headers=staff.headers(staff.director)).json()
    assert director["total"] == 2
    alpha = director["items"][0]
    assert {
        k: alpha[k] for k in ("counterparty_id", "status", "purchases", "last_purchase_on", "abc", "rfm")
    } == {
        "counterparty_id": mine.id,
        "status": "regular",
        "purchases": 2,
        "last_purchase_on": "2024-06-01",
        "abc": "A",
        "rfm": "333",  # the better of two clients starts at the middle fifth
    }
    assert director["items"][1]["status"] == "one_time_old"  # 177 days after its only purchase
    manager = client.get(url, params={"as_of": "2024-06-30"}, headers=staff.headers(staff.manager)).json()
    assert [c["counterparty_id"] for c in manager["items"]] == [mine.id]
    early = client.get(
        url, params={"as_of": "2024-05-20", "status": "one_time_fresh"}, headers=staff.headers(staff.director)
    ).json()
    assert [c["counterparty_id"] for c in early["items"]] == [mine.id]  # Beta: 136 days, one_time_old
    paged = client.get(
        url, params={"as_of": "2024-06-30", "limit": 1, "offset": 1}, headers=staff.headers(staff.admin)
    )
    assert [c["counterparty_id"] for c in paged.json()["items"]] == [theirs.id]


def test_clients_export_every_row_as_csv_and_xlsx(client: TestClient, staff: Staff, db: Session) -> None:
    mine, theirs = _clients_fixture(db, staff)
    params = {"as_of": "2024-06-30", "limit": 1}
    h = staff.headers(staff.director)

    as_csv = client.get("/api/v1/analytics/clients", params={**params, "format": "csv"}, headers=h)
    as_xlsx = client.get("/api/v1/analytics/clients", params={**params, "format": "xlsx"}, headers=h)

    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [(r["counterparty_id"], r["status"], r["abc"]) for r in rows] == [
        (str(mine.id), "regular", "A"),
        (str(theirs.id), "one_time_old", "C"),  # 10 of 2,010: the clients above hold 99.5 %
    ]
    assert list(rows[0]) == list(ClientAnalyticsRead.model_fields)
    sheet = load_workbook(io.BytesIO(as_xlsx.content), read_only=True).active
    assert sheet is not None
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == list(ClientAnalyticsRead.model_fields)
    assert [(r[0], r[1], r[3]) for r in table[1:]] == [
        (mine.id, "Alpha", "regular"),
        (theirs.id, "Beta", "one_time_old"),
    ]
