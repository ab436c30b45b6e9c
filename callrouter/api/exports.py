"""A list endpoint's rows as JSON (one page), CSV or XLSX (every matching row, columns named as the JSON)."""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Sequence

from fastapi import Response
from openpyxl import Workbook
from pydantic import BaseModel

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


def _cells(row: BaseModel, columns: Sequence[str]) -> list[object]:
    data = row.model_dump(mode="json")
    return [data[name] for name in columns]


def export(rows: Sequence[BaseModel], model: type[BaseModel], fmt: ExportFormat, filename: str) -> Response:
    """``rows`` as a CSV (UTF-8 with BOM, so Excel reads Cyrillic) or XLSX download named ``filename``."""
    columns = list(model.model_fields)
    disposition = {"Content-Disposition": f'attachment; filename="{filename}.{fmt.value}"'}
    if fmt is ExportFormat.CSV:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(_cells(row, columns) for row in rows)
        return Response(
            ("\ufeff" + out.getvalue()).encode(), media_type="text/csv; charset=utf-8", headers=disposition
        )
    book = Workbook(write_only=True)
    sheet = book.create_sheet(filename)
    sheet.append(columns)
    for row in rows:
        sheet.append(_cells(row, columns))
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), media_type=XLSX_TYPE, headers=disposition)
