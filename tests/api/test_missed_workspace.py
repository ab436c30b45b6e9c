"""The workspace's missed-call API per role: one-request list (names, age, SLA), scopes and the shared
queue, reassignment, the answer after a call, notifications read on resolve, the supervisor reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from crm_core.models import (
    CallDirection,
    CallDisposition,
    CallRecord,
    Interaction,
    Manager,
    ManagerRole,
    MissedCall,
    MissedReason,
    MissedStatus,
    utcnow,
)
from crm_core.models.escalation import EscalationStep, InAppNotification, StepStatus
from tests.api.conftest import Staff, add_counterparty, add_manager

_seq = iter(range(1, 1_000_000))
COMPANY_TZ = ZoneInfo("Europe/Moscow")


def minutes_ago_today(at_most: timedelta = timedelta(minutes=5)) -> timedelta:
    """An age of at most ``at_most`` that keeps a moment inside the company's current day."""
    now = datetime.now(COMPANY_TZ)
    return min(at_most, (now - now.replace(hour=0, minute=0, second=0, microsecond=0)) / 2)


def add_missed(
    db: Session,
    caller: str,
    *,
    manager: Manager | None = None,
    counterparty_id: int | None = None,
    age: timedelta | None = None,
    attempts: int = 1,
) -> MissedCall:
    """A missed call ``age`` ago (by default a few minutes ago, but always today in the company's timezone,
    so a test run just after the company's midnight sees it in today's and this month's reports)."""
    started = utcnow() - (age if age is not None else minutes_ago_today())
    record = CallRecord(
        pbx_system="main",
        linkedid=f"17958.{next(_seq)}",
        direction=CallDirection.INBOUND,
        caller_number=caller,
        started_at=started,
        disposition=CallDisposition.NO_ANSWER,
        counterparty_id=counterparty_id,
    )
    db.add(record)
    db.flush()
    missed = MissedCall(
        call_record_id=record.id,
        caller_number=caller,
        reason=MissedReason.MANAGER_NO_ANSWER,
        assigned_manager_id=manager.id if manager else None,
        counterparty_id=counterparty_id,
        attempts=attempts,
        last_attempt_at=started + timedelta(minutes=1) * (attempts - 1),
        created_at=started,
    )
    db.add(missed)
    db.flush()
    return missed


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def _count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def _ids(response: object) -> list[int]:
    return [item["id"] for item in response.json()["items"]]  # type: ignore[attr-defined]


def test_list_has_names_age_and_sla_in_a_constant_number_of_queries(
    client: TestClient, staff: Staff, db: Session, engine: Engine
) -> None:
    acme = add_counterparty(db, "ACME LLC", staff.manager)
    old = add_missed(
        db, "+79001110001", manager=staff.manager, counterparty_id=acme.id, age=timedelta(days=2)
    )
    fresh = add_missed(db, "+79001110002", manager=staff.manager, attempts=3)
    db.commit()
    h = staff.headers(staff.manager)
    with count_queries(engine) as few:
        page = client.get("/api/v1/missed-calls", params={"status": "open"}, headers=h).json()
    items = {i["id"]: i for i in page["items"]}
    assert page["total"] == 2 and set(items) == {old.id, fresh.id}
    assert (items[old.id]["counterparty_name"], items[old.id]["manager_name"]) == ("ACME LLC", "Manager")
    assert items[old.id]["overdue"] is True  # default policy: escalation after 24 h
    assert items[fresh.id]["overdue"] is False and items[fresh.id]["attempts"] == 3
    assert items[fresh.id]["counterparty_name"] is None
    assert 2 * 86400 - 60 < items[old.id]["age_seconds"] < 2 * 86400 + 600
    assert items[fresh.id]["last_call_at"] > items[fresh.id]["first_call_at"]
    for n in range(30):
        add_missed(db, f"+7900222{n:04d}", manager=staff.manager, counterparty_id=acme.id)
    db.commit()
    with count_queries(engine) as many:
        full = client.get("/api/v1/missed-calls", params={"page_size": 32}, headers=h).json()
    assert len(full["items"]) == 32
    assert len(many) == len(few)  # names and SLA come with the page: no query per row


