"""The routing policy, decision kind by decision kind, on a fixed configuration and fixed local times."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from crm_core.models.enums import ListKind, ListTreatment
from crm_core.models.routing_config import RejectTreatment
from crm_core.phone_numbers import normalize_number
from crm_core.repositories.routing import NumberRow
from routing.calendar import WeeklyHours
from routing.decision import RouteKind, RouteStep
from routing.resolver import resolve
from routing.snapshot import ListInfo, ManagerInfo, RoutingConfig

MSK = ZoneInfo("Europe/Moscow")
WEDNESDAY_11 = datetime(2026, 3, 4, 11, 0, tzinfo=MSK)
WEDNESDAY_20 = datetime(2026, 3, 4, 20, 0, tzinfo=MSK)
SATURDAY_11 = datetime(2026, 3, 7, 11, 0, tzinfo=MSK)
HOLIDAY_11 = datetime(2026, 3, 9, 11, 0, tzinfo=MSK)
OFFICE = WeeklyHours.parse({str(d): [["09:00", "18:00"]] for d in range(1, 6)})
MORNINGS = WeeklyHours.parse({str(d): [["09:00", "12:00"]] for d in range(1, 6)})

RECEPTION = RouteStep("PJSIP/100", 30)
GROUP = RouteStep("PJSIP/200", 25)
NIGHT = RouteStep("PJSIP/900", 60)
STAFF = RouteStep("Local/staff@internal", 15)


def manager(mid: int, **changes: object) -> ManagerInfo:
    base = ManagerInfo(mid, f"M{mid}", f"PJSIP/{100 + mid}", 20 + mid, controller_id=None)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


MANAGERS = {
    1: manager(1, controller_id=2, hours=OFFICE),
    2: manager(2),
    3: manager(3, active=False, controller_id=2),
    4: manager(4, on_leave_until=date(2026, 3, 4), controller_id=2),
    5: manager(5, hours=MORNINGS, controller_id=2),
    6: manager(6, controller_id=3),
    7: manager(7, dial_target=None, controller_id=2),
}
LISTS = {
    10: ListInfo(10, "blacklist", ListKind.BLACKLIST, ListTreatment.REJECT),
    11: ListInfo(11, "candidates", ListKind.JOB_CANDIDATES, ListTreatment.ROUTE, "PJSIP/300", 40),
    12: ListInfo(12, "spam", ListKind.CUSTOM, ListTreatment.REJECT),
}
CONFIG = RoutingConfig(
    default_route=RECEPTION,
    after_hours_route=NIGHT,
    group_route=GROUP,
    manager_number_route=STAFF,
    business_hours=OFFICE,
    holidays=frozenset({date(2026, 3, 9)}),
    reject_treatment=RejectTreatment.CONGESTION,
    managers=MANAGERS,
    lists=LISTS,
)
NUMBER = normalize_number("+79001234567")


def row(**owner: int | None) -> NumberRow:
    base = NumberRow(
        e164="+79001234567",
        counterparty_id=None,
        contact_person_id=None,
        owner_manager_id=None,
        number_list_id=None,
        personal_manager_id=None,
    )
    base.update(owner)  # type: ignore[typeddict-item]
    return base


def client(manager_id: int | None, cp: int = 7) -> NumberRow:
    return row(counterparty_id=cp, personal_manager_id=manager_id)


def targets(steps: tuple[RouteStep, ...]) -> list[tuple[str, int]]:
    return [(s.target, s.timeout_s) for s in steps]


def test_available_manager_first_then_controller_group_reception() -> None:
    d = resolve(NUMBER, client(1), CONFIG, WEDNESDAY_11)
    assert d.kind is RouteKind.MANAGER
    assert targets(d.steps) == [("PJSIP/101", 21), ("PJSIP/102", 22), ("PJSIP/200", 25), ("PJSIP/100", 30)]
    assert (d.counterparty_id, d.manager_id, d.register_number, d.after_hours) == (7, 1, False, False)
    assert "personal manager M1" in d.reason


def test_contact_person_reaches_the_counterpartys_manager() -> None:
    d = resolve(
        NUMBER, row(counterparty_id=8, contact_person_id=3, personal_manager_id=1), CONFIG, WEDNESDAY_11
    )
    assert d.kind is RouteKind.MANAGER
    assert d.counterparty_id == 8
    assert "contact person" in d.reason


@pytest.mark.parametrize(
    ("manager_id", "why"),
    [
        (3, "is inactive"),
        (4, "is on leave until 2026-03-04"),
        (5, "is outside working hours"),
        (7, "has no dial target"),
    ],
)
def test_unavailable_manager_goes_to_the_fallback_chain(manager_id: int, why: str) -> None:
    at = WEDNESDAY_11.replace(hour=13)
    d = resolve(NUMBER, client(manager_id), CONFIG, at)
    assert d.kind is RouteKind.FALLBACK
    assert d.manager_id == manager_id
    assert targets(d.steps) == [("PJSIP/102", 22), ("PJSIP/200", 25), ("PJSIP/100", 30)]
    assert why in d.reason


def test_leave_is_over_the_day_after_on_leave_until() -> None:
    d = resolve(NUMBER, client(4), CONFIG, WEDNESDAY_11.replace(day=5))
    assert d.kind is RouteKind.MANAGER


def test_unavailable_controller_is_skipped_with_a_note() -> None:
    d = resolve(NUMBER, client(6), CONFIG, WEDNESDAY_11)
    assert targets(d.steps) == [("PJSIP/106", 26), ("PJSIP/200", 25), ("PJSIP/100", 30)]
    assert d.notes == ("controller M3 is inactive: skipped",)


def test_fallback_switches_come_from_configuration() -> None:
    config = dataclasses.replace(CONFIG, fallback_to_controller=False, fallback_to_reception=False)
    assert targets(resolve(NUMBER, client(1), config, WEDNESDAY_11).steps) == [
        ("PJSIP/101", 21),
        ("PJSIP/200", 25),
    ]
    bare = dataclasses.replace(config, group_route=None)
    d = resolve(NUMBER, client(3), bare, WEDNESDAY_11)
    assert targets(d.steps) == [("PJSIP/100", 30)], "the chain is never empty"


def test_counterparty_without_manager_uses_the_group_then_reception() -> None:
    d = resolve(NUMBER, client(None), CONFIG, WEDNESDAY_11)
    assert d.kind is RouteKind.FALLBACK
    assert targets(d.steps) == [("PJSIP/200", 25), ("PJSIP/100", 30)]
    assert "no personal manager" in d.reason


def test_duplicate_targets_are_rung_once() -> None:
    config = dataclasses.replace(CONFIG, group_route=RouteStep("PJSIP/102", 50))
    assert [s.target for s in resolve(NUMBER, client(1), config, WEDNESDAY_11).steps] == [
        "PJSIP/101",
        "PJSIP/102",
        "PJSIP/100",
    ]


@pytest.mark.parametrize("at", [WEDNESDAY_11, WEDNESDAY_20, HOLIDAY_11])
@pytest.mark.parametrize("list_id", [10, 12])
def test_rejecting_lists_reject_at_any_hour(at: datetime, list_id: int) -> None:
    d = resolve(NUMBER, row(number_list_id=list_id), CONFIG, at)
    assert d.kind is RouteKind.BLACKLIST
    assert d.steps == ()
    assert d.target is None
    assert d.treatment == "congestion"


def test_job_candidates_go_to_the_hr_target_then_reception() -> None:
    d = resolve(NUMBER, row(number_list_id=11), CONFIG, WEDNESDAY_11)
    assert d.kind is RouteKind.LIST
    assert targets(d.steps) == [("PJSIP/300", 40), ("PJSIP/100", 30)]
    assert "candidates" in d.reason


def test_managers_own_number_goes_to_the_configured_route() -> None:
    d = resolve(NUMBER, row(owner_manager_id=2), CONFIG, WEDNESDAY_20)
    assert d.kind is RouteKind.DEFAULT
    assert targets(d.steps) == [("Local/staff@internal", 15)]
    assert d.manager_id == 2
    unset = dataclasses.replace(CONFIG, manager_number_route=None)
    assert resolve(NUMBER, row(owner_manager_id=2), unset, WEDNESDAY_11).steps == (RECEPTION,)


@pytest.mark.parametrize(
    ("raw", "why", "register"),
    [
        ("+79001234567", "not in the CRM", True),
        ("8 (930) 000-30-11", "+79300003011 is not in the CRM", True),
        ("anonymous", "withheld", False),
        ("", "withheld", False),
        ("abc", "not a phone", False),
    ],
)
def test_unknown_callers_go_to_reception_and_only_a_real_number_is_flagged_for_registration(
    raw: str, why: str, register: bool
) -> None:
    d = resolve(normalize_number(raw), None, CONFIG, WEDNESDAY_11)
    assert d.kind is RouteKind.UNKNOWN
    assert d.steps == (RECEPTION,)
    assert d.register_number is register
    assert why in d.reason
    assert ("flagged for registration" in d.reason) is register


def test_a_possible_but_unallocated_number_in_the_crm_routes_like_any_other() -> None:
    d = resolve(normalize_number("8 (930) 000-30-11"), client(1), CONFIG, WEDNESDAY_11)
    assert d.kind is RouteKind.MANAGER
    assert not d.register_number


@pytest.mark.parametrize("at", [WEDNESDAY_20, SATURDAY_11, HOLIDAY_11])
def test_outside_business_hours_everyone_gets_the_after_hours_route(at: datetime) -> None:
    for entry, kind in [
        (client(1), RouteKind.FALLBACK),
        (None, RouteKind.UNKNOWN),
        (row(number_list_id=11), RouteKind.LIST),
    ]:
        d = resolve(NUMBER, entry, CONFIG, at)
        assert (d.kind, d.steps, d.after_hours) == (kind, (NIGHT,), True)
        assert "after-hours" in d.reason
    no_night = dataclasses.replace(CONFIG, after_hours_route=None)
    assert resolve(NUMBER, client(1), no_night, at).steps == (RECEPTION,)


def test_number_in_a_list_the_configuration_does_not_know_goes_to_reception() -> None:
    d = resolve(NUMBER, row(number_list_id=99), CONFIG, WEDNESDAY_11)
    assert (d.kind, d.steps) == (RouteKind.DEFAULT, (RECEPTION,))
