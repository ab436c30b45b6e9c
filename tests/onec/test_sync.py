"""The 1C sync against the stand-in publication, for UT 11 and BP 3.0."""
# ruff: noqa: RUF001  (Cyrillic 1C data is intended)

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models import ContactPerson, Counterparty, Manager, PhoneNumber, Shipment, ShipmentKind
from crm_core.models.auth import AuditEntry
from crm_core.models.external_sync import SyncRun
from crm_core.repositories.routing import load_number
from crm_core.syncing import SyncReport, last_run
from erp_bridge.onec import standin_data as d
from erp_bridge.onec.sync import SyncFailed, SyncOptions, run_sync
from tests.onec.conftest import TODAY, Base1C

OPTIONS = SyncOptions(region="RU", today=TODAY)


def sync(sessions: sessionmaker[Session], base: Base1C, **kwargs: object) -> SyncReport:
    with base.client() as client:
        return run_sync(sessions, client, base.profile, OPTIONS, **kwargs)  # type: ignore[arg-type]


def card(session: Session, name: str) -> Counterparty:
    return session.scalars(select(Counterparty).where(Counterparty.name == name)).one()


def client_name(base: Base1C, key: str) -> str:
    return str(base.clients[key]["Description"])


def test_full_sync_brings_managers_clients_phones_contacts_and_lines(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    report = sync(sessions, base1c)
    with sessions() as s:
        ivanov = s.scalars(select(Manager).where(Manager.name == "Иванов Иван")).one()
        assert ivanov.login == f"1c-{base1c.users['ivanov']['Ref_Key']}" and ivanov.dial_target is None
        romashka = card(s, client_name(base1c, "romashka"))
        assert (
            romashka.tax_id == "7701234567" and romashka.external_id == base1c.clients["romashka"]["Ref_Key"]
        )
        numbers = {
            p.e164: p.extension
            for p in s.scalars(select(PhoneNumber).where(PhoneNumber.counterparty_id == romashka.id))
        }
        assert numbers == {"+78431234567": "713", "+74957654321": None}
        contact = s.scalars(select(ContactPerson).where(ContactPerson.counterparty_id == romashka.id)).one()
        assert contact.name == "Анна Смирнова"
        assert load_number(s, "+79031112233")["counterparty_id"] == romashka.id  # type: ignore[index]
        lines = s.scalars(select(Shipment).order_by(Shipment.external_id)).all()
        assert sorted((line.product, line.kind, line.quantity) for line in lines) == [
            ("Виджет", ShipmentKind.RETURN, Decimal("1")),
            ("Виджет", ShipmentKind.SALE, Decimal("2")),
            ("Шестерня", ShipmentKind.SALE, Decimal("5")),
        ]  # the draft is unposted, the old sale is outside the 45-day window
        assert {line.counterparty_id for line in lines} == {romashka.id}
        assert romashka.manager_id == ivanov.id
        assert (
            s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("sync-1c:%")))
            > 0
        )
        run = last_run(s, "1c")
        assert run is not None and run["status"] == "completed"
    assert [str(p) for p in report.problems] == [
        f"clients {base1c.clients['vasilek']['Ref_Key']}: unreadable phone 'звонить Ивану'"
    ]


