"""The migrated schema and the models agree, and the constraints that protect data hold."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.models import (
    Base,
    CallDirection,
    CallDisposition,
    CallRecord,
    Counterparty,
    ListKind,
    ListTreatment,
    NumberList,
    PhoneNumber,
    utcnow,
)


def test_autogenerate_finds_no_difference(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_e164_is_unique(session: Session) -> None:
    a = Counterparty(name="A")
    b = Counterparty(name="B")
    session.add_all([a, b])
    session.flush()
    session.add(PhoneNumber(e164="+79001234567", counterparty_id=a.id))
    session.flush()
    session.add(PhoneNumber(e164="+79001234567", counterparty_id=b.id))
    with pytest.raises(IntegrityError):
        session.flush()


def test_phone_needs_exactly_one_owner(session: Session) -> None:
    cp = Counterparty(name="A")
    lst = NumberList(name="bl", kind=ListKind.BLACKLIST, treatment=ListTreatment.REJECT)
    session.add_all([cp, lst])
    session.flush()
    session.add(PhoneNumber(e164="+79001234500", counterparty_id=cp.id, number_list_id=lst.id))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    session.add(PhoneNumber(e164="+79001234501"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_call_record_unique_per_pbx_and_linkedid(session: Session) -> None:
    def record(pbx: str) -> CallRecord:
        return CallRecord(
            pbx_system=pbx,
            linkedid="1795875455.438",
            direction=CallDirection.INBOUND,
            started_at=utcnow(),
            disposition=CallDisposition.ANSWERED,
        )

    session.add_all([record("main"), record("branch")])
    session.flush()
    session.add(record("main"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(PhoneNumber(e164="+79001234502", counterparty_id=987654))
    with pytest.raises(IntegrityError):
        session.flush()


def test_timestamps_come_back_aware_utc(session: Session) -> None:
    cp = Counterparty(name="Tz")
    session.add(cp)
    session.flush()
    session.expire(cp)
    assert cp.created_at.tzinfo is not None
    assert cp.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
