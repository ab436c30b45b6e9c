"""Counterparty import on SQLite and PostgreSQL: outcomes, every rejection with its line, idempotence."""

# ruff: noqa: RUF001  (Cyrillic test data is intended)

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.importing import ErrorCode, ImportReport, WarningCode, import_counterparties
from crm_core.models.counterparties import ContactPerson, Counterparty
from crm_core.models.enums import ClientStatus
from crm_core.models.people import Manager
from crm_core.models.phones import PhoneNumber
from tests.importing.conftest import counterparty_csv, counts

pytestmark = pytest.mark.usefixtures("db_url")


def run(session: Session, *lines: str, batch_size: int = 1000) -> ImportReport:
    return import_counterparties(session, counterparty_csv(*lines), region="RU", batch_size=batch_size)


def errors(report: ImportReport) -> list[tuple[int, ErrorCode, str]]:
    return sorted((e.line, e.code, e.reason) for e in report.errors)


def numbers_of(session: Session, name: str) -> list[str]:
    query = (
        select(PhoneNumber.e164)
        .join(Counterparty)
        .where(Counterparty.name == name)
        .order_by(PhoneNumber.e164)
    )
    return list(session.scalars(query))


def test_creates_counterparties_with_all_their_numbers(
    session: Session, add_manager: Callable[[str], Manager]
) -> None:
    ivanov = add_manager("ivanov")
    report = run(
        session,
        'A1,ООО Ромашка,7701234567,"8 (843) 123-45-67; +7 843 1234568",ivanov,regular',
        "A2,ИП Сидоров,,88431234569,,",
    )
    assert (report.created, report.rejected, report.errors) == (2, 0, [])
    assert numbers_of(session, "ООО Ромашка") == ["+78431234567", "+78431234568"]
    romashka = session.scalars(select(Counterparty).where(Counterparty.external_id == "A1")).one()
    assert (romashka.tax_id, romashka.manager_id, romashka.status) == (
        "7701234567",
        ivanov.id,
        ClientStatus.REGULAR,
    )
    sidorov = session.scalars(select(Counterparty).where(Counterparty.external_id == "A2")).one()
    assert (sidorov.status, sidorov.manager_id) == (ClientStatus.POTENTIAL, None)


def test_importing_the_same_file_twice_changes_nothing(
    session: Session, add_manager: Callable[[str], Manager]
) -> None:
    add_manager("ivanov")
    lines = (
        "A1,Ромашка,7701234567,+7 843 1234567,ivanov,regular",
        ",Лютик,7701234568,88431234568,,",
        ",Василёк,,8 (843) 123-45-69,,",
        "A4,Дубль,,+7 843 1234567,,",
    )
    first = run(session, *lines, batch_size=2)
    stored = counts(session)
    second = run(session, *lines, batch_size=2)
    assert (first.created, first.rejected) == (3, 1)
    assert (second.created, second.updated, second.unchanged, second.rejected) == (0, 0, 3, 1)
    assert errors(second) == errors(first)
    assert counts(session) == stored == (3, 3)


def test_matching_updates_the_stored_counterparty(
    session: Session, add_manager: Callable[[str], Manager]
) -> None:
    add_manager("petrov")
    run(
        session,
        "A1,Ромашка,7701234567,+78431234567,,",
        ",Лютик,,+78431234568,,",
        "B1,Роза,,+78431234570,,",
        ",Василёк,7701234599,,,",
    )
    report = run(
        session,
        "A1,ООО Ромашка,,+78431234567,petrov,",  # by external id: renamed, manager set
        "A2,Ромашка,7701234567,+78431234599,,",  # by tax id, but that counterparty is A1
        "L1,Лютик,,+78431234568; +78431234577,,departed",  # by exact name + number: external id, number added
        ",Роза,,+78431234570,,",  # by name + number, nothing new
        "V1,Василёк,77 0123 4599,,,",  # by tax id: adopts the external id
    )
    assert errors(report) == [
        (
            3,
            ErrorCode.KEY_TAKEN,
            "tax id 7701234567 belongs to counterparty 'Ромашка' with external id A1",
        )
    ]
    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 3, 1, 1)
    lutik = session.scalars(select(Counterparty).where(Counterparty.name == "Лютик")).one()
    assert (lutik.external_id, lutik.status) == ("L1", ClientStatus.DEPARTED)
    assert numbers_of(session, "Лютик") == ["+78431234568", "+78431234577"]
    vasilek = session.scalars(select(Counterparty).where(Counterparty.tax_id == "7701234599")).one()
    assert vasilek.external_id == "V1"
    assert counts(session) == (4, 4)


