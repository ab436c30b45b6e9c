"""Analytics services against the migrated database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.analytics.abc_xyz import AbcClass, XyzClass, abc_xyz_report
from crm_core.analytics.kpi import manager_kpis
from crm_core.analytics.period import Period
from crm_core.analytics.rfm import rfm_report
from crm_core.analytics.status import recompute_statuses
from crm_core.models import ClientStatus, Counterparty, DealStageName
from tests.analytics.factories import LONG_AGO, Crm

TODAY = date(2024, 6, 30)
NOW = datetime(2024, 6, 30, 3, 0, tzinfo=UTC)
S = ClientStatus


def _statuses(session: Session) -> dict[str, ClientStatus]:
    return dict(session.execute(select(Counterparty.name, Counterparty.status)).all())


def test_recompute_sets_every_status_and_counts_transitions(session: Session, crm: Crm) -> None:
    crm.counterparty("potential")
    fresh, old, regular, departed = (crm.counterparty(n) for n in ("fresh", "old", "regular", "departed"))
    crm.shipment(fresh, TODAY - timedelta(days=90))
    crm.shipment(old, TODAY - timedelta(days=91))
    crm.shipment(regular, TODAY - timedelta(days=400))
    crm.shipment(regular, TODAY - timedelta(days=180))
    crm.shipment(departed, TODAY - timedelta(days=300))
    crm.shipment(departed, TODAY - timedelta(days=181))
    progress: list[tuple[int, int]] = []

    result = recompute_statuses(session, TODAY, NOW, progress=lambda d, t: progress.append((d, t)))

    assert _statuses(session) == {
        "potential": S.POTENTIAL,
        "fresh": S.ONE_TIME_FRESH,
        "old": S.ONE_TIME_OLD,
        "regular": S.REGULAR,
        "departed": S.DEPARTED,
    }
    assert result.total == 5
    assert result.changed == 4
    assert result.transitions == {
        (S.POTENTIAL, S.ONE_TIME_FRESH): 1,
        (S.POTENTIAL, S.ONE_TIME_OLD): 1,
        (S.POTENTIAL, S.REGULAR): 1,
        (S.POTENTIAL, S.DEPARTED): 1,
    }
    assert progress == [(4, 4)]


def test_recompute_touches_only_changed_rows(session: Session, crm: Crm) -> None:
    steady, lapsing = crm.counterparty("steady"), crm.counterparty("lapsing")
    for age in (10, 150):
        crm.shipment(steady, TODAY - timedelta(days=age))
        crm.shipment(lapsing, TODAY - timedelta(days=age + 165))
    first = recompute_statuses(session, TODAY, NOW)
    assert first.changed == 2
    assert recompute_statuses(session, TODAY, NOW).changed == 0

    later = NOW + timedelta(days=10)
    result = recompute_statuses(session, TODAY + timedelta(days=10), later)

    assert result.transitions == {(S.REGULAR, S.DEPARTED): 1}
    rows = dict(session.execute(select(Counterparty.name, Counterparty.updated_at)).all())
    assert rows["lapsing"] == later
    assert rows["steady"] == NOW


def test_abc_xyz_report(session: Session, crm: Crm) -> None:
    big, mid, small = crm.counterparty("big"), crm.counterparty("mid"), crm.counterparty("small")
    for month in (1, 2, 3):
        crm.shipment(big, date(2024, month, 10), 800)
    crm.shipment(mid, date(2024, 1, 5), 90)
    crm.shipment(mid, date(2024, 1, 6), 60)
    crm.shipment(mid, date(2024, 2, 5), 150)
    crm.shipment(small, date(2024, 3, 31), 60)
    crm.shipment(small, date(2024, 4, 1), 10_000)  # outside the period

    rows = abc_xyz_report(session, Period(date(2024, 1, 1), date(2024, 3, 31)))

    summary = [(r.name, r.revenue, r.abc, r.xyz) for r in rows]
    assert summary == [
        ("big", Decimal(2400), AbcClass.A, XyzClass.X),
        ("mid", Decimal(300), AbcClass.B, XyzClass.Z),
        ("small", Decimal(60), AbcClass.C, XyzClass.Z),
    ]
    assert rows[0].cv == 0
    one_month = abc_xyz_report(session, Period(date(2024, 1, 1), date(2024, 1, 31)))
    assert [(r.name, r.revenue, r.xyz) for r in one_month] == [("big", 800, None), ("mid", 150, None)]


def test_rfm_report_counts_distinct_days(session: Session, crm: Crm) -> None:
    loyal, once = crm.counterparty("loyal"), crm.counterparty("once")
    for day in (date(2024, 6, 1), date(2024, 6, 1), date(2024, 6, 20)):
        crm.shipment(loyal, day, 500)
    crm.shipment(once, date(2024, 5, 1), 50)
    crm.shipment(once, date(2023, 1, 1), 50)  # before the period

    scores = rfm_report(session, Period(date(2024, 1, 1), TODAY))

    assert [(s.counterparty_id, s.recency_days, s.frequency, s.monetary) for s in scores] == [
        (loyal.id, 10, 2, Decimal(1500)),
        (once.id, 60, 1, Decimal(50)),
    ]
    assert scores[0].r > scores[1].r and scores[0].f > scores[1].f and scores[0].m > scores[1].m


def test_manager_kpis(session: Session, crm: Crm) -> None:
    anna, boris = crm.manager("Anna"), crm.manager("Boris")
    crm.manager("Gone", active=False)
    client = crm.counterparty("client", anna)
    other = crm.counterparty("other", anna)
    t = datetime(2024, 6, 10, 9, tzinfo=UTC)
    crm.call(t, by=anna)
    crm.call(t, by=anna)
    crm.call(datetime(2024, 5, 31, 20, 59, tzinfo=UTC), by=anna)  # May 31 in Moscow
    crm.missed(anna, t, t + timedelta(minutes=5))
    crm.missed(anna, t, t + timedelta(minutes=15))
    crm.missed(anna, t, None)
    crm.missed(boris, LONG_AGO, None)
    crm.shipment(client, date(2024, 6, 1), 1000)
    crm.shipment(client, date(2024, 6, 2), 500)
    crm.shipment(other, date(2024, 5, 31), 700)
    crm.deal(client, boris, DealStageName.WON, t)
    crm.deal(client, boris, DealStageName.LOST, t)
    crm.deal(client, anna, DealStageName.WON, LONG_AGO)

    kpis = manager_kpis(session, Period(date(2024, 6, 1), TODAY), "Europe/Moscow")

    by_name = {k.name: k for k in kpis}
    assert [k.name for k in kpis] == ["Anna", "Boris"]
    a, b = by_name["Anna"], by_name["Boris"]
    assert (a.calls_answered, a.revenue, a.active_clients, a.deals_won) == (2, Decimal(1500), 1, 0)
    assert (a.callbacks.missed, a.callbacks.called_back) == (3, 2)
    assert a.callbacks.median_delay == timedelta(minutes=10)
    assert (b.calls_answered, b.callbacks.missed, b.callbacks.rate, b.deals_won) == (0, 0, None, 1)
