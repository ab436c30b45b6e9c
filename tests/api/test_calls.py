"""Calls and missed calls in scope, acknowledge/close, and the total-number-capture report + register."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.models import CallDirection, CallDisposition, CallRecord, Manager, MissedCall, MissedReason
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from tests.api.conftest import Staff, add_counterparty
from tests.call_tracking.helpers import trace_frames


def _call(db: Session, linkedid: str, caller: str, **fields: object) -> CallRecord:
    call = CallRecord(
        pbx_system="main",
        linkedid=linkedid,
        direction=CallDirection.INBOUND,
        caller_number=caller,
        started_at=datetime(2026, 11, 10, 9, tzinfo=UTC),
        **fields,
    )
    db.add(call)
    db.flush()
    return call


@pytest.fixture
def calls(db: Session, staff: Staff) -> dict[str, int]:
    answered = _call(
        db,
        "1.1",
        "+79005550003",
        disposition=CallDisposition.ANSWERED,
        answered_by_manager_id=staff.manager.id,
        unregistered_number=True,
        recording_file="/x/1.wav",
    )
    missed_call = _call(
        db, "1.2", "+79005550004", disposition=CallDisposition.NO_ANSWER, unregistered_number=True
    )
    missed = MissedCall(
        call_record_id=missed_call.id,
        caller_number="+79005550004",
        reason=MissedReason.MANAGER_NO_ANSWER,
        assigned_manager_id=staff.other.id,
    )
    db.add(missed)
    db.commit()
    return {"answered": answered.id, "missed_call": missed_call.id, "missed": missed.id}


def test_calls_and_missed_calls_follow_scope(client: TestClient, staff: Staff, calls: dict[str, int]) -> None:
    mine = client.get("/api/v1/calls", headers=staff.headers(staff.manager)).json()["items"]
    assert [c["id"] for c in mine] == [calls["answered"]]
    assert mine[0]["recording_url"] == f"/api/v1/calls/{calls['answered']}/recording"
    assert (
        client.get(
            f"/api/v1/missed-calls/{calls['missed']}", headers=staff.headers(staff.manager)
        ).status_code
        == 404
    )
    theirs = client.get("/api/v1/missed-calls", params={"status": "open"}, headers=staff.headers(staff.other))
    assert [m["id"] for m in theirs.json()["items"]] == [calls["missed"]]
    everything = client.get("/api/v1/calls", headers=staff.headers(staff.director)).json()
    assert everything["total"] == 2
    assert (
        client.get(
            f"/api/v1/calls/{calls['answered']}/recording", headers=staff.headers(staff.manager)
        ).json()["error"]
        == "no-recording"
    )


def test_close_missed_call_with_comment_once(client: TestClient, staff: Staff, calls: dict[str, int]) -> None:
    url = f"/api/v1/missed-calls/{calls['missed']}/resolution"
    h = staff.headers(staff.other)
    ack = client.post(url, json={"action": "acknowledge", "comment": "seen"}, headers=h).json()
    assert (ack["status"], ack["comment"]) == ("open", "seen")
    closed = client.post(url, json={"action": "close", "comment": "called from mobile"}, headers=h).json()
    assert closed["status"] == "closed" and closed["closed_at"]
    again = client.post(url, json={"action": "close", "comment": "x"}, headers=h)
    assert (again.status_code, again.json()["error"]) == (409, "missed-call-closed")
    assert (
        client.post(
            url, json={"action": "close", "comment": "x"}, headers=staff.headers(staff.manager)
        ).status_code
        == 404
    )


def test_capture_report_per_manager_and_register(
    client: TestClient, staff: Staff, calls: dict[str, int], db: Session
) -> None:
    report = client.get(
        "/api/v1/reports/unregistered-numbers",
        params={"month": "2026-11"},
        headers=staff.headers(staff.admin),
    ).json()
    by_manager = {m["manager_id"]: [n["number"] for n in m["numbers"]] for m in report["managers"]}
    assert by_manager == {staff.manager.id: ["+79005550003"], staff.other.id: ["+79005550004"]}
    own = client.get(
        "/api/v1/reports/unregistered-numbers",
        params={"month": "2026-11"},
        headers=staff.headers(staff.manager),
    ).json()
    assert [m["manager_id"] for m in own["managers"]] == [staff.manager.id]
    client_card = add_counterparty(db, "New", staff.manager)
    db.commit()
    registered = client.post(
        "/api/v1/reports/unregistered-numbers/register",
        json={"number": "8 900 555-00-03", "counterparty_id": client_card.id},
        headers=staff.headers(staff.manager),
    ).json()
    assert (registered["e164"], registered["calls_linked"]) == ("+79005550003", 1)
    after = client.get(
        "/api/v1/reports/unregistered-numbers",
        params={"month": "2026-11"},
        headers=staff.headers(staff.manager),
    ).json()
    assert after["managers"] == []
    other_month = client.get(
        "/api/v1/reports/unregistered-numbers",
        params={"month": "2026-12"},
        headers=staff.headers(staff.admin),
    ).json()
    assert other_month["managers"] == []


async def test_transferred_call_shows_its_legs_to_both_managers(
    client: TestClient, staff: Staff, sessions: sessionmaker[Session], traces_dir: Path
) -> None:
    with sessions() as s, s.begin():
        for who, target in ((staff.manager, "PJSIP/m1"), (staff.other, "PJSIP/m2")):
            s.get_one(Manager, who.id).dial_target = target
    sink = CallTrackingSink(sessions, Metrics())
    for frame in trace_frames(traces_dir, "sip/s8"):
        await sink.handle("main", frame)
    (first,) = client.get("/api/v1/calls", headers=staff.headers(staff.manager)).json()["items"]
    taken = client.get(
        "/api/v1/calls", params={"manager_id": staff.other.id}, headers=staff.headers(staff.director)
    )
    assert [c["id"] for c in taken.json()["items"]] == [first["id"]]
    detail = client.get(f"/api/v1/calls/{first['id']}", headers=staff.headers(staff.other)).json()
    assert detail["transferred_to"] == "PJSIP/m2" and detail["approximate"] is False
    assert [(leg["target"], leg["manager_id"]) for leg in detail["legs"]] == [
        ("PJSIP/m1", staff.manager.id),
        ("PJSIP/m2", staff.other.id),
    ]
    assert [round(leg["talk_seconds"], 1) for leg in detail["legs"]] == [2.5, 3.5]
    assert detail["legs"][0]["answered_at"].startswith("2026-11-28T14:43:58")
    assert (
        client.get(f"/api/v1/calls/{first['id']}", headers=staff.headers(staff.controller)).status_code == 200
    )
