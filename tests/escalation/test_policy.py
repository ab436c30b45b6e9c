"""The pure policy: due times (wall-clock and business time) and recipients, plus its stored form."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from crm_core.models.routing_config import Holiday, RoutingSettings
from crm_core.services.escalation import (
    DEFAULT_POLICY,
    PolicyStep,
    RecipientFacts,
    business_calendar_source,
    load_policy,
    set_policy,
)
from routing.business_time import BusinessCalendar, add_business_time
from routing.escalation_policy import plan_steps, resolve_recipients

MON_FRI = {str(day): [["09:00", "18:00"]] for day in range(1, 6)}
MOSCOW = BusinessCalendar.build("Europe/Moscow", MON_FRI, holidays=[date(2026, 12, 31)])


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_default_policy_is_manager_and_controller_at_once_then_controller_and_director_after_24_hours() -> (
    None
):
    missed_at = utc(2026, 11, 28, 23, 30)  # a Saturday night: wall-clock steps ignore the calendar
    plans = plan_steps(DEFAULT_POLICY, missed_at, missed_at, MOSCOW)
    assert [(p.step, p.due_at, p.recipients) for p in plans] == [
        (0, missed_at, ("assigned_manager", "controller")),
        (1, missed_at + timedelta(hours=24), ("controller", "director")),
    ]


def test_a_missed_call_stamped_in_the_database_future_counts_from_the_database_now() -> None:
    missed_at, db_now = utc(2026, 11, 24, 10, 0, 5), utc(2026, 11, 24, 10, 0, 0)
    assert plan_steps(DEFAULT_POLICY, missed_at, db_now, MOSCOW)[0].due_at == db_now


@pytest.mark.parametrize(
    ("missed_at", "delay", "due_at"),
    [
        (utc(2026, 11, 24, 14, 0), timedelta(hours=2), utc(2026, 11, 25, 7, 0)),  # Tue 17:00 MSK -> Wed 10:00
        (utc(2026, 11, 24, 20, 0), timedelta(0), utc(2026, 11, 25, 6, 0)),  # at night: the next opening
        (utc(2026, 11, 27, 14, 0), timedelta(hours=1, minutes=30), utc(2026, 11, 30, 6, 30)),  # Fri -> Mon
        (utc(2026, 12, 30, 14, 0), timedelta(hours=2), utc(2027, 1, 1, 7, 0)),  # holiday Dec 31 skipped
        (utc(2026, 11, 24, 6, 0), timedelta(hours=24), utc(2026, 11, 26, 12, 0)),  # 9+9+6 business hours
    ],
)
def test_business_hours_delays_skip_nights_weekends_and_holidays(
    missed_at: datetime, delay: timedelta, due_at: datetime
) -> None:
    assert add_business_time(missed_at, delay, MOSCOW) == due_at


def test_business_time_across_a_dst_change_counts_real_hours() -> None:
    berlin = BusinessCalendar.build("Europe/Berlin", {str(d): [["00:00", "24:00"]] for d in range(1, 8)})
    # 2026-10-25 03:00 CEST -> 02:00 CET: the local day has 25 hours
    start = utc(2026, 10, 24, 22, 0)  # midnight in Berlin
    assert add_business_time(start, timedelta(hours=25), berlin) == start + timedelta(hours=25)


def test_a_calendar_that_is_never_open_is_a_clear_error() -> None:
    closed = BusinessCalendar.build("UTC", {})
    with pytest.raises(ValueError, match="no open hours"):
        add_business_time(utc(2026, 1, 1), timedelta(hours=1), closed)


def test_recipients_follow_roles_and_named_groups() -> None:
    facts = RecipientFacts(assigned_manager_id=5, controller_id=2, director_ids=(1,), groups={"duty": (7, 5)})
    assert resolve_recipients(["assigned_manager", "controller"], facts) == [5, 2]
    assert resolve_recipients(["controller", "director"], facts) == [2, 1]
    assert resolve_recipients(["group:duty", "director"], facts) == [7, 5, 1]
    assert resolve_recipients(["group:missing"], facts) == [1]  # nobody found: the directors


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delay_seconds": -1, "recipients": ("director",), "channels": ("email",)}, "negative"),
        ({"delay_seconds": 0, "recipients": ("boss",), "channels": ("email",)}, "boss"),
        ({"delay_seconds": 0, "recipients": ("group:",), "channels": ("email",)}, "group:"),
        ({"delay_seconds": 0, "recipients": ("director",), "channels": ("pigeon",)}, "pigeon"),
        ({"delay_seconds": 0, "recipients": (), "channels": ("email",)}, "non-empty"),
    ],
)
def test_invalid_policy_steps_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PolicyStep(**kwargs)  # type: ignore[arg-type]


def test_policy_is_stored_and_changed_at_run_time(session: Session) -> None:
    assert load_policy(session) == DEFAULT_POLICY
    custom = (
        PolicyStep(0, ("assigned_manager",), ("inapp", "sms")),
        PolicyStep(3600, ("group:duty",), ("whatsapp",), business_hours_only=True),
        PolicyStep(7200, ("director",), ("email", "webhook")),
    )
    set_policy(session, custom)
    assert load_policy(session) == custom
    set_policy(session, custom[:1])
    assert load_policy(session) == custom[:1]
    with pytest.raises(ValueError, match="at least one step"):
        set_policy(session, [])


def test_the_routing_calendar_in_the_database_feeds_business_time(session: Session) -> None:
    session.merge(RoutingSettings(id=1, business_hours=MON_FRI))
    session.add(Holiday(day=date(2026, 11, 25), name="esc-test holiday"))
    session.flush()
    hours, holidays = business_calendar_source(session)
    assert date(2026, 11, 25) in holidays
    calendar = BusinessCalendar.build("Europe/Moscow", hours, holidays)
    assert add_business_time(utc(2026, 11, 24, 14, 0), timedelta(hours=2), calendar) == utc(
        2026, 11, 26, 7, 0
    )
