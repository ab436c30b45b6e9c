"""Pure rules: client status, ABC, XYZ, RFM quintiles, callback statistics, last touch."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_core.analytics.abc_xyz import (
    AbcClass,
    AbcThresholds,
    XyzClass,
    XyzThresholds,
    abc_classes,
    coefficient_of_variation,
    xyz_class,
)
from crm_core.analytics.kpi import callback_stats
from crm_core.analytics.period import Period
from crm_core.analytics.rfm import quintile_scores, rfm_scores
from crm_core.analytics.status import StatusThresholds, classify
from crm_core.models import ClientStatus
from crm_core.repositories.analytics import PurchaseHistory

TODAY = date(2024, 6, 30)
S = ClientStatus


@pytest.mark.parametrize(
    ("count", "age", "expected"),
    [
        (0, None, S.POTENTIAL),
        (1, 0, S.ONE_TIME_FRESH),
        (1, 90, S.ONE_TIME_FRESH),
        (1, 91, S.ONE_TIME_OLD),
        (1, -3, S.ONE_TIME_FRESH),
        (2, 180, S.REGULAR),
        (2, 181, S.DEPARTED),
        (40, 1, S.REGULAR),
    ],
)
def test_status_boundaries(count: int, age: int | None, expected: ClientStatus) -> None:
    last = None if age is None else TODAY - timedelta(days=age)
    assert classify(count, last, TODAY) == expected


def test_status_thresholds_are_parameters() -> None:
    short = StatusThresholds(fresh_days=30, departed_days=60)
    assert classify(1, TODAY - timedelta(days=31), TODAY, short) == S.ONE_TIME_OLD
    assert classify(3, TODAY - timedelta(days=61), TODAY, short) == S.DEPARTED


@pytest.mark.parametrize(("count", "last"), [(-1, None), (2, None)])
def test_status_rejects_impossible_input(count: int, last: date | None) -> None:
    with pytest.raises(ValueError):
        classify(count, last, TODAY)


def test_negative_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        StatusThresholds(fresh_days=-1)


@given(st.integers(0, 1000), st.integers(-30, 2000), st.integers(0, 400))
def test_status_only_ages_downwards(count: int, age: int, later: int) -> None:
    """Time passing without shipments never makes a client look more active."""
    last = TODAY - timedelta(days=age)
    now, then = classify(count, last, TODAY), classify(count, last, TODAY + timedelta(days=later))
    if count == 0:
        assert now == then == S.POTENTIAL
    elif count == 1:
        assert now in (S.ONE_TIME_FRESH, S.ONE_TIME_OLD)
        assert then in (now, S.ONE_TIME_OLD)
    else:
        assert now in (S.REGULAR, S.DEPARTED)
        assert then in (now, S.DEPARTED)


revenues = st.dictionaries(
    st.integers(1, 10_000), st.decimals(-100, 10_000, places=2, allow_nan=False), max_size=60
)


@given(revenues)
def test_abc_class_a_is_the_smallest_top_set_covering_80_percent(revenue: dict[int, Decimal]) -> None:
    classes = abc_classes(revenue)
    total = sum((r for r in revenue.values() if r > 0), Decimal(0))
    a = sorted((revenue[c] for c, k in classes.items() if k == AbcClass.A), reverse=True)
    if total == 0:
        assert set(classes.values()) <= {AbcClass.C}
        return
    assert sum(a) >= Decimal("0.8") * total
    assert sum(a[:-1]) < Decimal("0.8") * total
    order = [AbcClass.A, AbcClass.B, AbcClass.C]
    for x in revenue:
        for y in revenue:
            if revenue[x] > revenue[y]:
                assert order.index(classes[x]) <= order.index(classes[y])


def test_abc_b_and_c_split_at_95_percent() -> None:
    revenue = {1: Decimal(80), 2: Decimal(10), 3: Decimal(5), 4: Decimal(5), 5: Decimal(0)}
    assert abc_classes(revenue) == {1: "A", 2: "B", 3: "B", 4: "C", 5: "C"}


@pytest.mark.parametrize(
    ("monthly", "cv", "expected"),
    [
        ([100, 100, 100], Decimal(0), XyzClass.X),
        ([90, 110], Decimal("0.1"), XyzClass.X),
        ([80, 120], Decimal("0.2"), XyzClass.Y),
        ([0, 100], Decimal(1), XyzClass.Z),
        ([0, 0, 0], None, XyzClass.Z),
    ],
)
def test_xyz_by_coefficient_of_variation(monthly: list[int], cv: Decimal | None, expected: XyzClass) -> None:
    measured = coefficient_of_variation([Decimal(v) for v in monthly])
    assert measured == cv
    assert xyz_class(measured) == expected


def test_xyz_needs_two_months_and_sane_thresholds() -> None:
    with pytest.raises(ValueError, match="two months"):
        coefficient_of_variation([Decimal(5)])
    with pytest.raises(ValueError):
        XyzThresholds(x_cv=Decimal("0.5"), y_cv=Decimal("0.2"))
    with pytest.raises(ValueError):
        AbcThresholds(a_share=Decimal("0.9"), b_share=Decimal("0.8"))


@given(st.dictionaries(st.integers(), st.integers(-50, 50), min_size=1, max_size=80))
def test_quintile_scores_are_monotone_tie_stable_and_bounded(values: dict[int, int]) -> None:
    scores = quintile_scores(values)
    assert set(scores.values()) <= {1, 2, 3, 4, 5}
    for x in values:
        for y in values:
            if values[x] == values[y]:
                assert scores[x] == scores[y]
            elif values[x] > values[y]:
                assert scores[x] >= scores[y]


@given(st.integers(1, 30))
def test_quintiles_split_distinct_values_in_fifths(fifth: int) -> None:
    scores = quintile_scores({i: i for i in range(5 * fifth)})
    assert [list(scores.values()).count(s) for s in range(1, 6)] == [fifth] * 5


def test_rfm_rewards_recent_frequent_big_buyers() -> None:
    histories = [
        PurchaseHistory(1, date(2024, 6, 29), 12, Decimal(5000)),
        PurchaseHistory(2, date(2024, 1, 10), 1, Decimal(10)),
        PurchaseHistory(3, date(2024, 4, 1), 4, Decimal(700)),
    ]
    best, middle, worst = rfm_scores(histories, TODAY)
    # three clients start at positions 0, 1/3 and 2/3 of the ranking: fifths 1, 2 and 4
    assert (best.counterparty_id, best.code, best.recency_days) == (1, "444", 1)
    assert (middle.counterparty_id, middle.code) == (3, "222")
    assert (worst.counterparty_id, worst.code, worst.recency_days) == (2, "111", 172)


def test_rfm_tied_one_time_buyers_score_one() -> None:
    """60 % bought once: they all share F = 1; the next group starts in the fourth fifth."""
    frequency = {i: 1 for i in range(6)} | {6: 2, 7: 2, 8: 5, 9: 9}
    scores = quintile_scores(frequency)
    assert [scores[i] for i in range(10)] == [1] * 6 + [4, 4, 5, 5]


def test_rfm_all_equal_values_score_one() -> None:
    assert set(quintile_scores(dict.fromkeys(range(7), 3)).values()) == {1}


@given(st.dictionaries(st.integers(), st.integers(0, 5), min_size=1, max_size=80))
def test_the_worst_value_always_scores_one(values: dict[int, int]) -> None:
    scores = quintile_scores(values)
    worst = min(values.values())
    assert {scores[k] for k, v in values.items() if v == worst} == {1}


def test_callback_stats() -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    empty = callback_stats([])
    assert (empty.missed, empty.rate, empty.median_delay) == (0, None, None)
    stats = callback_stats(
        [(t, t + timedelta(minutes=m)) for m in (1, 3, 20, 60)] + [(t, None), (t, None), (t, None), (t, None)]
    )
    assert (stats.missed, stats.called_back, stats.rate) == (8, 4, 0.5)
    assert stats.median_delay == timedelta(minutes=11.5)


def test_period_rejects_empty_windows() -> None:
    with pytest.raises(ValueError):
        Period.last_days(0, TODAY)


@given(st.lists(st.decimals(0, 10**7, places=2), min_size=2, max_size=24))
def test_coefficient_of_variation_matches_the_statistics_module(monthly: list[Decimal]) -> None:
    cv = coefficient_of_variation(monthly)
    mean = statistics.mean(monthly)
    if mean == 0:
        assert cv is None
    else:
        assert cv is not None
        assert abs(cv - statistics.pstdev(monthly) / mean) < Decimal("1e-9")
