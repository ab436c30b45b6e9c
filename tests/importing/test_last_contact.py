"""The imported last contact day of a counterparty: Russian and English headers, 1C dates, refusals."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.importing import ErrorCode, import_counterparties
from crm_core.models.counterparties import Counterparty
from tests.importing.conftest import counterparty_csv

pytestmark = pytest.mark.usefixtures("db_url")
TODAY = date(2025, 12, 30)


def _last_contact(session: Session, external_id: str) -> date | None:
    return session.scalars(
        select(Counterparty.last_contact_on).where(Counterparty.external_id == external_id)
    ).one()


@pytest.mark.parametrize(
    "header",
    ["external_id,name,last_contact", "Код,Наименование,Последний контакт", "code,client,Last Contact Date"],
)
def test_headers_in_russian_and_english_and_1c_dates(session: Session, header: str) -> None:
    report = import_counterparties(
        session,
        counterparty_csv("A1,Ромашка,31.10.2025", "A2,Лютик,01.11.2025 14:35:00", "A3,Ирис,", header=header),
        region="RU",
        today=TODAY,
    )

    assert (report.created, report.errors) == (3, [])
    assert _last_contact(session, "A1") == date(2025, 10, 31)
    assert _last_contact(session, "A2") == date(2025, 11, 1)
    assert _last_contact(session, "A3") is None


def test_bad_and_future_dates_are_refused_with_the_line(session: Session) -> None:
    report = import_counterparties(
        session,
        counterparty_csv(
            "A1,Ромашка,31/10/2025",
            "A2,Лютик,31.12.2025",  # tomorrow: 1C may date a day ahead
            "A3,Ирис,01.01.2026",
            header="external_id,name,last_contact",
        ),
        region="RU",
        today=TODAY,
    )

    assert report.created == 1 and _last_contact(session, "A2") == date(2025, 12, 31)
    assert sorted((e.line, e.code) for e in report.errors) == [
        (2, ErrorCode.BAD_VALUE),
        (4, ErrorCode.BAD_VALUE),
    ]
    assert "31.12.2025" in report.errors[0].reason and "future" in report.errors[1].reason


def test_a_reimport_updates_the_day_and_an_empty_cell_keeps_it(session: Session) -> None:
    def run(*lines: str) -> None:
        import_counterparties(
            session,
            counterparty_csv(*lines, header="external_id,name,last_contact"),
            region="RU",
            today=TODAY,
        )

    run("A1,Ромашка,01.10.2025", "A2,Лютик,01.10.2025")
    run("A1,Ромашка,2025-11-15", "A2,Лютик,")

    assert _last_contact(session, "A1") == date(2025, 11, 15)
    assert _last_contact(session, "A2") == date(2025, 10, 1)
