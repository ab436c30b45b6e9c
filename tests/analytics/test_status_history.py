"""Status history and pins: every move kept with its cause, a pinned status survives the recompute."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.analytics.status import recompute_statuses
from crm_core.models import ClientStatus, Counterparty, ManagerRole, StatusCause
from crm_core.models.auth import AuditEntry
from crm_core.models.client_status import ClientStatusChange
from crm_core.repositories.scoped import Viewer
from crm_core.services import client_status
from crm_core.services.errors import InvalidInput, PermissionDenied
from tests.analytics.factories import Crm

TODAY = date(2024, 6, 30)
NOW = datetime(2024, 6, 30, 3, 0, tzinfo=UTC)
S = ClientStatus


def _history(session: Session, cp: Counterparty) -> list[tuple[S, S, date, StatusCause]]:
    stmt = (
        select(
            ClientStatusChange.from_status,
            ClientStatusChange.to_status,
            ClientStatusChange.day,
            ClientStatusChange.cause,
        )
        .where(ClientStatusChange.counterparty_id == cp.id)
        .order_by(ClientStatusChange.id)
    )
    return [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]


def _recompute(session: Session, cp: Counterparty, today: date) -> S:
    recompute_statuses(session, today, NOW)
    session.refresh(cp)
    return cp.status


def test_recompute_keeps_each_move_in_the_history(session: Session, crm: Crm) -> None:
    cp = crm.counterparty()
    crm.shipment(cp, TODAY - timedelta(days=90), document="D", line=1)
    _recompute(session, cp, TODAY)
    _recompute(session, cp, TODAY)  # nothing moves: nothing kept
    _recompute(session, cp, TODAY + timedelta(days=1))
    assert _history(session, cp) == [
        (S.POTENTIAL, S.ONE_TIME_FRESH, TODAY, StatusCause.RECOMPUTE),
        (S.ONE_TIME_FRESH, S.ONE_TIME_OLD, TODAY + timedelta(days=1), StatusCause.RECOMPUTE),
    ]


def test_a_pin_with_an_end_day_holds_through_that_day(session: Session, crm: Crm) -> None:
    controller = Viewer(crm.manager("Control").id, ManagerRole.CONTROLLER)
    cp = crm.counterparty()
    change = client_status.pin_status(
        session, controller, cp, S.REGULAR, "contract signed", TODAY, TODAY + timedelta(days=1)
    )

    assert change is not None and (change.cause, change.reason, change.manager_id) == (
        StatusCause.MANUAL,
        "contract signed",
        controller.manager_id,
    )
    assert _recompute(session, cp, TODAY + timedelta(days=1)) == S.REGULAR
    assert _recompute(session, cp, TODAY + timedelta(days=2)) == S.POTENTIAL
    assert [h[3] for h in _history(session, cp)] == [StatusCause.MANUAL, StatusCause.RECOMPUTE]


def test_a_pin_without_end_holds_until_cleared(session: Session, crm: Crm) -> None:
    director = Viewer(crm.manager("Boss").id, ManagerRole.DIRECTOR)
    cp = crm.counterparty()
    client_status.pin_status(session, director, cp, S.DEPARTED, "went bankrupt", TODAY)
    assert _recompute(session, cp, TODAY + timedelta(days=3000)) == S.DEPARTED

    client_status.clear_pin(session, director, cp)

    assert _recompute(session, cp, TODAY) == S.POTENTIAL
    actions = session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.entity == "counterparty", AuditEntry.entity_id == str(cp.id)
        )
    ).all()
    assert sorted(actions) == ["clear-status-pin", "pin-status"]


def test_pins_need_a_supervisor_and_a_day_not_past(session: Session, crm: Crm) -> None:
    cp = crm.counterparty()
    manager = Viewer(crm.manager("M").id, ManagerRole.MANAGER)
    with pytest.raises(PermissionDenied):
        client_status.pin_status(session, manager, cp, S.REGULAR, "why not", TODAY)
    admin = Viewer(crm.manager("A").id, ManagerRole.ADMIN)
    with pytest.raises(InvalidInput):
        client_status.pin_status(session, admin, cp, S.REGULAR, "late", TODAY, TODAY - timedelta(days=1))
    assert _history(session, cp) == []
