"""The 1C sales and returns CSV format: its columns and the parsing of one line into a typed row.

Russian 1C headers (Номер, Дата, Контрагент, Код контрагента, ИНН, Сумма, Номенклатура, Количество,
Вид операции, Номер строки) and English ones are both accepted; see docs/import.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from crm_core.importing.csv_source import Record, header_key
from crm_core.importing.report import ErrorCode, RowError
from crm_core.models.enums import ShipmentKind

SHIPMENT_COLUMNS: dict[str, str] = {
    header_key(alias): canonical
    for canonical, names in {
        "document_number": ("document", "document number", "number", "номер", "номер документа", "документ"),
        "shipped_on": ("date", "document date", "дата", "дата документа", "дата отгрузки"),
        "counterparty_name": ("counterparty", "client", "customer", "контрагент", "покупатель", "клиент"),
        "counterparty_code": ("counterparty code", "client code", "код контрагента"),
        "tax_id": ("inn", "tin", "инн"),
        "amount": ("sum", "total", "сумма", "сумма документа", "сумма с ндс"),  # noqa: RUF001
        "line_number": ("line", "line no", "№", "n", "номер строки", "строка"),
        "product": ("item", "goods", "номенклатура", "товар"),
        "quantity": ("qty", "количество", "кол во"),
        "kind": ("operation", "operation kind", "type", "вид операции", "операция", "вид документа"),
    }.items()
    for alias in (canonical, *names)
}
SHIPMENT_REQUIRED = frozenset({"document_number", "shipped_on", "amount"})

_KIND_PREFIXES = (
    ("возврат", ShipmentKind.RETURN),
    ("return", ShipmentKind.RETURN),
    ("реализац", ShipmentKind.SALE),
    ("продаж", ShipmentKind.SALE),
    ("отгрузк", ShipmentKind.SALE),
    ("sale", ShipmentKind.SALE),
)
_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%y", "%Y-%m-%d")


@dataclass(frozen=True, slots=True)
class ShipmentRow:
    """One accepted line; ``line_number`` is ``None`` when the file has no line column."""

    line: int
    document_number: str
    shipped_on: date
    kind: ShipmentKind
    amount: Decimal
    counterparty_code: str | None
    tax_id: str | None
    counterparty_name: str | None
    line_number: int | None
    product: str
    quantity: Decimal


def parse_kind(text: str) -> ShipmentKind | None:
    """The operation kind of a 1C ``Вид операции`` cell (empty: a sale); ``None`` when unknown.

    >>> parse_kind("Возврат товаров от покупателя"), parse_kind(""), parse_kind("Реализация товаров и услуг")
    (<ShipmentKind.RETURN: 'return'>, <ShipmentKind.SALE: 'sale'>, <ShipmentKind.SALE: 'sale'>)
    >>> parse_kind("Списание") is None
    True
    """
    key = header_key(text)
    if not key:
        return ShipmentKind.SALE
    return next((kind for prefix, kind in _KIND_PREFIXES if key.startswith(prefix)), None)


def parse_day(text: str) -> date | None:
    """A date as 1C writes it (``31.12.2025``, optionally with a time) or ISO; ``None`` when unreadable.

    >>> parse_day("31.12.2025 14:35:00"), parse_day("2025-12-31"), parse_day("31/12/2025")
    (datetime.date(2025, 12, 31), datetime.date(2025, 12, 31), None)
    """
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def parse_decimal(text: str) -> Decimal | None:
    """A number with a decimal comma or point and any grouping spaces; ``None`` when unreadable.

    >>> parse_decimal("1 234,50"), parse_decimal("1234.5"), parse_decimal("12a")
    (Decimal('1234.50'), Decimal('1234.5'), None)
    """
    compact = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    try:
        value = Decimal(compact)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_shipment(record: Record) -> ShipmentRow | list[RowError]:
    """The typed row of ``record``, or every problem found on its line."""
    problems: list[RowError] = []

    def fail(code: ErrorCode, reason: str) -> None:
        problems.append(RowError(record.line, code, reason))

    document = record.get("document_number")
    if not document:
        fail(ErrorCode.MISSING_VALUE, "document number is empty")
    elif len(document) > 64:
        fail(ErrorCode.BAD_VALUE, "document number is longer than 64 characters")
    day = parse_day(record.get("shipped_on"))
    if day is None:
        fail(ErrorCode.BAD_VALUE, f"date {record.get('shipped_on')!r} is not like 31.12.2025")
    kind = parse_kind(record.get("kind"))
    if kind is None:
        fail(ErrorCode.BAD_VALUE, f"operation kind {record.get('kind')!r} is neither a sale nor a return")
    amount = _number(record, "amount", problems, default=None)
    quantity = _number(record, "quantity", problems, default=Decimal(0))
    line_number = None
    if text := record.get("line_number"):
        line_number = int(text) if text.isdigit() and 0 < int(text) <= 1_000_000 else None
        if line_number is None:
            fail(ErrorCode.BAD_NUMBER, f"line number {text!r} is not a whole number from 1")
    code = record.get("counterparty_code") or None
    tax_id = re.sub(r"\s", "", record.get("tax_id")) or None
    if code is None and tax_id is None:
        fail(ErrorCode.NO_MATCH_KEY, "neither a counterparty code nor an ИНН")
    if problems or day is None or kind is None or amount is None or quantity is None:
        return problems
    return ShipmentRow(
        record.line,
        document,
        day,
        kind,
        amount,
        code,
        tax_id,
        record.get("counterparty_name") or None,
        line_number,
        (record.get("product") or "-")[:300],
        quantity,
    )


def _number(
    record: Record, column: str, problems: list[RowError], *, default: Decimal | None
) -> Decimal | None:
    text = record.get(column)
    if not text:
        if default is None:
            problems.append(RowError(record.line, ErrorCode.MISSING_VALUE, f"{column} is empty"))
        return default
    value = parse_decimal(text)
    if value is None or value < 0 or value >= Decimal(10) ** 11:
        reason = f"{column} {text!r} is not a number from 0 (a return is marked in the operation kind)"
        problems.append(RowError(record.line, ErrorCode.BAD_NUMBER, reason))
        return None
    return value.quantize(Decimal("0.01") if column == "amount" else Decimal("0.001"))
