"""Missed-call reports on known data, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from crm_core.models import MissedStatus
from crm_core.models.escalation import EscalationStep, StepStatus
from crm_core.services.missed_reports import missed_calls_by_manager, open_missed_calls
from tests.escalation.conftest import T0, add_missed_call, add_staff


def test_per_manager_callback_rate_median_p90_and_escalations(session: Session) -> None:
    staff = add_staff(session)
    delays_min = [1, 2, 3, 4, None]  # the fifth is never called back, and was escalated
    for i, delay in enumerate(delays_min):
        mc = add_missed_call(session, staff.manager, T0 + timedelta(hours=i))
        if delay is not None:
            mc.status = MissedStatus.CALLED_BACK
            mc.called_back_at = mc.created_at + timedelta(minutes=delay)
        else:
            session.add(
                EscalationStep(
                    missed_call_id=mc.id,
                    step=1,
                    due_at=T0,
                    status=StepStatus.FIRED,
                    recipients=["director"],
                    channels=["email"],
                )
            )
    other = add_missed_call(session, staff.controller, T0)
    other.status = MissedStatus.CALLED_BACK
    other.called_back_at = other.created_at + timedelta(seconds=30)
    add_missed_call(session, staff.manager, T0 + timedelta(days=2))  # outside the period
    session.flush()

    report = {s.manager_id: s for s in missed_calls_by_manager(session, T0, T0 + timedelta(days=1))}

    mine = report[staff.manager.id]
    assert (mine.missed, mine.called_back, mine.callback_rate, mine.escalated) == (5, 4, 0.8, 1)
    assert mine.median_callback_seconds == 150.0  # between 2 and 3 minutes
    assert mine.p90_callback_seconds == 222.0  # 180 + 0.7 * 60
    ctl = report[staff.controller.id]
    assert (ctl.missed, ctl.callback_rate, ctl.median_callback_seconds, ctl.p90_callback_seconds) == (
        1,
        1.0,
        30.0,
        30.0,
    )


def test_open_missed_calls_with_age(session: Session) -> None:
    staff = add_staff(session)
    old = add_missed_call(session, staff.manager, T0)
    new = add_missed_call(session, staff.manager, T0 + timedelta(hours=3))
    new.status = MissedStatus.ESCALATED
    done = add_missed_call(session, staff.manager, T0 + timedelta(hours=1))
    done.status = MissedStatus.CLOSED
    session.flush()

    rows = [
        r for r in open_missed_calls(session, T0 + timedelta(hours=5)) if r.manager_id == staff.manager.id
    ]

    assert [(r.id, r.age_seconds) for r in rows] == [(old.id, 5 * 3600.0), (new.id, 2 * 3600.0)]
    assert rows[0].counterparty_name.startswith("OOO Romashka")  # type: ignore[union-attr]


def test_empty_period_is_a_clear_error(session: Session) -> None:
    with pytest.raises(ValueError, match="empty period"):
        missed_calls_by_manager(session, T0, T0)
