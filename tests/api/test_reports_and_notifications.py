"""Missed-call reports per manager and open missed calls (scoped by role); in-app notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm_core.models import (
    CallDirection,
    CallDisposition,
    CallRecord,
    MissedCall,
    MissedReason,
    MissedStatus,
)
from crm_core.models.escalation import InAppNotification
from tests.api.conftest import Staff

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PERIOD = {"since": "2026-11-01T00:00:00+00:00", "until": "2026-12-01T00:00:00+00:00"}


def _missed(db: Session, n: int, manager_id: int, callback_after: timedelta | None) -> MissedCall:
    started = T0 + timedelta(hours=n)
    record = CallRecord(
        pbx_system="main",
        linkedid=f"1795875461.{n}",
        direction=CallDirection.INBOUND,
        caller_number=f"+7900123450{n}",
        started_at=started,
        disposition=CallDisposition.NO_ANSWER,
    )
    db.add(record)
    db.flush()
    missed = MissedCall(
        call_record_id=record.id,
        caller_number=record.caller_number or "",
        reason=MissedReason.MANAGER_NO_ANSWER,
        assigned_manager_id=manager_id,
        created_at=started,
        last_attempt_at=started,
        status=MissedStatus.OPEN if callback_after is None else MissedStatus.CALLED_BACK,
        called_back_at=None if callback_after is None else started + callback_after,
    )
    db.add(missed)
    db.flush()
    return missed


def test_report_per_manager_is_scoped_and_computed(client: TestClient, staff: Staff, db: Session) -> None:
    _missed(db, 1, staff.manager.id, timedelta(minutes=10))
    _missed(db, 2, staff.manager.id, timedelta(minutes=30))
    _missed(db, 3, staff.manager.id, None)
    _missed(db, 4, staff.other.id, None)
    db.commit()
    as_admin = client.get("/api/v1/reports/missed-calls", params=PERIOD, headers=staff.headers(staff.admin))
    assert as_admin.status_code == 200
    rows = {r["manager_id"]: r for r in as_admin.json()}
    assert set(rows) == {staff.manager.id, staff.other.id}
    mine = rows[staff.manager.id]
    assert (mine["missed"], mine["called_back"]) == (3, 2)
    assert abs(mine["callback_rate"] - 2 / 3) < 1e-9
    assert (mine["median_callback_seconds"], mine["p90_callback_seconds"]) == (1200.0, 1680.0)
    own = client.get("/api/v1/reports/missed-calls", params=PERIOD, headers=staff.headers(staff.manager))
    assert [r["manager_id"] for r in own.json()] == [staff.manager.id]
    team = client.get("/api/v1/reports/missed-calls", params=PERIOD, headers=staff.headers(staff.controller))
    assert [r["manager_id"] for r in team.json()] == [staff.manager.id]


def test_report_refuses_a_reversed_period(client: TestClient, staff: Staff) -> None:
    response = client.get(
        "/api/v1/reports/missed-calls",
        params={"since": PERIOD["until"], "until": PERIOD["since"]},
        headers=staff.headers(staff.admin),
    )
    assert response.status_code == 422
    assert response.json()["error"] == "empty-period"


def test_open_missed_calls_oldest_first_and_scoped(client: TestClient, staff: Staff, db: Session) -> None:
    first = _missed(db, 1, staff.manager.id, None)
    _missed(db, 2, staff.manager.id, timedelta(minutes=5))
    second = _missed(db, 3, staff.other.id, None)
    db.commit()
    everyone = client.get("/api/v1/reports/open-missed-calls", headers=staff.headers(staff.director)).json()
    assert [r["id"] for r in everyone] == [first.id, second.id]
    assert everyone[0]["age_seconds"] > everyone[1]["age_seconds"] > 0
    own = client.get("/api/v1/reports/open-missed-calls", headers=staff.headers(staff.other)).json()
    assert [r["id"] for r in own] == [second.id]


def test_inapp_notifications_are_listed_and_marked_read_by_their_recipient_only(
    client: TestClient, staff: Staff, db: Session
) -> None:
    missed = _missed(db, 1, staff.manager.id, None)
    note = InAppNotification(
        dedupe_key=f"{missed.id}:0:{staff.manager.id}:inapp",
        recipient_manager_id=staff.manager.id,
        missed_call_id=missed.id,
        title="Missed call",
        body="+79001234501 called, nobody answered",
    )
    db.add(note)
    db.commit()
    listed = client.get("/api/v1/notifications", headers=staff.headers(staff.manager)).json()
    assert [(n["id"], n["read"]) for n in listed["items"]] == [(note.id, False)]
    assert listed["unread"] == 1
    assert client.get("/api/v1/notifications", headers=staff.headers(staff.other)).json() == {
        "items": [],
        "unread": 0,
    }
    stolen = client.post(f"/api/v1/notifications/{note.id}/read", headers=staff.headers(staff.other))
    assert stolen.status_code == 404
    read = client.post(f"/api/v1/notifications/{note.id}/read", headers=staff.headers(staff.manager))
    assert read.status_code == 204
    unread = client.get(
        "/api/v1/notifications", params={"unread": True}, headers=staff.headers(staff.manager)
    ).json()
    assert unread == {"items": [], "unread": 0}
