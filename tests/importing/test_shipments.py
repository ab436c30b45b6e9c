"""Importing 1C sales and return lines (SQLite and PostgreSQL), and the command line end to end."""

# ruff: noqa: RUF001  (Cyrillic test data is intended)

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from callrouter.cli import app
from crm_core.db import make_engine
from crm_core.importing import CsvFormatError, read_csv
from crm_core.importing.report import ErrorCode, ImportReport
from crm_core.importing.shipment_rows import SHIPMENT_COLUMNS, SHIPMENT_REQUIRED
from crm_core.importing.shipments import import_shipments
from crm_core.migrations import upgrade
from crm_core.models import Counterparty, Shipment, ShipmentKind

TODAY = date(2025, 12, 31)
RU_HEADER = "Номер;Дата;Контрагент;Код контрагента;ИНН;Сумма;Номенклатура;Количество;Вид операции"
RU_LINES = (
    "РТ-1;30.12.2025 14:35:00;ООО Ромашка;A1;;1 000,50;Цемент;10;Реализация товаров и услуг",
    "РТ-1;30.12.2025 14:35:00;ООО Ромашка;A1;;200;Песок;2;Реализация товаров и услуг",
    "ВП-7;31.12.2025;Лютик;;7701 234567;300,00;Цемент;1;Возврат товаров от покупателя",
)


def source(*lines: str, header: str = RU_HEADER, encoding: str = "utf-8") -> bytes:
    return "\n".join((header, *lines)).encode(encoding)


def run(session: Session, data: bytes, encoding: str | None = None, today: date = TODAY) -> ImportReport:
    parsed = read_csv(data, SHIPMENT_COLUMNS, required=SHIPMENT_REQUIRED, encoding=encoding)
    return import_shipments(session, parsed, today=today)


@pytest.fixture
def clients(session: Session) -> dict[str, Counterparty]:
    romashka = Counterparty(name="ООО Ромашка", external_id="A1")
    lyutik = Counterparty(name="Лютик", tax_id="7701234567")
    session.add_all([romashka, lyutik])
    session.flush()
    return {"A1": romashka, "inn": lyutik}


def lines(session: Session) -> list[tuple[str | None, int | None, ShipmentKind, Decimal, int]]:
    stmt = select(
        Shipment.document_number,
        Shipment.line_number,
        Shipment.kind,
        Shipment.amount,
        Shipment.counterparty_id,
    ).order_by(Shipment.document_number, Shipment.line_number)
    return [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]


@pytest.mark.parametrize("encoding", ["utf-8", "cp1251"])
def test_russian_1c_export_is_imported_and_idempotent(
    session: Session, clients: dict[str, Counterparty], encoding: str
) -> None:
    data = source(*RU_LINES, encoding=encoding)
    report = run(session, data, encoding=None if encoding == "utf-8" else encoding)
    assert (report.created, report.rejected, report.errors) == (3, 0, [])
    a1, lyutik = clients["A1"].id, clients["inn"].id
    assert lines(session) == [
        ("ВП-7", 1, ShipmentKind.RETURN, Decimal("300.00"), lyutik),
        ("РТ-1", 1, ShipmentKind.SALE, Decimal("1000.50"), a1),
        ("РТ-1", 2, ShipmentKind.SALE, Decimal("200.00"), a1),
    ]
    stored = session.scalars(
        select(Shipment).where(Shipment.line_number == 1, Shipment.document_number == "РТ-1")
    )
    first = stored.one()
    assert (first.shipped_on, first.product, first.quantity) == (date(2025, 12, 30), "Цемент", Decimal(10))

    again = run(session, data, encoding=None if encoding == "utf-8" else encoding)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = run(session, source(RU_LINES[0].replace("1 000,50", "900"), *RU_LINES[1:]))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    assert session.scalar(select(func.count()).select_from(Shipment)) == 3


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_english_headers_explicit_line_numbers(
    session: Session, clients: dict[str, Counterparty], delimiter: str
) -> None:
    header = delimiter.join(["document", "date", "counterparty code", "amount", "line", "product", "kind"])
    rows = [
        delimiter.join(["S-9", "2025-12-01", "A1", "0", "3", "Free sample", "sale"]),
        delimiter.join(["S-9", "2025-12-01", "A1", "10.5", "7", "Cement", "sale"]),
    ]
    report = run(session, source(*rows, header=header))
    assert report.created == 2
    assert [(d, n, a) for d, n, _, a, _ in lines(session)] == [
        ("S-9", 3, Decimal("0.00")),
        ("S-9", 7, Decimal("10.50")),
    ]


