"""Validation of single rows: number forms, several numbers per cell, every per-row problem."""

# ruff: noqa: RUF001  (Cyrillic test data is intended)

from __future__ import annotations

from collections.abc import Callable

import pytest

from crm_core.importing.csv_source import Record
from crm_core.importing.report import ErrorCode, WarningCode
from crm_core.importing.rows import CounterpartyRow, parse_counterparty, parse_manager
from crm_core.models.enums import ClientStatus, ManagerRole


def counterparty(**cells: str) -> CounterpartyRow:
    parsed = parse_counterparty(Record(7, {"name": "Acme", **cells}), "RU")
    assert isinstance(parsed, CounterpartyRow), parsed
    return parsed


def problems(
    parser: Callable[[Record, str], object] = parse_counterparty, **cells: str
) -> list[tuple[int, ErrorCode, str]]:
    parsed = parser(Record(7, cells), "RU")
    assert isinstance(parsed, list), parsed
    return [(e.line, e.code, e.reason) for e in parsed]


@pytest.mark.parametrize(
    "written", ["8 (843) 123-45-67", "+7 843 1234567", "88431234567", "8431234567", "+7(843)123-45-67"]
)
def test_every_common_form_becomes_e164(written: str) -> None:
    assert counterparty(phones=written).phones == ("+78431234567",)


def test_several_numbers_per_cell_in_order_without_repeats() -> None:
    row = counterparty(phones="8 (843) 123-45-67; +7 900 123 45 67, 88431234567\n+7 843 1234568")
    assert row.phones == ("+78431234567", "+79001234567", "+78431234568")


def test_each_bad_number_is_named() -> None:
    assert problems(name="Acme", phones="+7 843 1234567, 12ab; 123") == [
        (7, ErrorCode.BAD_NUMBER, "bad number '12ab'"),
        (7, ErrorCode.BAD_NUMBER, "bad number '123'"),
    ]


def test_missing_name() -> None:
    assert problems(name="  ", phones="+78431234567") == [(7, ErrorCode.MISSING_VALUE, "missing name")]


def test_a_row_without_any_key_is_refused() -> None:
    assert [code for _, code, _ in problems(name="Acme")] == [ErrorCode.NO_MATCH_KEY]


def test_values_are_cleaned() -> None:
    row = counterparty(name="  ООО   Ромашка ", tax_id="77 01 234567", status="Постоянный", manager="ivanov")
    assert (row.name, row.tax_id, row.status, row.manager_login) == (
        "ООО Ромашка",
        "7701234567",
        ClientStatus.REGULAR,
        "ivanov",
    )


def test_bad_status_and_too_long_values() -> None:
    assert problems(name="A" * 301, tax_id="1", status="vip") == [
        (7, ErrorCode.BAD_VALUE, "name longer than 300 characters"),
        (7, ErrorCode.BAD_VALUE, "unknown status 'vip'"),
    ]


def test_manager_row() -> None:
    row = parse_manager(
        Record(2, {"login": "ivanov", "name": "Иван", "mobile": "8 900 123-45-67", "role": "Контролёр"}), "RU"
    )
    assert not isinstance(row, list)
    assert (row.mobile, row.role) == ("+79001234567", ManagerRole.CONTROLLER)


def test_manager_row_problems() -> None:
    assert problems(parse_manager, name="Иван", mobile="1, 2", email="nope") == [
        (7, ErrorCode.BAD_NUMBER, "bad number '1'"),
        (7, ErrorCode.BAD_NUMBER, "bad number '2'"),
        (7, ErrorCode.BAD_VALUE, "bad email 'nope'"),
        (7, ErrorCode.MISSING_VALUE, "missing login"),
    ]


@pytest.mark.parametrize(
    "written",
    [
        "8 (843) 123-45-67 доб. 12",
        "8 (843) 123-45-67 доб 12",
        "8 (843) 123-45-67, доб. 12",
        "8 (843) 123-45-67 (доб. 12)",
        "8 (843) 123-45-67 вн. 12",
        "8 (843) 123-45-67 добавочный: 12",
        "+7 843 123-45-67 ext. 12",
        "+7 843 123-45-67 x12",
        "+7 843 123-45-67 #12",
    ],
)
def test_an_extension_is_kept_beside_the_e164_number(written: str) -> None:
    row = counterparty(phones=written)
    assert (row.phones, row.extensions, row.warnings) == (("+78431234567",), {"+78431234567": "12"}, ())


def test_an_extension_after_a_comma_does_not_split_the_cell() -> None:
    row = counterparty(phones="8 (843) 123-45-67, доб. 12; +7 900 123 45 67, 88431234568 ext 7")
    assert row.phones == ("+78431234567", "+79001234567", "+78431234568")
    assert row.extensions == {"+78431234567": "12", "+78431234568": "7"}


def test_a_possible_but_unallocated_number_is_kept_with_a_warning() -> None:
    row = counterparty(phones="8 (930) 000-30-11; +7 843 123-45-67")
    assert row.phones == ("+79300003011", "+78431234567")
    assert [(w.line, w.code) for w in row.warnings] == [(7, WarningCode.POSSIBLE_NUMBER)]
    assert "+79300003011" in row.warnings[0].reason


@pytest.mark.parametrize("written", ["+7 999 1234567890", "123", "+7 (000) 000-00-00", "8 843 123 45 67 abc"])
def test_an_impossible_number_is_still_rejected(written: str) -> None:
    assert problems(name="Acme", phones=written) == [(7, ErrorCode.BAD_NUMBER, f"bad number {written!r}")]


def test_a_manager_mobile_takes_no_extension() -> None:
    found = problems(parse_manager, login="ivanov", name="Иван", mobile="8 900 123-45-67 доб. 5")
    assert found == [(7, ErrorCode.BAD_NUMBER, "a mobile number has no extension")]
