"""Read a CSV export into numbered records keyed by canonical column names.

Decoding is strict: a file that is not valid in the chosen encoding is refused as a whole, with the line of
the first bad byte, instead of importing mangled names. The delimiter (``,``, ``;`` or tab) is sniffed from
the header line, and header names are matched through aliases so a 1C or spreadsheet export works as is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _csv import Reader

DEFAULT_ENCODING = "utf-8-sig"
_DELIMITERS = ",;\t"


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (encoding, empty file, missing required column)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One data row: its first physical line in the file and its cells by canonical column name."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The stripped cell value, ``""`` when the column is absent or empty."""
        return self.cells.get(column, "").strip()


@dataclass(frozen=True, slots=True)
class CsvSource:
    """The decoded file: its records, the canonical columns found and the header names not recognised."""

    records: list[Record]
    columns: frozenset[str]
    ignored_headers: tuple[str, ...] = field(default=())


def header_key(name: str) -> str:
    """A header name reduced for alias matching.

    >>> header_key("  Phone_Numbers ")
    'phone numbers'
    >>> header_key("Логин-менеджера")
    'логин менеджера'
    """
    return re.sub(r"[\s_\-.]+", " ", name.strip().lower().replace("ё", "е")).strip()  # noqa: RUF001


def decode(data: bytes, encoding: str | None = None) -> str:
    """Decode ``data`` strictly; a bad byte raises :class:`CsvFormatError` naming its line.

    >>> decode("имя".encode("cp1251"))
    Traceback (most recent call last):
    ...
    crm_core.importing.csv_source.CsvFormatError: line 1: the file is not valid UTF-8 (byte 0xe8); \
re-run with --encoding cp1251 if it is a Windows (1C / Excel) export
    """
    chosen = encoding or DEFAULT_ENCODING
    try:
        return data.decode(chosen)
    except LookupError as exc:
        raise CsvFormatError(f"unknown encoding {chosen!r}") from exc
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = " if it is a Windows (1C / Excel) export" if encoding is None else ""
        raise CsvFormatError(
            f"line {line}: the file is not valid {'UTF-8' if encoding is None else chosen} "
            f"(byte 0x{data[exc.start]:02x}); re-run with --encoding cp1251{hint}"
        ) from exc


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(
    data: bytes,
    aliases: Mapping[str, str],
    *,
    required: frozenset[str] = frozenset(),
    repeatable: frozenset[str] = frozenset(),
    encoding: str | None = None,
) -> CsvSource:
    """Parse ``data``; ``aliases`` maps :func:`header_key` forms to canonical column names.

    A ``repeatable`` column may appear several times, also numbered (``Телефон``, ``Телефон 2``,
    ``Мобильный``): its non-empty cells are joined with line breaks into one cell, in header order.
    Any other column counts once; a repeat is listed among the ignored headers.
    """
    text = decode(data, encoding)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise CsvFormatError("line 1: the file is empty or has no header row")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
        return _records(reader, header, aliases, required, repeatable)
    except csv.Error as exc:
        raise CsvFormatError(f"line {reader.line_num}: unreadable CSV ({exc})") from exc


def _canonical(name: str, aliases: Mapping[str, str], repeatable: frozenset[str]) -> str | None:
    """The column a header names; a numbered header (``Телефон 2``) names a repeatable column."""
    key = header_key(name)
    if key in aliases:
        return aliases[key]
    numbered = aliases.get(re.sub(r"\s*\d+$", "", key))
    return numbered if numbered in repeatable else None


def _records(
    reader: Reader,
    header: list[str],
    aliases: Mapping[str, str],
    required: frozenset[str],
    repeatable: frozenset[str],
) -> CsvSource:
    positions: dict[str, list[int]] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        canonical = _canonical(name, aliases, repeatable)
        if canonical is None or (canonical in positions and canonical not in repeatable):
            if name.strip():
                ignored.append(name.strip())
            continue
        positions.setdefault(canonical, []).append(index)
    missing = sorted(required - positions.keys())
    if missing:
        raise CsvFormatError(f"line 1: missing required column(s): {', '.join(missing)}")
    records: list[Record] = []
    start = reader.line_num + 1
    for row in reader:
        if any(cell.strip() for cell in row):
            cells = {
                col: "\n".join(row[i] for i in indexes if i < len(row) and row[i].strip())
                for col, indexes in positions.items()
            }
            records.append(Record(start, cells))
        start = reader.line_num + 1
    return CsvSource(records, frozenset(positions), tuple(ignored))
