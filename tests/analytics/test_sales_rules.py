"""The pure rules behind the funnel and the callback trend, at their boundaries."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_core.analytics.callback_trend import TrendStep, trend_periods
from crm_core.analytics.funnel import PATH, FunnelGrouping, cohort_period, conversions, funnel_rows, furthest
from crm_core.models import DealStageName
from crm_core.repositories.analytics_sales import DealPath

S = DealStageName


def test_months_of_a_trend_cross_the_year_and_stop_at_the_reference_day() -> None:
    periods = trend_periods(date(2024, 2, 10), TrendStep.MONTH, 3)
    assert [(p.start, p.end) for p in periods] == [
        (date(2023, 12, 1), date(2023, 12, 31)),
        (date(2024, 1, 1), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 10)),
    ]


def test_a_week_starts_on_monday_even_when_the_reference_day_is_one() -> None:
    (only,) = trend_periods(date(2024, 3, 4), TrendStep.WEEK, 1)
    assert (only.start, only.end) == (date(2024, 3, 4), date(2024, 3, 4))
    with pytest.raises(ValueError, match="at least one period"):
        trend_periods(date(2024, 3, 4), TrendStep.WEEK, 0)


def test_cohort_months_include_the_reference_month() -> None:
    assert cohort_period(date(2024, 1, 31), 1).start == date(2024, 1, 1)
    assert cohort_period(date(2024, 1, 31), 13).start == date(2023, 1, 1)
    with pytest.raises(ValueError, match="at least one month"):
        cohort_period(date(2024, 1, 31), 0)


def test_a_lost_deal_keeps_the_stages_it_reached() -> None:
    assert furthest([S.LEAD, S.NEGOTIATION, S.LOST], S.LOST) == (3, True)
    assert furthest([S.LEAD, S.LOST, S.QUALIFICATION], S.QUALIFICATION) == (1, False)  # reopened


def test_every_stage_of_a_group_that_is_empty_has_no_conversion() -> None:
    assert conversions([0, 0, 0, 0, 0]) == [None, None, None, None, None]


def _path(deal_id: int, created: datetime, *stages: DealStageName) -> DealPath:
    return DealPath(deal_id, 7, created, stages[-1], stages)


def test_months_are_company_months() -> None:
    late_may_utc = datetime(2024, 5, 31, 21, 30, tzinfo=UTC)
    rows = funnel_rows([_path(1, late_may_utc, S.LEAD)], FunnelGrouping.MONTH, "Europe/Moscow", {})
    assert {r.month for r in rows} == {"2024-06"}
    rows = funnel_rows([_path(1, late_may_utc, S.LEAD)], FunnelGrouping.MONTH, "UTC", {})
    assert {r.month for r in rows} == {"2024-05"}


stage_lists = st.lists(st.sampled_from(list(DealStageName)), min_size=1, max_size=6)


@given(st.lists(stage_lists, min_size=1, max_size=30))
def test_the_funnel_never_widens_and_conversions_stay_shares(histories: list[list[DealStageName]]) -> None:
    created = datetime(2024, 5, 2, tzinfo=UTC)
    paths = [_path(n, created, *stages) for n, stages in enumerate(histories)]
    rows = funnel_rows(paths, FunnelGrouping.TOTAL, "UTC", {})
    reached = [r.deals for r in rows[: len(PATH)]]
    assert reached[0] == len(paths)
    assert all(a >= b for a, b in itertools.pairwise(reached))
    assert all(r.conversion is None or 0 <= r.conversion <= 1 for r in rows)
    assert rows[-1].stage is S.LOST and rows[-1].deals == sum(1 for h in histories if h[-1] is S.LOST)