def test_sla_follows_the_missed_calls_own_escalation_timer(
    client: TestClient, staff: Staff, db: Session
) -> None:
    missed = add_missed(db, "+79001110003", manager=staff.manager, age=timedelta(hours=1))
    due = utcnow() - timedelta(minutes=1)
    db.add(
        EscalationStep(
            missed_call_id=missed.id,
            step=1,
            due_at=due,
            status=StepStatus.PENDING,
            recipients=[],
            channels=[],
        )
    )
    db.commit()
    item = client.get(f"/api/v1/missed-calls/{missed.id}", headers=staff.headers(staff.manager)).json()
    assert item["overdue"] is True
    assert datetime.fromisoformat(item["due_at"]) == due.replace(microsecond=due.microsecond)


def test_paging_by_page_and_page_size(client: TestClient, staff: Staff, db: Session) -> None:
    made = [
        add_missed(db, f"+7900333{n:04d}", manager=staff.manager, age=timedelta(minutes=n)) for n in range(5)
    ]
    db.commit()
    h = staff.headers(staff.manager)
    second = client.get("/api/v1/missed-calls", params={"page": 2, "page_size": 2}, headers=h).json()
    assert (second["page"], second["page_size"], second["offset"], second["total"]) == (2, 2, 2, 5)
    assert [i["id"] for i in second["items"]] == [made[2].id, made[3].id]  # newest first


def test_scopes_per_role_and_the_shared_queue(client: TestClient, staff: Staff, db: Session) -> None:
    mine = add_missed(db, "+79001110010", manager=staff.manager)
    controllers = add_missed(db, "+79001110011", manager=staff.controller)
    others = add_missed(db, "+79001110012", manager=staff.other)
    unknown = add_missed(db, "+79001110013")
    db.commit()

    def ids(who: Manager, scope: str | None = None) -> set[int]:
        params = {"scope": scope} if scope else {}
        response = client.get("/api/v1/missed-calls", params=params, headers=staff.headers(who))
        assert response.status_code == 200, response.json()
        return set(_ids(response))

    assert ids(staff.manager) == ids(staff.manager, "mine") == {mine.id}
    assert ids(staff.manager, "team") == {mine.id}
    assert ids(staff.controller, "mine") == {controllers.id}
    assert ids(staff.controller, "team") == {mine.id, controllers.id}
    assert ids(staff.controller, "all") == {mine.id, controllers.id, unknown.id}
    assert ids(staff.controller, "unknown") == {unknown.id}
    assert ids(staff.director, "team") == {mine.id, controllers.id, others.id}
    assert ids(staff.director, "all") == ids(staff.admin) == {mine.id, controllers.id, others.id, unknown.id}
    assert ids(staff.director, "unknown") == {unknown.id}
    refused = client.get(
        "/api/v1/missed-calls", params={"scope": "unknown"}, headers=staff.headers(staff.other)
    )
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden-role")
    bad = client.get("/api/v1/missed-calls", params={"scope": "galaxy"}, headers=staff.headers(staff.other))
    assert (bad.status_code, bad.json()["error"]) == (422, "validation-failed")


def test_assign_from_the_queue_by_role(client: TestClient, staff: Staff, db: Session) -> None:
    unknown = add_missed(db, "+79001110020")
    db.commit()
    url = f"/api/v1/missed-calls/{unknown.id}/assign"
    by_manager = client.post(url, json={"manager_id": staff.manager.id}, headers=staff.headers(staff.manager))
    assert by_manager.status_code == 404  # a manager does not even see the queue
    outside = client.post(url, json={"manager_id": staff.other.id}, headers=staff.headers(staff.controller))
    assert (outside.status_code, outside.json()["error"]) == (404, "no-such-manager")
    given = client.post(url, json={"manager_id": staff.manager.id}, headers=staff.headers(staff.controller))
    assert given.status_code == 200
    assert (given.json()["assigned_manager_id"], given.json()["manager_name"]) == (
        staff.manager.id,
        "Manager",
    )
    mine = client.get("/api/v1/missed-calls", params={"scope": "mine"}, headers=staff.headers(staff.manager))
    assert _ids(mine) == [unknown.id]
    queue = client.get(
        "/api/v1/missed-calls", params={"scope": "unknown"}, headers=staff.headers(staff.controller)
    )
    assert _ids(queue) == []
    moved = client.post(url, json={"manager_id": staff.other.id}, headers=staff.headers(staff.director))
    assert moved.json()["assigned_manager_id"] == staff.other.id
    refused = client.post(url, json={"manager_id": staff.other.id}, headers=staff.headers(staff.other))
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden-role")


