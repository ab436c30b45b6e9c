"""Exports stream: rows are read while the file is sent, never gathered first."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator

from fastapi.responses import StreamingResponse
from openpyxl import load_workbook
from pydantic import BaseModel

from callrouter.api.exports import CSV_BATCH_ROWS, ExportFormat, export


class Row(BaseModel):
    id: int
    name: str


class CountingRows:
    """Rows made on demand, counting how many were taken."""

    def __init__(self, total: int) -> None:
        self.total, self.taken = total, 0

    def __iter__(self) -> Iterator[Row]:
        for i in range(self.total):
            self.taken += 1
            yield Row(id=i, name=f"Клиент {i}")


async def _chunks(response: StreamingResponse) -> list[bytes]:
    return [
        bytes(chunk) if not isinstance(chunk, str) else chunk.encode()
        async for chunk in response.body_iterator
    ]


def test_csv_is_sent_a_batch_at_a_time() -> None:
    rows = CountingRows(3 * CSV_BATCH_ROWS + 5)
    response = export(rows, Row, ExportFormat.CSV, "clients")
    assert isinstance(response, StreamingResponse)
    assert rows.taken == 0  # nothing read before sending starts

    async def first_then_rest() -> tuple[int, list[bytes]]:
        iterator = response.body_iterator.__aiter__()
        first = await iterator.__anext__()
        taken_after_first = rows.taken
        rest = [chunk async for chunk in iterator]
        return taken_after_first, [first, *rest]  # type: ignore[list-item]

    taken_after_first, chunks = asyncio.run(first_then_rest())

    assert taken_after_first <= CSV_BATCH_ROWS + 1
    assert len(chunks) == 4
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed[0] == ["id", "name"]
    assert len(parsed) == rows.total + 1
    assert parsed[-1] == [str(rows.total - 1), f"Клиент {rows.total - 1}"]
    assert response.headers["content-disposition"] == 'attachment; filename="clients.csv"'


def test_an_empty_csv_has_the_header_only() -> None:
    chunks = asyncio.run(_chunks(export(iter(()), Row, ExportFormat.CSV, "none")))  # type: ignore[arg-type]
    assert b"".join(chunks).decode() == "\ufeffid,name\r\n"


def test_xlsx_streams_a_workbook_with_every_row() -> None:
    rows = CountingRows(2500)
    response = export(rows, Row, ExportFormat.XLSX, "clients-2026-11-30")
    assert isinstance(response, StreamingResponse)

    book = load_workbook(io.BytesIO(b"".join(asyncio.run(_chunks(response)))), read_only=True)
    values = list(book.active.iter_rows(values_only=True))

    assert values[0] == ("id", "name")
    assert len(values) == 2501
    assert values[-1] == (2499, "Клиент 2499")
