"""Routing administration: targets, settings, holidays, manager availability, the dry run.

Roles (admin writes, director reads), audit rows with before/after, validation errors naming the field,
and every change visible in the routing service's very next decision (its configuration cache is warm
before the change, so only the after-commit invalidation can make the new answer appear).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from callrouter.api.app import create_app
from callrouter.settings import Settings
from callrouter.wiring import Container, routing_options
from crm_core.metrics import Metrics
from crm_core.models import Manager, PhoneNumber
from crm_core.models.auth import AuditEntry
from crm_core.models.routing_config import RoutingSettings, RoutingTarget
from routing.service import RoutingService
from tests.api.conftest import Staff, add_counterparty

BASE = "/api/v1/routing"
WEDNESDAY_11 = "2026-03-04T11:00"
SUNDAY_11 = "2026-03-08T11:00"
STRANGER = "+79001119999"
WEEKDAYS = {str(d): [["09:00", "18:00"]] for d in range(1, 6)}


@pytest.fixture
def routed_app(settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> Iterator[FastAPI]:
    """The app with a real routing service over the test's sessions (no Redis: in-process cache).

    The deadline is generous: on a loaded machine a slow read would answer from the previous
    configuration (by design), which is not what these tests look at.
    """
    options = dataclasses.replace(routing_options(settings), deadline_s=5.0)
    service = RoutingService(sessions, Metrics(), options)
    yield create_app(Container(settings=settings, engine=engine, sessions=sessions, routing=service))
    asyncio.run(service.stop())


@pytest.fixture
def routed(routed_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(routed_app) as test_client:
        yield test_client


@pytest.fixture
def target(db: Session) -> RoutingTarget:
    row = RoutingTarget(name="reception", dial_string="PJSIP/100", ring_timeout_s=30)
    db.add(row)
    db.commit()
    return row


def audits(db: Session, entity: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)))


def route(client: TestClient, staff: Staff, number: str = STRANGER, at: str = WEDNESDAY_11) -> dict[str, Any]:
    response = client.get(
        "/routing/dry-run", params={"number": number, "at": at}, headers=staff.headers(staff.admin)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["degraded"] is None
    return body


def fields_of(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    body = response.json()
    detail = body["detail"]
    return [d["field"] for d in detail] if isinstance(detail, list) else [detail["field"]]


# roles ------------------------------------------------------------------------------------------------

READS = ["/targets", "/targets/{id}", "/settings", "/holidays"]
WRITES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/targets", {"name": "hr", "dial_string": "PJSIP/300"}),
    ("PATCH", "/targets/{id}", {"ring_timeout_s": 25}),
    ("DELETE", "/targets/{id}", None),
    ("PATCH", "/settings", {"reject_treatment": "hangup"}),
    ("PUT", "/settings", {"business_hours": None, "reject_treatment": "busy", "cache_ttl_s": 300,
        "default_target_id": None, "after_hours_target_id": None, "group_target_id": None,
        "manager_number_target_id": None, "fallback_to_controller": True, "fallback_to_reception": True,
        "negative_ttl_s": 30}),
    ("POST", "/holidays", {"day": "2026-05-01", "name": "Labour Day"}),
]  # fmt: skip


@pytest.mark.parametrize("path", READS)
def test_admin_and_director_read_others_are_refused(
    client: TestClient, staff: Staff, target: RoutingTarget, path: str
) -> None:
    url = BASE + path.format(id=target.id)
    for who, expected in [
        (staff.admin, 200),
        (staff.director, 200),
        (staff.controller, 403),
        (staff.manager, 403),
    ]:
        response = client.get(url, headers=staff.headers(who))
        assert response.status_code == expected, (who.login, response.text)
    assert client.get(url).status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_only_admin_writes(
    client: TestClient,
    staff: Staff,
    target: RoutingTarget,
    db: Session,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    url = BASE + path.format(id=target.id)
    for who in (staff.director, staff.controller, staff.manager):
        refused = client.request(method, url, json=body, headers=staff.headers(who))
        assert refused.status_code == 403, (who.login, refused.text)
        assert refused.json()["error"] == "forbidden-role"
    assert db.scalar(select(AuditEntry.id)) is None
    done = client.request(method, url, json=body, headers=staff.headers(staff.admin))
    assert done.status_code in (200, 201, 204), done.text


# targets ----------------------------------------------------------------------------------------------


def test_target_lifecycle_is_audited(client: TestClient, staff: Staff, db: Session) -> None:
    admin = staff.headers(staff.admin)
    created = client.post(f"{BASE}/targets", json={"name": "hr", "dial_string": "PJSIP/300"}, headers=admin)
    assert created.status_code == 201, created.text
    target_id = created.json()["id"]
    assert created.json() == {"id": target_id, "name": "hr", "dial_string": "PJSIP/300", "ring_timeout_s": 20}
    changed = client.patch(f"{BASE}/targets/{target_id}", json={"ring_timeout_s": 45}, headers=admin)
    assert changed.json()["ring_timeout_s"] == 45
    listed = client.get(f"{BASE}/targets", headers=admin).json()
    assert [t["name"] for t in listed["items"]] == ["hr"] and listed["total"] == 1
    assert client.delete(f"{BASE}/targets/{target_id}", headers=admin).status_code == 204
    assert (
        client.get(f"{BASE}/targets/{target_id}", headers=admin).json()["error"] == "no-such-routing-target"
    )

    entries = audits(db, "routing-target")
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert {e.actor_manager_id for e in entries} == {staff.admin.id}
    assert {e.entity_id for e in entries} == {str(target_id)}
    assert entries[0].before is None and entries[0].after is not None
    assert entries[0].after["dial_string"] == "PJSIP/300"
    assert entries[1].before is not None and entries[1].after is not None
    assert (entries[1].before["ring_timeout_s"], entries[1].after["ring_timeout_s"]) == (20, 45)
    assert entries[2].before is not None and entries[2].before["ring_timeout_s"] == 45
    assert entries[2].after is None


def test_target_conflicts_and_validation(
    client: TestClient, staff: Staff, target: RoutingTarget, db: Session
) -> None:
    admin = staff.headers(staff.admin)
    twin = client.post(f"{BASE}/targets", json={"name": "reception", "dial_string": "PJSIP/1"}, headers=admin)
    assert (twin.status_code, twin.json()["error"]) == (409, "routing-target-name-taken")
    other = client.post(
        f"{BASE}/targets", json={"name": "hr", "dial_string": "PJSIP/1"}, headers=admin
    ).json()
    rename = client.patch(f"{BASE}/targets/{other['id']}", json={"name": "reception"}, headers=admin)
    assert (rename.status_code, rename.json()["error"]) == (409, "routing-target-name-taken")
    assert fields_of(
        client.post(
            f"{BASE}/targets", json={"name": "x", "dial_string": "", "ring_timeout_s": 1}, headers=admin
        )
    ) == ["body.dial_string", "body.ring_timeout_s"]
    assert fields_of(client.patch(f"{BASE}/targets/{target.id}", json={"name": None}, headers=admin)) == [
        "name"
    ]

    client.patch(f"{BASE}/settings", json={"after_hours_target_id": target.id}, headers=admin)
    in_use = client.delete(f"{BASE}/targets/{target.id}", headers=admin)
    assert in_use.status_code == 409
    assert in_use.json() == {
        "error": "routing-target-in-use",
        "detail": {"id": target.id, "fields": ["after_hours_target_id"]},
    }
    db.expire_all()
    assert db.get(RoutingTarget, target.id) is not None


# settings ---------------------------------------------------------------------------------------------


def test_settings_defaults_put_and_patch_are_audited(
    client: TestClient, staff: Staff, target: RoutingTarget, db: Session
) -> None:
    admin = staff.headers(staff.admin)
    defaults = client.get(f"{BASE}/settings", headers=staff.headers(staff.director)).json()
    assert defaults["updated_at"] is None
    assert (defaults["reject_treatment"], defaults["cache_ttl_s"], defaults["negative_ttl_s"]) == (
        "busy",
        300,
        30,
    )
    assert defaults["default_target_id"] is None and defaults["fallback_to_reception"] is True

    whole = {key: value for key, value in defaults.items() if key != "updated_at"} | {
        "business_hours": WEEKDAYS,
        "default_target_id": target.id,
        "reject_treatment": "congestion",
        "cache_ttl_s": 60,
    }
    put = client.put(f"{BASE}/settings", json=whole, headers=admin)
    assert put.status_code == 200, put.text
    assert {k: v for k, v in put.json().items() if k != "updated_at"} == whole
    assert put.json()["updated_at"] is not None
    patched = client.patch(f"{BASE}/settings", json={"fallback_to_controller": False}, headers=admin).json()
    assert patched["fallback_to_controller"] is False and patched["reject_treatment"] == "congestion"
    assert client.get(f"{BASE}/settings", headers=admin).json() | {"updated_at": None} == patched | {
        "updated_at": None
    }

    entries = audits(db, "routing-settings")
    assert [(e.action, e.actor_manager_id, e.entity_id) for e in entries] == [
        ("update", staff.admin.id, "1"),
        ("update", staff.admin.id, "1"),
    ]
    first, second = entries
    assert first.before is not None and first.after is not None
    assert (first.before["reject_treatment"], first.after["reject_treatment"]) == ("busy", "congestion")
    assert (first.before["business_hours"], first.after["business_hours"]) == (None, WEEKDAYS)
    assert first.after["default_target_id"] == target.id
    assert second.before is not None and second.after is not None
    assert (second.before["fallback_to_controller"], second.after["fallback_to_controller"]) == (True, False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"business_hours": {"1": [["18:00", "09:00"]]}}, "body.business_hours"),
        ({"business_hours": {"1": [["09:00", "25:00"]]}}, "body.business_hours.1.0.1"),
        ({"business_hours": {"8": [["09:00", "18:00"]]}}, "body.business_hours.8.[key]"),
        ({"business_hours": {"1": [["09:00"]]}}, "body.business_hours.1.0"),
        ({"cache_ttl_s": 0}, "body.cache_ttl_s"),
        ({"reject_treatment": "voicemail"}, "body.reject_treatment"),
        ({"reject_treatment": None}, "reject_treatment"),
        ({"default_target_id": 999_999}, "default_target_id"),
        ({"surprise": 1}, "body.surprise"),
    ],
)
def test_bad_settings_name_the_field(
    client: TestClient, staff: Staff, db: Session, body: dict[str, Any], field: str
) -> None:
    response = client.patch(f"{BASE}/settings", json=body, headers=staff.headers(staff.admin))
    assert fields_of(response) == [field]
    db.expire_all()
    assert db.get(RoutingSettings, 1) is None


def test_business_hours_up_to_midnight_are_accepted(client: TestClient, staff: Staff) -> None:
    hours = {"6": [["10:00", "14:00"], ["15:00", "24:00"]]}
    response = client.patch(
        f"{BASE}/settings", json={"business_hours": hours}, headers=staff.headers(staff.admin)
    )
    assert response.status_code == 200, response.text
    assert response.json()["business_hours"] == hours


# holidays ---------------------------------------------------------------------------------------------


def test_holidays_list_create_delete(client: TestClient, staff: Staff, db: Session) -> None:
    admin = staff.headers(staff.admin)
    for day, name in [("2026-05-09", "Victory Day"), ("2026-01-01", "New Year"), ("2027-01-01", "New Year")]:
        assert (
            client.post(f"{BASE}/holidays", json={"day": day, "name": name}, headers=admin).status_code == 201
        )
    again = client.post(f"{BASE}/holidays", json={"day": "2026-01-01", "name": "x"}, headers=admin)
    assert (again.status_code, again.json()["error"]) == (409, "holiday-exists")
    in_2026 = client.get(
        f"{BASE}/holidays",
        params={"from": "2026-01-01", "to": "2026-12-31"},
        headers=staff.headers(staff.director),
    ).json()
    assert [h["day"] for h in in_2026["items"]] == ["2026-01-01", "2026-05-09"]
    assert fields_of(
        client.post(f"{BASE}/holidays", json={"day": "2026-02-30", "name": "x"}, headers=admin)
    ) == ["body.day"]
    first = in_2026["items"][0]["id"]
    assert client.delete(f"{BASE}/holidays/{first}", headers=admin).status_code == 204
    assert client.delete(f"{BASE}/holidays/{first}", headers=admin).json()["error"] == "no-such-holiday"
    assert [e.action for e in audits(db, "holiday")] == ["create"] * 3 + ["delete"]
    assert audits(db, "holiday")[-1].before == {"id": first, "day": "2026-01-01", "name": "New Year"}


# the next call sees the change --------------------------------------------------------------------------


def test_each_change_is_in_the_next_decision(routed: TestClient, staff: Staff) -> None:
    admin = staff.headers(staff.admin)
    assert route(routed, staff)["steps"] == [{"target": "PJSIP/reception", "timeout_s": 30}]  # cache is warm

    desk = routed.post(
        f"{BASE}/targets", json={"name": "desk", "dial_string": "PJSIP/100"}, headers=admin
    ).json()
    night = routed.post(
        f"{BASE}/targets",
        json={"name": "night", "dial_string": "PJSIP/900", "ring_timeout_s": 60},
        headers=admin,
    ).json()
    routed.patch(f"{BASE}/settings", json={"default_target_id": desk["id"]}, headers=admin)
    assert route(routed, staff)["steps"] == [{"target": "PJSIP/100", "timeout_s": 20}]

    routed.patch(f"{BASE}/targets/{desk['id']}", json={"dial_string": "PJSIP/101"}, headers=admin)
    assert route(routed, staff)["target"] == "PJSIP/101"

    hours = routed.patch(
        f"{BASE}/settings",
        json={"business_hours": WEEKDAYS, "after_hours_target_id": night["id"]},
        headers=admin,
    )
    assert hours.status_code == 200, hours.text
    sunday = route(routed, staff, at=SUNDAY_11)
    assert (sunday["target"], sunday["after_hours"]) == ("PJSIP/900", True)
    assert route(routed, staff)["after_hours"] is False

    holiday = routed.post(f"{BASE}/holidays", json={"day": "2026-03-04", "name": "x"}, headers=admin).json()
    assert (route(routed, staff)["target"], route(routed, staff)["after_hours"]) == ("PJSIP/900", True)
    routed.delete(f"{BASE}/holidays/{holiday['id']}", headers=admin)
    assert route(routed, staff)["target"] == "PJSIP/101"


def test_manager_availability_set_by_admin_is_in_the_next_decision(
    routed: TestClient, staff: Staff, db: Session
) -> None:
    admin = staff.headers(staff.admin)
    owner = db.get(Manager, staff.manager.id)
    assert owner is not None
    client_row = add_counterparty(db, "Acme", owner)
    db.add(PhoneNumber(e164="+79001110001", counterparty_id=client_row.id))
    db.commit()
    url = f"/api/v1/managers/{staff.manager.id}"

    set_target = routed.patch(url, json={"dial_target": "PJSIP/201"}, headers=admin)
    assert set_target.status_code == 200, set_target.text
    assert route(routed, staff, "+79001110001")["target"] == "PJSIP/201"

    routed.patch(url, json={"on_leave_until": "2026-03-10"}, headers=admin)
    on_leave = route(routed, staff, "+79001110001")
    assert (on_leave["kind"], on_leave["target"]) == ("fallback", "PJSIP/reception")
    routed.patch(
        url, json={"on_leave_until": None, "working_hours": {"1": [["09:00", "10:00"]]}}, headers=admin
    )
    assert route(routed, staff, "+79001110001")["kind"] == "fallback"  # Wednesday is not a working day
    routed.patch(url, json={"working_hours": None, "active": False}, headers=admin)
    assert route(routed, staff, "+79001110001")["kind"] == "fallback"
    routed.patch(url, json={"active": True}, headers=admin)
    assert route(routed, staff, "+79001110001")["target"] == "PJSIP/201"

    reversed_hours = routed.patch(url, json={"working_hours": {"1": [["18:00", "09:00"]]}}, headers=admin)
    assert fields_of(reversed_hours) == ["body.working_hours"]
    updates = [e for e in audits(db, "manager") if e.action == "update"]
    assert len(updates) == 5 and all(e.actor_manager_id == staff.admin.id for e in updates)
    assert updates[0].before is not None and updates[0].after is not None
    assert (updates[0].before["dial_target"], updates[0].after["dial_target"]) == (None, "PJSIP/201")


# the dry run --------------------------------------------------------------------------------------------


def test_dry_run_roles_and_unavailable_routing(client: TestClient, routed: TestClient, staff: Staff) -> None:
    params = {"number": "8 900 111-99-99", "at": WEDNESDAY_11}
    for who, expected in [(staff.director, 200), (staff.controller, 200), (staff.manager, 200)]:
        assert (
            routed.get("/routing/dry-run", params=params, headers=staff.headers(who)).status_code == expected
        )
    assert routed.get("/routing/dry-run", params=params).status_code == 401
    body = routed.get("/routing/dry-run", params=params, headers=staff.headers(staff.manager)).json()
    assert (body["number"], body["kind"], body["register_number"]) == ("8 900 111-99-99", "unknown", True)
    assert STRANGER in body["reason"]
    no_service = client.get("/routing/dry-run", params=params, headers=staff.headers(staff.admin))
    assert (no_service.status_code, no_service.json()["error"]) == (503, "routing-unavailable")