def test_assignees_are_whom_each_role_may_hand_a_call_to(
    client: TestClient, staff: Staff, db: Session
) -> None:
    reception = add_manager(db, "reception", ManagerRole.RECEPTION)
    add_manager(db, "gone", ManagerRole.MANAGER, active=False)
    unknown = add_missed(db, "+79001110021")
    db.commit()

    def names(who: Manager) -> list[str]:
        response = client.get("/api/v1/missed-calls/assignees", headers=staff.headers(who))
        assert response.status_code == 200, response.text
        return [person["name"] for person in response.json()]

    everyone = sorted(
        m.name for m in (staff.admin, staff.director, staff.controller, staff.manager, staff.other)
    )
    assert names(reception) == sorted([*everyone, "Reception"])  # no team of its own: anyone active
    assert names(staff.controller) == ["Controller", "Manager"]  # their team, as the assignment allows
    assert names(staff.director) == sorted([*everyone, "Reception"])
    refused = client.get("/api/v1/missed-calls/assignees", headers=staff.headers(staff.manager))
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden-role")
    # reception hands the queued call to someone outside any team it could see through GET /managers
    given = client.post(
        f"/api/v1/missed-calls/{unknown.id}/assign",
        json={"manager_id": staff.other.id},
        headers=staff.headers(reception),
    )
    assert (given.status_code, given.json()["assigned_manager_id"]) == (200, staff.other.id)


def test_called_back_counts_in_the_callback_rate_and_the_note_reaches_the_card(
    client: TestClient, staff: Staff, db: Session
) -> None:
    acme = add_counterparty(db, "ACME LLC", staff.manager)
    missed = add_missed(db, "+79001110030", manager=staff.manager, counterparty_id=acme.id)
    note = InAppNotification(
        dedupe_key=f"mc{missed.id}:s0:r{staff.manager.id}:inapp",
        recipient_manager_id=staff.manager.id,
        missed_call_id=missed.id,
        title="Missed call",
        body="call back",
    )
    db.add(note)
    db.commit()
    h = staff.headers(staff.manager)
    assert client.get("/api/v1/notifications", headers=h).json()["unread"] == 1
    done = client.post(
        f"/api/v1/missed-calls/{missed.id}/resolve",
        json={"outcome": "called_back", "note": "Wants 200 m of cable"},
        headers=h,
    )
    assert done.status_code == 200, done.json()
    assert (done.json()["status"], done.json()["overdue"]) == ("called_back", False)
    assert done.json()["called_back_at"] is not None
    assert client.get("/api/v1/notifications", headers=h).json()["unread"] == 0
    db.expire_all()
    history = db.scalars(select(Interaction).where(Interaction.counterparty_id == acme.id)).all()
    assert [(i.summary, i.manager_id, i.kind.value) for i in history] == [
        ("Wants 200 m of cable", staff.manager.id, "call")
    ]
    card = client.get(f"/api/v1/counterparties/{acme.id}/card", headers=h).json()
    assert card["last_interactions"][0]["summary"] == "Wants 200 m of cable"
    assert card["open_missed_calls"] == []
    since = (utcnow() - timedelta(days=1)).isoformat()
    until = (utcnow() + timedelta(days=1)).isoformat()
    stats = client.get(
        "/api/v1/reports/missed-calls", params={"since": since, "until": until}, headers=h
    ).json()
    assert [(s["manager_id"], s["called_back"], s["callback_rate"]) for s in stats] == [
        (staff.manager.id, 1, 1.0)
    ]
    again = client.post(
        f"/api/v1/missed-calls/{missed.id}/resolve", json={"outcome": "closed", "reason": "x"}, headers=h
    )
    assert (again.status_code, again.json()["error"]) == (409, "missed-call-closed")


