"""Decoding, delimiter and header handling of CSV exports."""

# ruff: noqa: RUF001  (Cyrillic test data is intended)

from __future__ import annotations

import pytest

from crm_core.importing import (
    COUNTERPARTY_COLUMNS,
    COUNTERPARTY_REPEATABLE,
    COUNTERPARTY_REQUIRED,
    CsvFormatError,
    read_csv,
)


def read(data: bytes, encoding: str | None = None) -> list[tuple[int, dict[str, str]]]:
    source = read_csv(data, COUNTERPARTY_COLUMNS, required=COUNTERPARTY_REQUIRED, encoding=encoding)
    return [(r.line, r.cells) for r in source.records]


def test_utf8_with_bom_and_semicolons_from_1c() -> None:
    data = "\ufeffКод;Наименование;ИНН;Телефоны\nA1;ООО Ромашка;7701234567;8 (843) 123-45-67\n".encode()
    assert read(data) == [
        (
            2,
            {
                "external_id": "A1",
                "name": "ООО Ромашка",
                "tax_id": "7701234567",
                "phones": "8 (843) 123-45-67",
            },
        )
    ]


@pytest.mark.parametrize(
    ("header", "column"),
    [("Phone_Numbers", "phones"), ("ТЕЛЕФОН", "phones"), ("inn", "tax_id"), ("Логин менеджера", "manager")],
)
def test_header_aliases(header: str, column: str) -> None:
    source = read_csv(f"name\t{header}\nAcme\tx\n".encode(), COUNTERPARTY_COLUMNS)
    assert source.columns == {"name", column}
    assert source.records[0].get(column) == "x"


def test_unknown_headers_are_reported_and_ignored() -> None:
    source = read_csv(b"name,colour\nAcme,red\n", COUNTERPARTY_COLUMNS)
    assert source.ignored_headers == ("colour",)
    assert source.records[0].cells == {"name": "Acme"}


def test_cp1251_is_refused_with_the_line_of_the_first_bad_byte() -> None:
    data = "name,phones\nAcme,+78431234567\nРомашка,+78431234568\n".encode("cp1251")
    with pytest.raises(CsvFormatError, match=r"line 3: the file is not valid UTF-8 .*--encoding cp1251"):
        read(data)


def test_cp1251_reads_when_asked() -> None:
    data = "Наименование,Телефон\nРомашка,+78431234568\n".encode("cp1251")
    assert read(data, encoding="cp1251") == [(2, {"name": "Ромашка", "phones": "+78431234568"})]


def test_unknown_encoding_is_a_clear_error() -> None:
    with pytest.raises(CsvFormatError, match="unknown encoding 'nope'"):
        read(b"name\nx\n", encoding="nope")


def test_missing_required_column() -> None:
    with pytest.raises(CsvFormatError, match="missing required column"):
        read(b"phones,inn\n+78431234567,1\n")


def test_empty_file() -> None:
    with pytest.raises(CsvFormatError, match="empty"):
        read(b"")


def test_line_numbers_count_physical_lines_and_skip_blank_rows() -> None:
    data = b'name,notes\nA,"two\nlines"\n\n,\nB,x\n'
    assert [line for line, _ in read(data)] == [2, 6]


def test_every_phone_column_counts_numbered_or_russian_or_english() -> None:
    header = "Наименование;Телефон;Телефон 2;Мобильный;Рабочий телефон;phone;Phone_3;Тел.4;Сотовый"
    data = f"{header}\nРомашка;+78431234561;;+79001234562;+78431234563 доб. 12;+78431234564;a;b;c\n"
    source = read_csv(data.encode(), COUNTERPARTY_COLUMNS, repeatable=COUNTERPARTY_REPEATABLE)
    assert (source.columns, source.ignored_headers) == ({"name", "phones"}, ())
    assert source.records[0].get("phones").split("\n") == [
        "+78431234561",
        "+79001234562",
        "+78431234563 доб. 12",
        "+78431234564",
        "a",
        "b",
        "c",
    ]


def test_a_repeated_column_that_is_not_repeatable_counts_once() -> None:
    source = read_csv(b"name,name,name 2\nAcme,Other,Third\n", COUNTERPARTY_COLUMNS, repeatable=frozenset())
    assert source.ignored_headers == ("name", "name 2")
    assert source.records[0].cells == {"name": "Acme"}