def test_resync_of_unchanged_base_changes_nothing(sessions: sessionmaker[Session], base1c: Base1C) -> None:
    sync(sessions, base1c)
    with sessions() as s:
        audits = s.scalar(select(func.count()).select_from(AuditEntry))
    report = sync(sessions, base1c)
    assert not report.changed()
    assert report.of("clients").unchanged == 2 and report.of("documents").unchanged == 3
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_reassignment_in_1c_reaches_the_next_routing_lookup(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    sync(sessions, base1c)
    romashka = base1c.clients["romashka"]
    romashka[base1c.profile.manager_field or ""] = base1c.users["petrov"]["Ref_Key"]
    d.touch(romashka)
    forgotten: list[set[str]] = []
    sync(sessions, base1c, after_commit=lambda numbers, config: forgotten.append(numbers))
    with sessions() as s:
        petrov = s.scalars(select(Manager).where(Manager.name == "Петров Пётр")).one()
        assert load_number(s, "+78431234567")["personal_manager_id"] == petrov.id  # type: ignore[index]
        assert load_number(s, "+79031112233")["personal_manager_id"] == petrov.id  # type: ignore[index]
    assert {"+78431234567", "+74957654321", "+79031112233"} <= set().union(*forgotten)


def test_pinned_manager_is_not_overwritten(sessions: sessionmaker[Session], base1c: Base1C) -> None:
    sync(sessions, base1c)
    with sessions() as s:
        romashka = card(s, client_name(base1c, "romashka"))
        petrov = s.scalars(select(Manager).where(Manager.name == "Петров Пётр")).one()
        romashka.manager_id, romashka.manager_pinned = petrov.id, True
        s.commit()
    d.touch(base1c.clients["romashka"])["Description"] = "Ромашка и К"
    sync(sessions, base1c)
    with sessions() as s:
        romashka = card(s, "Ромашка и К")
        assert romashka.manager_id == petrov.id


def test_deletion_mark_archives_and_stops_routing(sessions: sessionmaker[Session], base1c: Base1C) -> None:
    sync(sessions, base1c)
    d.touch(base1c.clients["romashka"])["DeletionMark"] = True
    report = sync(sessions, base1c)
    assert report.of("clients").archived == 1
    with sessions() as s:
        romashka = card(s, client_name(base1c, "romashka"))
        assert romashka.archived_at is not None
        row = load_number(s, "+78431234567")
        assert row is not None and row["personal_manager_id"] is None
        assert s.scalar(select(func.count()).select_from(Shipment)) == 3  # history stays


def test_unposting_and_deleting_documents_removes_their_lines(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    sync(sessions, base1c)
    d.touch(base1c.documents["sale"])["Posted"] = False
    base1c.server.sets[base1c.profile.returns or ""].clear()  # the return was deleted outright
    report = sync(sessions, base1c)
    assert report.of("documents").removed == 2
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Shipment)) == 0
    d.touch(base1c.documents["sale"])["Posted"] = True
    sync(sessions, base1c)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Shipment)) == 2


def test_failure_half_way_keeps_data_and_the_next_run_resumes(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    profile = base1c.profile
    base1c.server.fail = lambda entity_set, skip: entity_set == profile.sales
    with pytest.raises(SyncFailed, match="server-error"):
        sync(sessions, base1c)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Counterparty)) == 2
        assert s.scalar(select(func.count()).select_from(Shipment)) == 0
        failed = last_run(s, "1c")
        assert failed is not None and failed["status"] == "failed"
    base1c.server.fail = None
    report = sync(sessions, base1c)
    assert report.of("clients").unchanged == 2 and report.of("clients").created == 0
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Shipment)) == 3
        assert s.scalar(select(func.count()).select_from(SyncRun)) == 2


def test_dry_run_writes_nothing(sessions: sessionmaker[Session], base1c: Base1C) -> None:
    with base1c.client() as client:
        options = SyncOptions(region="RU", today=TODAY, dry_run=True)
        report = run_sync(sessions, client, base1c.profile, options)
    assert report.of("clients").created == 2
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Counterparty)) == 0
        assert last_run(s, "1c") is None


def test_manager_matched_by_unique_name_and_ambiguous_name_reported(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    with sessions() as s:
        s.add(Manager(name="Иванов Иван", login="ivanov", dial_target="PJSIP/101"))
        s.add_all([Manager(name="Петров Пётр", login="p1"), Manager(name="Петров Пётр", login="p2")])
        s.commit()
    report = sync(sessions, base1c)
    with sessions() as s:
        ivanov = s.scalars(select(Manager).where(Manager.name == "Иванов Иван")).one()
        assert ivanov.login == "ivanov" and ivanov.dial_target == "PJSIP/101"
        assert s.scalar(select(func.count()).select_from(Manager)) == 3
    assert any("2 managers are named 'Петров Пётр'" in str(p) for p in report.problems)


def test_contact_marked_for_deletion_is_removed_with_its_numbers(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    sync(sessions, base1c)
    contacts = base1c.server.sets[base1c.profile.contacts or ""]
    d.touch(contacts[0])["DeletionMark"] = True
    forgotten: list[set[str]] = []
    report = sync(sessions, base1c, after_commit=lambda numbers, config: forgotten.append(numbers))
    assert report.of("contacts").removed == 1
    assert "+79031112233" in set().union(*forgotten)
    with sessions() as s:
        assert load_number(s, "+79031112233") is None
        assert s.scalar(select(func.count()).select_from(ContactPerson)) == 0
