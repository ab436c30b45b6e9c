"""Business hours and holidays, timezone-aware; property tests for the hours parser and the policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_core.phone_numbers import normalize_number
from crm_core.repositories.routing import NumberRow
from routing.calendar import WeeklyHours, is_business_time, local_time
from routing.decision import RouteKind, RouteStep
from routing.resolver import resolve
from routing.snapshot import ManagerInfo, RoutingConfig

OFFICE = WeeklyHours.parse({str(d): [["09:00", "18:00"]] for d in range(1, 6)})


@pytest.mark.parametrize(
    ("tz", "expected"),
    [("Europe/Moscow", True), ("Asia/Vladivostok", False), ("America/New_York", False), ("UTC", False)],
)
def test_one_instant_is_open_or_closed_depending_on_the_company_timezone(tz: str, expected: bool) -> None:
    instant = datetime(2026, 3, 4, 8, 30, tzinfo=UTC)  # 11:30 MSK, 18:30 Vladivostok, 03:30 NY
    assert is_business_time(local_time(instant, ZoneInfo(tz)), OFFICE, frozenset()) is expected


def test_holiday_is_the_local_date_not_the_utc_date() -> None:
    vladivostok = ZoneInfo("Asia/Vladivostok")
    instant = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)  # Monday 9 March, 09:30 in Vladivostok
    holidays = frozenset({date(2026, 3, 9)})
    assert not is_business_time(local_time(instant, vladivostok), OFFICE, holidays)
    assert is_business_time(local_time(instant, vladivostok), OFFICE, frozenset())


def test_naive_times_are_company_wall_clock() -> None:
    assert local_time(datetime(2026, 3, 4, 9, 0), ZoneInfo("Asia/Tokyo")).utcoffset() == timedelta(hours=9)


def test_no_business_hours_means_always_open_except_holidays() -> None:
    night = datetime(2026, 3, 4, 3, 0)
    assert is_business_time(night, None, frozenset())
    assert not is_business_time(night, None, frozenset({night.date()}))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"0": []}, "weekday"),
        ({"1": "09:00-18:00"}, "list"),
        ({"1": [["9:00", "18:00"]]}, "HH:MM"),
        ({"1": [["18:00", "09:00"]]}, "ends before"),
        ({"1": [["09:00", "25:00"]]}, "time of day"),
        ({"1": [["09:00"]]}, "[start, end]"),
        ([["09:00", "18:00"]], "object"),
    ],
)
def test_malformed_hours_are_a_clear_error(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        WeeklyHours.parse(raw)  # type: ignore[arg-type]


_minute = st.integers(0, 24 * 60)
_interval = st.tuples(_minute, _minute).filter(lambda p: p[0] < p[1])
_week = st.dictionaries(st.sampled_from("1234567"), st.lists(_interval, max_size=3))


def _hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


@given(_week, st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)))
def test_is_open_matches_the_intervals(week: dict[str, list[tuple[int, int]]], at: datetime) -> None:
    hours = WeeklyHours.parse({d: [[_hhmm(a), _hhmm(b)] for a, b in ivs] for d, ivs in week.items()})
    minute = at.hour * 60 + at.minute
    expected = any(a <= minute < b for a, b in week.get(str(at.isoweekday()), []))
    assert hours.is_open(at) is expected


_managers = st.builds(
    ManagerInfo,
    id=st.integers(1, 4),
    name=st.just("M"),
    dial_target=st.one_of(st.none(), st.sampled_from(["PJSIP/1", "PJSIP/2", "PJSIP/100"])),
    ring_timeout_s=st.integers(1, 60),
    active=st.booleans(),
    on_leave_until=st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2026, 12, 31))),
    controller_id=st.one_of(st.none(), st.integers(1, 4)),
    hours=st.one_of(st.none(), st.just(OFFICE)),
)
_configs = st.builds(
    RoutingConfig,
    default_route=st.just(RouteStep("PJSIP/100", 30)),
    after_hours_route=st.one_of(st.none(), st.just(RouteStep("PJSIP/900", 60))),
    group_route=st.one_of(st.none(), st.just(RouteStep("PJSIP/2", 20))),
    business_hours=st.one_of(st.none(), st.just(OFFICE)),
    fallback_to_controller=st.booleans(),
    fallback_to_reception=st.booleans(),
    managers=st.lists(_managers, max_size=4).map(lambda ms: {m.id: m for m in ms}),
)
_rows = st.one_of(
    st.none(),
    st.builds(
        lambda cp, contact, mgr: NumberRow(
            e164="+79001234567",
            counterparty_id=cp,
            contact_person_id=contact,
            owner_manager_id=None,
            number_list_id=None,
            personal_manager_id=mgr,
        ),
        st.integers(1, 9),
        st.one_of(st.none(), st.integers(1, 9)),
        st.one_of(st.none(), st.integers(1, 5)),
    ),
)


@given(_configs, _rows, st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)))
def test_a_call_that_is_not_rejected_always_has_a_chain_of_distinct_targets(
    config: RoutingConfig, entry: NumberRow | None, at: datetime
) -> None:
    d = resolve(normalize_number("+79001234567"), entry, config, at)
    assert d.kind is not RouteKind.BLACKLIST
    assert d.steps, d
    assert all(step.target and step.timeout_s > 0 for step in d.steps)
    assert len({s.target for s in d.steps}) == len(d.steps)
    assert d.reason
    if d.kind is RouteKind.MANAGER:
        assert d.steps[0].target == config.managers[d.manager_id].dial_target  # type: ignore[index]
