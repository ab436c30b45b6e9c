"""Import 1C sales and return lines, matched to counterparties by code (``external_id``) or ИНН.

A line is keyed by (operation kind, document number, line number); a file without a line column numbers
each document's lines in file order. Re-importing a file updates changed lines and leaves the rest, so the
import is idempotent. Lines dated more than a day after ``today`` are refused. Never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import TypeVar

from sqlalchemy import select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from crm_core.importing.csv_source import CsvSource
from crm_core.importing.report import ErrorCode, ImportReport, Outcome, RowError
from crm_core.importing.shipment_rows import ShipmentRow, parse_shipment
from crm_core.models import Counterparty, Shipment, ShipmentKind
from crm_core.services.errors import InvalidInput
from crm_core.services.shipments import check_shipped_on

LineKey = tuple[ShipmentKind, str, int]
T = TypeVar("T")
_CHUNK = 500
_FIELDS = ("counterparty_id", "shipped_on", "amount", "product", "quantity")


def import_shipments(
    session: Session, source: CsvSource, *, today: date, on_progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Create or update the shipment lines of ``source``; rejected lines are reported by file line."""
    report = ImportReport()
    rows = _accepted_rows(source, today, report)
    owners = _resolve_counterparties(session, rows.values(), report)
    rows = {key: row for key, row in rows.items() if row.line in owners}
    stored = _stored_lines(session, rows.keys())
    for key, row in rows.items():
        values = {
            "counterparty_id": owners[row.line],
            "shipped_on": row.shipped_on,
            "amount": row.amount,
            "product": row.product,
            "quantity": row.quantity,
        }
        current = stored.get(key)
        if current is None:
            session.add(Shipment(kind=key[0], document_number=key[1], line_number=key[2], **values))
            report.count(Outcome.CREATED)
        elif any(getattr(current, name) != values[name] for name in _FIELDS):
            for name, value in values.items():
                setattr(current, name, value)
            report.count(Outcome.UPDATED)
        else:
            report.count(Outcome.UNCHANGED)
    session.flush()
    if on_progress is not None:
        on_progress(len(source.records))
    return report


def _accepted_rows(source: CsvSource, today: date, report: ImportReport) -> dict[LineKey, ShipmentRow]:
    """Valid rows by line key, in file order; a line repeated or contradicting its document is refused."""
    rows: dict[LineKey, ShipmentRow] = {}
    documents: dict[tuple[ShipmentKind, str], ShipmentRow] = {}
    positions: dict[tuple[ShipmentKind, str], int] = {}
    for record in source.records:
        parsed = parse_shipment(record)
        if isinstance(parsed, list):
            report.reject(parsed)
            continue
        try:
            check_shipped_on({"shipped_on": parsed.shipped_on}, today)
        except InvalidInput:
            reason = f"date {parsed.shipped_on:%d.%m.%Y} is more than a day after today ({today:%d.%m.%Y})"
            report.reject([RowError(parsed.line, ErrorCode.BAD_VALUE, reason)])
            continue
        doc = (parsed.kind, parsed.document_number)
        first = documents.setdefault(doc, parsed)
        if problem := _contradiction(first, parsed):
            report.reject([RowError(parsed.line, ErrorCode.BAD_VALUE, problem)])
            continue
        positions[doc] = positions.get(doc, 0) + 1
        key = (*doc, parsed.line_number or positions[doc])
        if key in rows:
            reason = f"line {key[2]} of document {key[1]} already on line {rows[key].line}"
            report.reject([RowError(parsed.line, ErrorCode.DUPLICATE_IN_FILE, reason)])
            continue
        rows[key] = parsed
    return rows


def _contradiction(first: ShipmentRow, row: ShipmentRow) -> str | None:
    """Why ``row`` cannot belong to the document first seen as ``first`` (``None``: it can)."""
    if row.shipped_on != first.shipped_on:
        return f"document {row.document_number} is dated {first.shipped_on:%d.%m.%Y} on line {first.line}"
    if (row.counterparty_code, row.tax_id) != (first.counterparty_code, first.tax_id):
        return f"document {row.document_number} names another counterparty on line {first.line}"
    return None


def _resolve_counterparties(
    session: Session, rows: Iterable[ShipmentRow], report: ImportReport
) -> dict[int, int]:
    """Counterparty id per file line: by code, else by ИНН; an unknown one rejects the line."""
    rows = list(rows)
    codes = {r.counterparty_code for r in rows if r.counterparty_code}
    tax_ids = {r.tax_id for r in rows if r.tax_id}
    by_code = _ids_by(session, Counterparty.external_id, codes)
    by_tax_id = _ids_by(session, Counterparty.tax_id, tax_ids)
    owners: dict[int, int] = {}
    for row in rows:
        found = by_code.get(row.counterparty_code or "") or by_tax_id.get(row.tax_id or "")
        if found is None:
            keys = ", ".join(
                f"{label} {value}"
                for label, value in (("code", row.counterparty_code), ("ИНН", row.tax_id))
                if value
            )
            name = f" ({row.counterparty_name})" if row.counterparty_name else ""
            reason = f"no counterparty with {keys}{name}; import the counterparties first"
            report.reject([RowError(row.line, ErrorCode.UNKNOWN_COUNTERPARTY, reason)])
        else:
            owners[row.line] = found
    return owners


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _ids_by(session: Session, column: InstrumentedAttribute[str | None], values: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(values)):
        stmt = select(column, Counterparty.id).where(column.in_(chunk))
        found.update({key: cid for key, cid in session.execute(stmt) if key is not None})
    return found


def _stored_lines(session: Session, keys: Iterable[LineKey]) -> dict[LineKey, Shipment]:
    """The stored shipments of the given (kind, document, line) keys."""
    found: dict[LineKey, Shipment] = {}
    for chunk in _chunks(sorted(keys)):
        key = tuple_(Shipment.kind, Shipment.document_number, Shipment.line_number)
        for shipment in session.scalars(select(Shipment).where(key.in_(chunk))):
            assert shipment.document_number is not None and shipment.line_number is not None
            found[(shipment.kind, shipment.document_number, shipment.line_number)] = shipment
    return found