def test_bad_lines_are_reported_with_reasons_and_the_rest_imported(
    session: Session, clients: dict[str, Counterparty]
) -> None:
    bad = (
        "РТ-2;02.01.2026;X;A1;;10;p;1;Реализация",  # two days ahead of TODAY
        "РТ-3;31.12.2025;X;NOPE;;10;p;1;Реализация",  # unknown code
        "РТ-4;32.12.2025;X;A1;;10;p;1;Реализация",  # bad date
        "РТ-5;31.12.2025;X;A1;;-10;p;1;Реализация",  # negative amount
        "РТ-6;31.12.2025;X;;;10;p;1;Реализация",  # no code, no INN
        "РТ-7;31.12.2025;X;A1;;10;p;1;Списание",  # unknown kind
        "РТ-1;29.12.2025;X;A1;;10;p;1;Реализация",  # document dated otherwise on line 2
        ";31.12.2025;X;A1;;10;p;1;Реализация",  # no document number
    )
    report = run(session, source(RU_LINES[0], "РТ-8;01.01.2026;X;A1;;5;p;1;", *bad))
    assert (report.created, report.rejected) == (2, 8)
    by_line = {e.line: e for e in report.errors}
    assert by_line[4].code == ErrorCode.BAD_VALUE and "more than a day after today" in by_line[4].reason
    assert by_line[5].code == ErrorCode.UNKNOWN_COUNTERPARTY and "code NOPE" in by_line[5].reason
    assert by_line[6].code == ErrorCode.BAD_VALUE and "32.12.2025" in by_line[6].reason
    assert by_line[7].code == ErrorCode.BAD_NUMBER
    assert by_line[8].code == ErrorCode.NO_MATCH_KEY
    assert "neither a sale nor a return" in by_line[9].reason
    assert "dated 30.12.2025 on line 2" in by_line[10].reason
    assert by_line[11].code == ErrorCode.MISSING_VALUE


def test_a_line_twice_in_the_file_is_refused(session: Session, clients: dict[str, Counterparty]) -> None:
    header = "Номер;Дата;Код контрагента;Сумма;Номер строки"
    report = run(session, source("Д1;30.12.2025;A1;5;1", "Д1;30.12.2025;A1;6;1", header=header))
    assert (report.created, report.rejected) == (1, 1)
    assert report.errors[0].code == ErrorCode.DUPLICATE_IN_FILE and report.errors[0].line == 3


def test_missing_required_column_refuses_the_file() -> None:
    with pytest.raises(CsvFormatError, match="amount"):
        read_csv(b"document,date,inn\n1,31.12.2025,77\n", SHIPMENT_COLUMNS, required=SHIPMENT_REQUIRED)


def test_cli_imports_shipments_in_one_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("CALLROUTER_DATABASE_URL", url)
    monkeypatch.setenv("CALLROUTER_ENV", "development")
    engine = make_engine(url)
    with Session(engine) as s:
        s.add_all(
            [
                Counterparty(name="ООО Ромашка", external_id="A1"),
                Counterparty(name="Лютик", tax_id="7701234567"),
            ]
        )
        s.commit()
    path = tmp_path / "sales.csv"
    path.write_bytes(source(*(line.replace("2025", "2024") for line in RU_LINES), encoding="cp1251"))
    runner = CliRunner()

    first = runner.invoke(app, ["import", str(path), "--kind", "shipments", "--encoding", "cp1251"])
    again = runner.invoke(app, ["import", str(path), "--kind", "shipments", "--encoding", "cp1251"])

    assert (first.exit_code, first.stdout.strip()) == (0, "3 created, 0 updated, 0 unchanged, 0 rejected")
    assert (again.exit_code, again.stdout.strip()) == (0, "0 created, 0 updated, 3 unchanged, 0 rejected")
    path.write_bytes(source("Z-1;01.01.2024;X;NOPE;;5;p;1;", encoding="utf-8"))
    refused = runner.invoke(app, ["import", str(path), "--kind", "shipments"])
    assert refused.exit_code == 1 and "line 2: no counterparty with code NOPE" in refused.stderr
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Shipment)) == 3
    engine.dispose()
