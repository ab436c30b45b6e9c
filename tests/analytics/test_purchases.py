"""The purchase rule at its boundaries, on SQLite and PostgreSQL: documents, zero totals, returns, the
reference day, the stored thresholds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.analytics.abc_xyz import abc_xyz_report
from crm_core.analytics.kpi import manager_kpis
from crm_core.analytics.period import Period
from crm_core.analytics.rfm import rfm_report
from crm_core.analytics.status import recompute_statuses
from crm_core.models import ClientStatus, Counterparty, ManagerRole, ShipmentKind
from crm_core.models.auth import AuditEntry
from crm_core.repositories.scoped import Viewer
from crm_core.services import analytics_settings
from crm_core.services.errors import InvalidInput, PermissionDenied
from crm_core.services.shipments import check_shipped_on
from tests.analytics.factories import Crm

TODAY = date(2024, 6, 30)
NOW = datetime(2024, 6, 30, 3, 0, tzinfo=UTC)
S = ClientStatus
RETURN = ShipmentKind.RETURN


def _status(session: Session, cp: Counterparty, today: date = TODAY) -> ClientStatus:
    recompute_statuses(session, today, NOW, analytics_settings.thresholds(session).status)
    session.expire_all()
    return session.scalars(select(Counterparty.status).where(Counterparty.id == cp.id)).one()


def test_two_lines_of_one_document_are_one_purchase(session: Session, crm: Crm) -> None:
    cp = crm.counterparty()
    crm.shipment(cp, TODAY - timedelta(days=10), 100, document="R-1", line=1)
    crm.shipment(cp, TODAY - timedelta(days=10), 50, document="R-1", line=2)
    assert _status(session, cp) == S.ONE_TIME_FRESH
    crm.shipment(cp, TODAY - timedelta(days=5), 70, document="R-2", line=1)
    assert _status(session, cp) == S.REGULAR


def test_lines_without_document_number_are_one_purchase_per_day(session: Session, crm: Crm) -> None:
    cp = crm.counterparty()
    crm.shipment(cp, TODAY - timedelta(days=200), 10)
    crm.shipment(cp, TODAY - timedelta(days=200), 20)
    assert _status(session, cp) == S.ONE_TIME_OLD
    crm.shipment(cp, TODAY - timedelta(days=199), 20)
    assert _status(session, cp) == S.DEPARTED


def test_zero_amount_is_not_a_purchase(session: Session, crm: Crm) -> None:
    cp = crm.counterparty()
    crm.shipment(cp, TODAY - timedelta(days=3), 0, document="Z-1", line=1)
    assert _status(session, cp) == S.POTENTIAL
    crm.shipment(cp, TODAY - timedelta(days=400), 0)
    assert _status(session, cp) == S.POTENTIAL


def test_a_return_is_no_purchase_and_reduces_revenue(session: Session, crm: Crm) -> None:
    cp = crm.counterparty()
    crm.shipment(cp, date(2024, 5, 10), 1000, document="R-7", line=1)
    crm.shipment(cp, date(2024, 5, 20), 300, document="V-7", line=1, kind=RETURN)
    assert _status(session, cp) == S.ONE_TIME_FRESH

    (history,) = rfm_report(session, Period(date(2024, 1, 1), TODAY))
    assert (history.frequency, history.monetary, history.recency_days) == (1, Decimal(700), 51)
    (row,) = abc_xyz_report(session, Period(date(2024, 5, 1), date(2024, 6, 30)))
    assert row.revenue == Decimal(700)


def test_only_returns_make_no_client(session: Session, crm: Crm) -> None:
    cp = crm.counterparty()
    crm.shipment(cp, TODAY - timedelta(days=1), 300, document="V-1", line=1, kind=RETURN)
    assert _status(session, cp) == S.POTENTIAL
    assert rfm_report(session, Period(date(2024, 1, 1), TODAY)) == []


@pytest.mark.parametrize(("days", "expected"), [(90, S.ONE_TIME_FRESH), (91, S.ONE_TIME_OLD)])
def test_one_time_boundary(session: Session, crm: Crm, days: int, expected: ClientStatus) -> None:
    cp = crm.counterparty()
    crm.shipment(cp, TODAY - timedelta(days=days), 10, document="D", line=1)
    assert _status(session, cp) == expected


@pytest.mark.parametrize(("days", "expected"), [(180, S.REGULAR), (181, S.DEPARTED)])
def test_regular_boundary(session: Session, crm: Crm, days: int, expected: ClientStatus) -> None:
    cp = crm.counterparty()
    crm.shipment(cp, TODAY - timedelta(days=days + 30), 10, document="D1", line=1)
    crm.shipment(cp, TODAY - timedelta(days=days), 10, document="D2", line=1)
    assert _status(session, cp) == expected


def test_as_of_ignores_later_lines(session: Session, crm: Crm) -> None:
    """A past reference day gives that day's status; a line dated after it (tomorrow's) is not read."""
    cp = crm.counterparty()
    crm.shipment(cp, date(2024, 1, 10), 10, document="A", line=1)
    crm.shipment(cp, TODAY + timedelta(days=1), 10, document="B", line=1)
    assert _status(session, cp, date(2024, 1, 9)) == S.POTENTIAL
    assert _status(session, cp, date(2024, 1, 10)) == S.ONE_TIME_FRESH
    assert _status(session, cp, TODAY) == S.ONE_TIME_OLD
    assert _status(session, cp, TODAY + timedelta(days=1)) == S.REGULAR


def test_dates_more_than_a_day_ahead_are_refused() -> None:
    check_shipped_on({"shipped_on": TODAY + timedelta(days=1)}, TODAY)
    check_shipped_on({"product": "no date"}, TODAY)
    with pytest.raises(InvalidInput) as refused:
        check_shipped_on({"shipped_on": TODAY + timedelta(days=2)}, TODAY)
    assert refused.value.error_id == "shipment-date-in-future"


def test_kpi_revenue_is_net_and_active_counts_buyers(session: Session, crm: Crm) -> None:
    anna = crm.manager("Anna")
    buyer, returner = crm.counterparty("buyer", anna), crm.counterparty("returner", anna)
    crm.shipment(buyer, date(2024, 6, 3), 500, document="S1", line=1)
    crm.shipment(returner, date(2024, 6, 4), 200, document="V1", line=1, kind=RETURN)

    (kpi,) = [k for k in manager_kpis(session, Period(date(2024, 6, 1), TODAY), "UTC") if k.name == "Anna"]

    assert (kpi.revenue, kpi.active_clients) == (Decimal(300), 1)


def test_stored_thresholds_apply_and_changes_are_audited(session: Session, crm: Crm) -> None:
    admin = crm.manager("Admin")
    viewer = Viewer(admin.id, ManagerRole.ADMIN)
    cp = crm.counterparty()
    crm.shipment(cp, TODAY - timedelta(days=45), 10, document="D", line=1)
    assert _status(session, cp) == S.ONE_TIME_FRESH

    analytics_settings.update_settings(session, viewer, {"fresh_days": 30})

    assert _status(session, cp) == S.ONE_TIME_OLD
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "analytics-settings")).one()
    assert entry.before is not None and entry.after is not None
    assert (entry.before["fresh_days"], entry.after["fresh_days"]) == (90, 30)


def test_thresholds_are_admin_only_and_consistent(session: Session, crm: Crm) -> None:
    director = crm.manager("Director")
    with pytest.raises(PermissionDenied):
        analytics_settings.update_settings(
            session, Viewer(director.id, ManagerRole.DIRECTOR), {"fresh_days": 1}
        )
    admin = Viewer(crm.manager("Admin").id, ManagerRole.ADMIN)
    with pytest.raises(InvalidInput) as refused:
        analytics_settings.update_settings(session, admin, {"abc_a_share": Decimal("0.99")})
    assert refused.value.error_id == "invalid-analytics-settings"
    defaults = analytics_settings.thresholds(session)
    assert (defaults.status.fresh_days, defaults.abc.b_share, defaults.xyz.y_cv) == (
        90,
        Decimal("0.95"),
        Decimal("0.25"),
    )
