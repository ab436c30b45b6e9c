"""A list endpoint's rows as JSON (one page), CSV or XLSX (every matching row, columns named as the JSON).

Exports stream: rows are turned into CSV text a batch at a time while the response is sent, and an XLSX
workbook is written row by row to a temporary file (openpyxl's write-only mode) which is then streamed, so
memory does not grow with the number of rows.
"""

from __future__ import annotations

import csv
import enum
import io
import itertools
import tempfile
from collections.abc import Iterable, Iterator, Sequence

from fastapi import Response
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from pydantic import BaseModel

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_BATCH_ROWS = 1000
FILE_CHUNK_BYTES = 256 * 1024


class ExportFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


def _cells(row: BaseModel, columns: Sequence[str]) -> list[object]:
    data = row.model_dump(mode="json")
    return [data[name] for name in columns]


def _csv_chunks(rows: Iterable[BaseModel], columns: Sequence[str]) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads Cyrillic), ``CSV_BATCH_ROWS`` rows per chunk."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(columns)
    rows = iter(rows)
    while True:
        writer.writerows(_cells(row, columns) for row in itertools.islice(rows, CSV_BATCH_ROWS))
        chunk = out.getvalue().encode()
        if not chunk:
            return
        yield chunk
        out.seek(0)
        out.truncate()


def _xlsx_chunks(rows: Iterable[BaseModel], columns: Sequence[str], sheet_name: str) -> Iterator[bytes]:
    """The workbook written row by row to a temporary file, then read back in chunks (deleted after)."""
    with tempfile.TemporaryFile() as file:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(sheet_name[:31])  # Excel's limit on a sheet name
        sheet.append(columns)
        for row in rows:
            sheet.append(_cells(row, columns))
        book.save(file)
        file.seek(0)
        while chunk := file.read(FILE_CHUNK_BYTES):
            yield chunk


def export(rows: Iterable[BaseModel], model: type[BaseModel], fmt: ExportFormat, filename: str) -> Response:
    """``rows`` as a streamed CSV or XLSX download named ``filename``; ``rows`` is consumed while sending."""
    columns = list(model.model_fields)
    disposition = {"Content-Disposition": f'attachment; filename="{filename}.{fmt.value}"'}
    if fmt is ExportFormat.CSV:
        return StreamingResponse(
            _csv_chunks(rows, columns), media_type="text/csv; charset=utf-8", headers=disposition
        )
    return StreamingResponse(_xlsx_chunks(rows, columns, filename), media_type=XLSX_TYPE, headers=disposition)