def test_every_rejection_names_its_line_and_reason(
    session: Session, add_manager: Callable[[str], Manager]
) -> None:
    owner = add_manager("owner")
    session.add(PhoneNumber(e164="+79001112233", manager_id=owner.id))
    run(session, "X1,Старый клиент,7700000001,+78431110000,,", "X2,Другой,7700000002,,,")
    report = run(
        session,
        "A1,Хороший,,+78431234567,owner,",
        "A2,Плохой номер,,12ab,,",
        "A3,Чужой номер,,+7 843 111-00-00,,",
        "A4,Номер выше,,8 843 123 45 67,,",
        "A5,Без менеджера,,+78431234570,nobody,",
        "A6,,,+78431234571,,",
        "A7,Номер менеджера,,+7 900 111 22 33,,",
        "A8,Чужой ИНН,7700000001,+78431234572,,",
        "A1,Повтор кода,,+78431234573,,",
        "X2,Другой,7700000001,,,",
    )
    assert errors(report) == [
        (3, ErrorCode.BAD_NUMBER, "bad number '12ab'"),
        (4, ErrorCode.NUMBER_TAKEN, "number +78431110000 belongs to counterparty 'Старый клиент'"),
        (5, ErrorCode.DUPLICATE_IN_FILE, "number +78431234567 already on line 2"),
        (6, ErrorCode.UNKNOWN_MANAGER, "unknown manager login 'nobody'"),
        (7, ErrorCode.MISSING_VALUE, "missing name"),
        (8, ErrorCode.NUMBER_TAKEN, "number +79001112233 belongs to a manager"),
        (
            9,
            ErrorCode.KEY_TAKEN,
            "tax id 7700000001 belongs to counterparty 'Старый клиент' with external id X1",
        ),
        (10, ErrorCode.DUPLICATE_IN_FILE, "external id A1 already on line 2"),
        (11, ErrorCode.KEY_TAKEN, "tax id 7700000001 belongs to counterparty 'Старый клиент'"),
    ]
    assert (report.created, report.rejected) == (1, 9)


def test_a_rejected_row_writes_nothing_at_all(session: Session) -> None:
    report = run(
        session,
        "A1,Половина,,+78431234567; 12ab,,",
        "A2,Половина 2,,+78431234568; +79001112233,nobody,",
    )
    assert report.rejected == 2
    assert counts(session) == (0, 0)


def test_number_owned_by_a_contact_person_is_refused(session: Session) -> None:
    run(session, "A1,Ромашка,,+78431234567,,")
    company = session.scalars(select(Counterparty)).one()
    contact = ContactPerson(counterparty_id=company.id, name="Анна")
    session.add(contact)
    session.flush()
    session.add(PhoneNumber(e164="+79005556677", contact_person_id=contact.id))
    report = run(session, "A1,Ромашка,,+7 900 555 66 77,,")
    assert errors(report) == [(2, ErrorCode.NUMBER_TAKEN, "number +79005556677 belongs to a contact person")]


def extensions_of(session: Session, name: str) -> dict[str, str | None]:
    query = (
        select(PhoneNumber.e164, PhoneNumber.extension).join(Counterparty).where(Counterparty.name == name)
    )
    return {e164: extension for e164, extension in session.execute(query)}


def test_extensions_are_stored_updated_and_never_erased(session: Session) -> None:
    first = run(session, 'A1,Ромашка,,"8 (843) 123-45-67 доб. 12; +7 843 1234568",,')
    assert (first.created, first.errors, first.warnings) == (1, [], [])
    assert extensions_of(session, "Ромашка") == {"+78431234567": "12", "+78431234568": None}
    again = run(session, 'A1,Ромашка,,"8 (843) 123-45-67 доб. 12; +7 843 1234568",,')
    assert (again.updated, again.unchanged) == (0, 1)
    changed = run(session, 'A1,Ромашка,,"8 (843) 123-45-67 вн. 15; +7 843 1234568 ext 3",,')
    assert (changed.updated, changed.unchanged) == (1, 0)
    assert extensions_of(session, "Ромашка") == {"+78431234567": "15", "+78431234568": "3"}
    without = run(session, "A1,Ромашка,,+7 843 1234567,,")
    assert (without.updated, without.unchanged) == (0, 1)
    assert extensions_of(session, "Ромашка") == {"+78431234567": "15", "+78431234568": "3"}


def test_a_possible_number_is_imported_with_a_warning_and_an_impossible_one_rejected(
    session: Session,
) -> None:
    report = run(session, "A1,Ромашка,,8 (930) 000-30-11,,", "A2,Лютик,,+7 999 1234567890,,")
    assert (report.created, report.rejected) == (1, 1)
    assert [(w.line, w.code) for w in report.warnings] == [(2, WarningCode.POSSIBLE_NUMBER)]
    assert errors(report) == [(3, ErrorCode.BAD_NUMBER, "bad number '+7 999 1234567890'")]
    assert numbers_of(session, "Ромашка") == ["+79300003011"]
    assert report.summary() == "1 created, 0 updated, 0 unchanged, 1 rejected, 1 warning"