def test_closing_without_callback_needs_a_reason(client: TestClient, staff: Staff, db: Session) -> None:
    missed = add_missed(db, "+79001110040", manager=staff.manager)
    db.commit()
    url = f"/api/v1/missed-calls/{missed.id}/resolve"
    h = staff.headers(staff.manager)
    missing = client.post(url, json={"outcome": "closed"}, headers=h)
    assert (missing.status_code, missing.json()["error"]) == (422, "reason-required")
    wrong = client.post(url, json={"outcome": "maybe"}, headers=h)
    assert (wrong.status_code, wrong.json()["error"]) == (422, "validation-failed")
    closed = client.post(
        url, json={"outcome": "closed", "reason": "Wrong number", "note": "asked for Ivan"}, headers=h
    )
    assert (closed.json()["status"], closed.json()["comment"]) == ("closed", "Wrong number: asked for Ivan")
    assert closed.json()["called_back_at"] is None
    stranger = client.post(url, json={"outcome": "called_back"}, headers=staff.headers(staff.other))
    assert stranger.status_code == 404


def test_read_all_marks_only_mine(client: TestClient, staff: Staff, db: Session) -> None:
    missed = add_missed(db, "+79001110050", manager=staff.manager)
    for who in (staff.manager, staff.manager, staff.other):
        db.add(
            InAppNotification(
                dedupe_key=f"t{next(_seq)}",
                recipient_manager_id=who.id,
                missed_call_id=missed.id,
                title="t",
                body="b",
            )
        )
    db.commit()
    result = client.post("/api/v1/notifications/read-all", headers=staff.headers(staff.manager)).json()
    assert result == {"marked": 2, "unread": 0}
    assert client.get("/api/v1/notifications", headers=staff.headers(staff.other)).json()["unread"] == 1


def test_open_missed_calls_report_per_role_is_filtered_before_the_limit(
    client: TestClient, staff: Staff, db: Session
) -> None:
    team = add_missed(db, "+79001110060", manager=staff.manager, age=timedelta(hours=1))
    add_missed(db, "+79001110061", manager=staff.other, age=timedelta(hours=2))
    db.commit()
    controller = client.get(
        "/api/v1/reports/open-missed-calls", headers=staff.headers(staff.controller)
    ).json()
    assert [r["id"] for r in controller] == [team.id]
    director = client.get("/api/v1/reports/open-missed-calls", headers=staff.headers(staff.director)).json()
    assert len(director) == 2


@pytest.mark.parametrize("status", ["open", "closed"])
def test_status_filter(client: TestClient, staff: Staff, db: Session, status: str) -> None:
    waiting = add_missed(db, "+79001110070", manager=staff.manager)
    escalated = add_missed(db, "+79001110071", manager=staff.manager)
    escalated.status = MissedStatus.ESCALATED
    closed = add_missed(db, "+79001110072", manager=staff.manager)
    closed.status, closed.closed_at = MissedStatus.CLOSED, datetime.now(UTC)
    db.commit()
    got = set(
        _ids(
            client.get(
                "/api/v1/missed-calls", params={"status": status}, headers=staff.headers(staff.manager)
            )
        )
    )
    assert got == ({waiting.id, escalated.id} if status == "open" else {closed.id})


def test_reception_keeps_the_shared_queue(client: TestClient, staff: Staff, db: Session) -> None:
    reception = Manager(name="Reception", login="reception", role=ManagerRole.RECEPTION)
    db.add(reception)
    queued = add_missed(db, "+79001110080")
    someones = add_missed(db, "+79001110081", manager=staff.manager)
    db.commit()
    h = staff.headers(reception)
    queue = client.get("/api/v1/missed-calls", params={"scope": "unknown"}, headers=h)
    assert _ids(queue) == [queued.id]
    assert _ids(client.get("/api/v1/missed-calls", headers=h)) == [queued.id]  # not the managers' calls
    given = client.post(
        f"/api/v1/missed-calls/{queued.id}/assign", json={"manager_id": staff.other.id}, headers=h
    )
    assert given.status_code == 200 and given.json()["assigned_manager_id"] == staff.other.id
    again = client.post(
        f"/api/v1/missed-calls/{queued.id}/assign", json={"manager_id": staff.manager.id}, headers=h
    )
    assert again.status_code == 404  # out of the queue, out of reception's sight
    hidden = client.post(
        f"/api/v1/missed-calls/{someones.id}/assign", json={"manager_id": staff.other.id}, headers=h
    )
    assert hidden.status_code == 404
    me = client.get("/api/v1/me", headers=h).json()
    assert me["role"] == "reception"
